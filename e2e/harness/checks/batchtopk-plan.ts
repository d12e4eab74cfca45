/**
 * BatchTopK without a per-step readback (issue 17):
 *  - batchtopk-plan: the plan kernel (shaders/batchtopk-plan.wgsl) against its CPU twin (batchTopkPlanCpu) for
 *    fullest-row counts on every side of each bucket edge and the dense fallback, exact (cap and every argument).
 *  - batchtopk-steps: `steps` BatchTopK training steps with readStats = false on the default engine (GPU plan)
 *    against the same steps on an engine that plans by readback (the former path, `batchTopkReadback`): final step
 *    sums, parameters (θ included), Adam moments and counters bit for bit; and, while the default engine steps,
 *    no GPUBuffer.mapAsync call at all and one queue.submit per step.
 */
import { createBatchTopKPlan, DENSE_GATE } from '../../../src/gpu/kernels/batchtopk-plan';
import { GpuSaeEngine } from '../../../src/gpu/sae-engine';
import { compactCaps } from '../../../src/gpu/step-paths/sparse-batchtopk';
import { batchTopkPlanCpu } from '../../../src/reference/batchtopk-plan';
import type { CompareReport } from '../../../src/reference/compare';
import { initSaeParams } from '../../../src/sae/init';
import type { SaeShape, StepHyper } from '../../../src/sae/types';
import { Rng } from '../../../src/util/rng';
import { stateTensors, statsVector } from './sweep-gpu';
import { type Check, num } from './types';
import { activations, compareExact, conditionReport } from './util';

/** params: dSae (default 203), slots (default 37), seed. */
export const batchtopkPlanCheck: Check = async (gpu, p) => {
  const S = num(p, 'dSae', 203);
  const slots = num(p, 'slots', 37);
  const rng = new Rng(num(p, 'seed', 1));
  const gateValues = [...compactCaps(S), DENSE_GATE, 7];
  const gates = new Uint32Array(slots * 4);
  for (let i = 0; i < slots - 2; i++) {
    gates.set([rng.int(900) + 1, rng.int(3) + 1, 1, gateValues[rng.int(gateValues.length)]], 4 * i);
  }
  const counts = [0, 1, 15, 16, 17, 32, 33, 64, 65, 128, 129, S - 1, S, S + 1, 255, 256, 257, 5000];
  const kernel = createBatchTopKPlan(gpu, { dSae: S, slots });
  const state = gpu.storage('check:batchtopk-plan:state', 8 * 4);
  const reports: CompareReport[] = [];
  try {
    gpu.write(kernel.gates, gates);
    for (const maxCount of counts) {
      gpu.write(state, new Uint32Array([0, 0, 0, 0, maxCount, 7, 0, 0]));
      await gpu.run('check:batchtopk-plan', (pass) => kernel.encodePlan(pass, state));
      const want = batchTopkPlanCpu(maxCount, S, gates);
      const cap = (await gpu.readU32(state, 8))[5];
      const args = await gpu.readU32(kernel.args, slots * 3);
      reports.push(
        compareExact(
          `batchtopk-plan S=${S} max count ${maxCount}: cap, args`,
          [cap, ...args],
          [want.cap, ...want.args],
        ),
      );
    }
  } finally {
    kernel.destroy();
    state.destroy();
  }
  return reports;
};

/** params: rows, dModel, dSae, k, steps (default 5), auxk, seed. */
export const batchtopkStepsCheck: Check = async (gpu, p) => {
  const shape: SaeShape = {
    batchSize: num(p, 'rows'),
    dModel: num(p, 'dModel'),
    dSae: num(p, 'dSae'),
    k: num(p, 'k'),
    arch: { architecture: 'batchtopk', auxk: p['auxk'] === true, kAux: 9 },
  };
  const steps = num(p, 'steps', 5);
  const seed = num(p, 'seed', 1);
  const rng = new Rng(seed);
  const hyper: StepHyper = {
    lr: 2e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    deadWindowSteps: 2,
    sparsityCoeff: 0,
    auxkDeadWindowSteps: 1,
  };
  const batches = Array.from({ length: steps }, () => activations(rng, shape.batchSize, shape.dModel));
  const init = initSaeParams(shape, seed, batches[0]);
  const t = `batchtopk steps B=${shape.batchSize} D=${shape.dModel} S=${shape.dSae} k=${shape.k} ×${steps}`;
  const run = async (readback: boolean) => {
    const e = await GpuSaeEngine.create(gpu, shape, init, { batchTopkReadback: readback });
    try {
      const proto = GPUBuffer.prototype;
      const mapAsync = proto.mapAsync;
      const queue = gpu.device.queue;
      const submit = queue.submit;
      const seen = { maps: 0, submits: 0 };
      proto.mapAsync = function (this: GPUBuffer, ...a: Parameters<GPUBuffer['mapAsync']>) {
        seen.maps++;
        return mapAsync.apply(this, a);
      };
      queue.submit = (bufs: Iterable<GPUCommandBuffer>) => {
        seen.submits++;
        return submit.call(queue, bufs);
      };
      try {
        for (const x of batches) await e.step(x, hyper, false);
      } finally {
        proto.mapAsync = mapAsync;
        queue.submit = submit;
      }
      return { seen, needsPlan: e.needsPlan, stats: await e.readStepStats(), state: await e.getState() };
    } finally {
      e.destroy();
    }
  };
  const gpuPlan = await run(false);
  const hostPlan = await run(true);
  const reports: CompareReport[] = [
    conditionReport(
      `${t}: no readback while stepping`,
      gpuPlan.seen.maps === 0 && !gpuPlan.needsPlan,
      `${gpuPlan.seen.maps} mapAsync calls (the readback plan made ${hostPlan.seen.maps}), needsPlan ${gpuPlan.needsPlan}`,
    ),
    conditionReport(
      `${t}: one submission per step`,
      gpuPlan.seen.submits === steps,
      `${gpuPlan.seen.submits} submissions for ${steps} steps`,
    ),
    compareExact(`${t} last step sums`, statsVector(gpuPlan.stats), statsVector(hostPlan.stats)),
  ];
  const want = stateTensors(hostPlan.state);
  const got = stateTensors(gpuPlan.state);
  for (let i = 0; i < want.length; i++)
    reports.push(compareExact(`${t} ${want[i][0]}`, got[i][1], want[i][1]));
  return reports;
};
