/**
 * Host wrapper for shaders/batchtopk-plan.wgsl: the BatchTopK step's bucket plan computed on the GPU, and the gated
 * dispatches it drives, so a BatchTopK step is one submission with no readback (CPU twin:
 * src/reference/batchtopk-plan.ts).
 *
 * Gating: {@link BatchTopKPlanKernel.gated} wraps a compute pass so that every dispatch a kernel wrapper records
 * through it (Gpu.dispatch → setPipeline, setBindGroup, dispatchWorkgroups) becomes `dispatchWorkgroupsIndirect`
 * from its own slot of the args buffer; the slot's (x, y, z) and gate are stored in the gates table (written with
 * queue.writeBuffer only when they change, i.e. on the first step). batchtopk_plan then zeroes every slot whose
 * gate is not the chosen bucket. Slots are numbered in recording order from {@link BatchTopKPlanKernel.begin}, so a
 * step must record its gated dispatches in the same order every time (the step paths do).
 */
import planWgsl from '../../../shaders/batchtopk-plan.wgsl?raw';
import { type Gpu, GpuError, type ShaderSource } from '../device';
import { needBuffer, oneShot, positiveInt, wgSize } from './common';

export const batchtopkPlanShader: ShaderSource = { name: 'batchtopk-plan', code: planWgsl };

/** Gate of the dense fallback (a row keeps more than 256 latents); sparse buckets use their k_cap as gate. */
export const DENSE_GATE = 0;

/** The plan kernel with its gates table and indirect args buffer. */
export interface BatchTopKPlanKernel {
  /** Most gated dispatches per step. */
  readonly slots: number;
  /** u32 [slots, 3] indirect arguments (INDIRECT | STORAGE). */
  readonly args: GPUBuffer;
  /** u32 [slots, 4] (x, y, z, gate) per recorded dispatch. */
  readonly gates: GPUBuffer;
  /** Record batchtopk_plan: reads state[4], writes state[5] = cap and the args. @param state u32 [8] */
  encodePlan(pass: GPUComputePassEncoder, state: GPUBuffer): void;
  /** Restart slot numbering: call before recording a step's gated dispatches. */
  begin(): void;
  /**
   * A pass whose dispatches run only when the plan picks `gate` (a k_cap, or {@link DENSE_GATE}). It supports
   * what Gpu.dispatch uses: setPipeline, setBindGroup, dispatchWorkgroups.
   * @throws GpuError (when a dispatch is recorded) if more than `slots` dispatches are gated in one step.
   */
  gated(pass: GPUComputePassEncoder, gate: number): GPUComputePassEncoder;
  destroy(): void;
}

/** @throws GpuError on a non-positive size. */
export function createBatchTopKPlan(
  gpu: Gpu,
  shape: { dSae: number; slots: number },
  label = 'batchtopk-plan',
): BatchTopKPlanKernel {
  const { dSae: S, slots } = shape;
  positiveInt(label, 'd_sae', S);
  positiveInt(label, 'slots', slots);
  const pipe = gpu.pipeline(
    batchtopkPlanShader,
    'batchtopk_plan',
    ['uniform', 'storage', 'read-only-storage', 'storage'],
    { WG: wgSize(gpu, 64) },
  );
  const params = gpu.uniform(`${label}:params`, new Uint32Array([S, slots, 0, 0]));
  const table = new Uint32Array(slots * 4);
  const gates = gpu.storage(`${label}:gates`, table);
  const args = gpu.createBuffer(
    `${label}:args`,
    slots * 3 * 4,
    GPUBufferUsage.INDIRECT | GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  );
  let next = 0;
  return {
    slots,
    args,
    gates,
    encodePlan(pass, state) {
      needBuffer(label, 'state', state, 8);
      gpu.dispatch(pass, pipe, [params, state, gates, args], [1]);
    },
    begin() {
      next = 0;
    },
    gated(pass, gate) {
      return {
        label: `${pass.label}:gate${gate}`,
        setPipeline: (p: GPUComputePipeline) => pass.setPipeline(p),
        setBindGroup: (i: number, g: GPUBindGroup) => pass.setBindGroup(i, g),
        dispatchWorkgroups(x: number, y = 1, z = 1) {
          const slot = next++;
          if (slot >= slots) throw new GpuError(`${label}: more than ${slots} gated dispatches in one step`);
          const row = [x, y, z, gate];
          if (row.some((v, c) => table[4 * slot + c] !== v)) {
            table.set(row, 4 * slot);
            gpu.write(gates, table.subarray(4 * slot, 4 * slot + 4), 16 * slot);
          }
          pass.dispatchWorkgroupsIndirect(args, 12 * slot);
        },
      } as unknown as GPUComputePassEncoder;
    },
    destroy() {
      for (const b of [params, gates, args]) b.destroy();
    },
  };
}

/**
 * One-shot plan for tests: state[4] = maxCount, the gates table as given; returns state[5] and the args.
 * @param gates u32 [slots, 4]
 */
export async function batchTopkPlanGpu(
  gpu: Gpu,
  maxCount: number,
  dSae: number,
  gates: Uint32Array,
): Promise<{ cap: number; args: Uint32Array }> {
  const slots = gates.length / 4;
  const kernel = createBatchTopKPlan(gpu, { dSae, slots });
  gpu.write(kernel.gates, gates);
  const state = gpu.storage('batchtopk-plan:state', new Uint32Array([0, 0, 0, 0, maxCount, 7, 0, 0]));
  return oneShot(
    gpu,
    'batchtopk-plan',
    [state],
    (pass) => kernel.encodePlan(pass, state),
    async () => ({ cap: (await gpu.readU32(state, 8))[5], args: await gpu.readU32(kernel.args, slots * 3) }),
    () => kernel.destroy(),
  );
}
