/**
 * The GPU sweep group (src/sweep/gpu-group.ts) against separate runs: a group of SAEs of different architectures
 * (default TopK k 4 with AuxK at d_sae 203 and BatchTopK k 8 at d_sae 150, odd tiny shapes) stepped on ONE uploaded
 * batch per step in one submission gives, for every member, the same per-step sums, final parameters (θ
 * included), Adam moments, dead-latent counters and held-out evaluation as its own GpuSaeEngine run on the same
 * adapter, bit for bit. Also checks that the group uploaded each batch once (queue.writeBuffer into its shared
 * input, never into a member's x) and submitted one command buffer per step phase.
 */
import { GpuSaeEngine } from '../../../src/gpu/sae-engine';
import type { CompareReport } from '../../../src/reference/compare';
import { initSaeParams } from '../../../src/sae/init';
import type { SaeParams, SaeShape, SaeState, StepHyper, StepStats } from '../../../src/sae/types';
import { GpuSweepGroup } from '../../../src/sweep/gpu-group';
import { Rng } from '../../../src/util/rng';
import { type Check, num } from './types';
import { activations, compareExact, conditionReport } from './util';

/** The step sums as one vector (also used by e2e/harness/checks/batchtopk-plan.ts). */
export function statsVector(s: StepStats): number[] {
  return [s.nTokens, s.sse, s.sst, s.l0Sum, s.firedInBatch, s.deadCount, s.auxkLoss, s.sparsityLoss];
}

/** Every tensor of a state, named (parameters, Adam moments, counters). */
export function stateTensors(st: SaeState): [string, Float32Array | Uint32Array][] {
  const out: [string, Float32Array | Uint32Array][] = [];
  for (const [part, params] of [
    ['param', st.params],
    ['adam_m', st.adamM],
    ['adam_v', st.adamV],
  ] as [string, SaeParams][]) {
    for (const [key, t] of Object.entries(params)) if (t) out.push([`${part}.${key}`, t as Float32Array]);
  }
  out.push(['steps_since_fired', st.stepsSinceFired]);
  return out;
}

/** params: rows, dModel, steps, evalRows (default 37, 29, 6, 3·rows − 5), seed. */
export const sweepGpuCheck: Check = async (gpu, p) => {
  const B = num(p, 'rows', 37);
  const D = num(p, 'dModel', 29);
  const steps = num(p, 'steps', 6);
  const evalRows = num(p, 'evalRows', 3 * B - 5);
  const rng = new Rng(num(p, 'seed', 5));
  const shapes: SaeShape[] = [
    { batchSize: B, dModel: D, dSae: 203, k: 4, arch: { architecture: 'topk', auxk: true, kAux: 16 } },
    { batchSize: B, dModel: D, dSae: 150, k: 8, arch: { architecture: 'batchtopk', auxk: false } },
  ];
  const hypers: StepHyper[] = shapes.map((_, i) => ({
    lr: 2e-3 * (i + 1),
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    deadWindowSteps: 2,
    sparsityCoeff: 0,
    auxkDeadWindowSteps: 2,
  }));
  const batches = Array.from({ length: steps }, () => activations(rng, B, D));
  const held = activations(rng, evalRows, D);
  const inits = shapes.map((s, i) => initSaeParams(s, 40 + i, batches[0]));
  const reports: CompareReport[] = [];

  // Separate runs, one engine at a time.
  const single: { stats: StepStats[]; state: SaeState; evalStats: unknown }[] = [];
  for (let i = 0; i < shapes.length; i++) {
    const e = await GpuSaeEngine.create(gpu, shapes[i], inits[i]);
    try {
      const stats: StepStats[] = [];
      for (const x of batches) {
        const s = await e.step(x, hypers[i], true);
        if (!s) throw new Error('step returned no stats');
        stats.push(s);
      }
      single.push({ stats, state: await e.getState(), evalStats: await e.evaluate(held, evalRows) });
    } finally {
      e.destroy();
    }
  }

  // The group: one upload, one submission per step phase.
  const engines = await Promise.all(shapes.map((s, i) => GpuSaeEngine.create(gpu, s, inits[i])));
  const group = new GpuSweepGroup(gpu, engines);
  const queue = gpu.device.queue;
  const writeBuffer = queue.writeBuffer.bind(queue);
  const writes = { shared: 0, member: 0 };
  queue.writeBuffer = ((buffer: GPUBuffer, ...rest: unknown[]) => {
    if (buffer.label.includes('sweep:group:x')) writes.shared++;
    if (buffer.label.includes('sae:x')) writes.member++;
    return (writeBuffer as (...a: unknown[]) => void)(buffer, ...rest);
  }) as typeof queue.writeBuffer;
  try {
    const stats: StepStats[][] = [];
    for (const x of batches) {
      const s = await group.step(x, hypers, true);
      if (!s) throw new Error('group step returned no stats');
      stats.push(s);
    }
    const evals = await group.evaluate(held, evalRows);
    queue.writeBuffer = writeBuffer;
    for (let i = 0; i < shapes.length; i++) {
      const name = `member ${i} (${shapes[i].arch?.architecture} k=${shapes[i].k} S=${shapes[i].dSae})`;
      reports.push(
        compareExact(
          `${name} step sums ×${steps}`,
          stats.flatMap((s) => statsVector(s[i])),
          single[i].stats.flatMap(statsVector),
        ),
      );
      const got = stateTensors(await engines[i].getState());
      const want = stateTensors(single[i].state);
      for (let j = 0; j < want.length; j++)
        reports.push(compareExact(`${name} ${want[j][0]}`, got[j][1], want[j][1]));
      const ge = evals[i] as unknown as Record<string, number | Uint32Array>;
      const we = single[i].evalStats as Record<string, number | Uint32Array>;
      const scalars = ['nTokens', 'sse', 'sst', 'cosSum', 'relErrSum', 'l0Sum'];
      reports.push(
        compareExact(
          `${name} held-out eval sums (${evalRows} rows)`,
          scalars.map((k) => ge[k] as number),
          scalars.map((k) => we[k] as number),
        ),
      );
      reports.push(
        compareExact(
          `${name} held-out fire counts`,
          ge.fireCounts as Uint32Array,
          we.fireCounts as Uint32Array,
        ),
      );
    }
    const chunks = Math.ceil(evalRows / B);
    reports.push(
      conditionReport(
        'one upload per step',
        writes.shared === steps && writes.member === 0 && group.stages.uploads === steps,
        `${writes.shared} writes into the shared input, ${writes.member} into members' x, ${steps} steps`,
      ),
      conditionReport(
        'one submission per step phase for the whole group',
        group.stages.submissions === steps + chunks,
        `${group.stages.submissions} submissions for ${steps} steps + ${chunks} eval chunks`,
      ),
    );
  } finally {
    queue.writeBuffer = writeBuffer;
    group.destroy();
    for (const e of engines) e.destroy();
  }
  return reports;
};
