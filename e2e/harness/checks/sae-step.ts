/**
 * Whole-engine checks: one (or a few) GPU training steps against CpuSaeEngine, evaluation, state round trips,
 * determinism, and 50 steps on real activations. Tolerances are stated per check.
 */
import { GpuSaeEngine } from '../../../src/gpu/sae-engine';
import { type CompareReport, compareArrays } from '../../../src/reference/compare';
import { batchTopkSparseCpu, CpuSaeEngine } from '../../../src/reference/sae-engine';
import { ARCHITECTURES } from '../../../src/sae/arch';
import { initSaeParams } from '../../../src/sae/init';
import { mse } from '../../../src/sae/metrics';
import type {
  Architecture,
  SaeParams,
  SaeShape,
  SaeState,
  StepHyper,
  StepStats,
} from '../../../src/sae/types';
import { Rng } from '../../../src/util/rng';
import { parseNpyF32 } from '../npy';
import { type Check, type CheckParams, flag, num } from './types';
import { activations, compareExact, conditionReport, scaledTol } from './util';

/**
 * The engine shape of a check: rows, dModel, dSae, k, and the architecture from params.architecture ('topk' by
 * default), params.auxk, params.kAux, params.bandwidth, params.thresholdInit, params.thresholdLrScale,
 * params.thresholdEmaRate, params.matryoshkaWidths (comma-separated fractions of d_sae) (each optional).
 */
function shapeOf(p: CheckParams): SaeShape {
  const shape: SaeShape = {
    batchSize: num(p, 'rows'),
    dModel: num(p, 'dModel'),
    dSae: num(p, 'dSae'),
    k: num(p, 'k'),
  };
  const architecture = p['architecture'] ?? 'topk';
  if (typeof architecture !== 'string' || !(ARCHITECTURES as readonly string[]).includes(architecture))
    throw new Error(`check parameter "architecture" must be one of ${ARCHITECTURES.join(', ')}`);
  const arch: SaeShape['arch'] = { architecture: architecture as Architecture, auxk: flag(p, 'auxk') };
  for (const key of ['kAux', 'bandwidth', 'thresholdInit', 'thresholdLrScale', 'thresholdEmaRate'] as const) {
    if (p[key] !== undefined) arch[key] = num(p, key);
  }
  const widths = p['matryoshkaWidths'];
  if (typeof widths === 'string') arch.matryoshkaWidths = widths.split(',').map(Number);
  shape.arch = arch;
  return shape;
}

function hyperOf(p: CheckParams): StepHyper {
  return {
    lr: num(p, 'lr', 1e-3),
    beta1: num(p, 'beta1', 0),
    beta2: num(p, 'beta2', 0.999),
    eps: 1e-8,
    deadWindowSteps: num(p, 'window', 2),
    sparsityCoeff: num(p, 'lambda', 0),
    auxkDeadWindowSteps: num(p, 'auxWindow', num(p, 'window', 2)),
  };
}

function tag(name: string, s: SaeShape): string {
  const a = s.arch?.architecture ?? 'topk';
  return `${name} ${a}${s.arch?.auxk ? '+AuxK' : ''} B=${s.batchSize} D=${s.dModel} S=${s.dSae} k=${s.k}`;
}

const KEYS = ['wEnc', 'wDec', 'bEnc', 'bDec'] as const;

/** The parameter keys of a state: the four tensors and θ when the architecture has one. */
function keysOf(params: SaeParams): (keyof SaeParams)[] {
  return params.threshold ? [...KEYS, 'threshold'] : [...KEYS];
}

/** A parameter tensor that must exist (keysOf only lists present ones). */
function tensor(params: SaeParams, key: keyof SaeParams): Float32Array {
  const t = params[key];
  if (!t) throw new Error(`state has no ${key}`);
  return t;
}

function statsVector(s: StepStats | null): number[] {
  return s ? [s.nTokens, s.sse, s.sst, s.l0Sum, s.firedInBatch, s.deadCount, s.auxkLoss, s.sparsityLoss] : [];
}

/** Compare two full states exactly (bitwise floats). */
function compareStatesExact(label: string, got: SaeState, want: SaeState): CompareReport[] {
  const out: CompareReport[] = [];
  for (const part of ['params', 'adamM', 'adamV'] as const) {
    for (const key of keysOf(want[part]))
      out.push(compareExact(`${label} ${part}.${key}`, tensor(got[part], key), tensor(want[part], key)));
  }
  out.push(
    compareExact(
      `${label} t, stepsSinceFired`,
      [got.t, ...got.stepsSinceFired],
      [want.t, ...want.stepsSinceFired],
    ),
  );
  return out;
}

/**
 * sae-step: `steps` (default 1) steps of GpuSaeEngine vs CpuSaeEngine from the same seeded init and batches.
 * Tolerances: parameters atol 2e-6 + rtol 1e-5 (an Adam step moves each element by ≈ lr = 1e-3, so this is 0.2%
 * of one step); Adam m within 1e-4·max|m| + rtol 1e-3 and v within 1e-4·max|v| + rtol 2e-3 (they carry the
 * gradients' f32 rounding, doubled for v ∝ g²); t and steps-since-fired exact; step sums: l0, fired, dead exact,
 * sse and sst rtol 1e-5; AuxK and sparsity losses within 1e-7 + rtol 1e-4; θ (JumpReLU: exp on each side, BatchTopK:
 * its running value) within rtol 1e-5.
 */
export const saeStepCheck: Check = async (gpu, p) => {
  const shape = shapeOf(p);
  const hyper = hyperOf(p);
  const steps = num(p, 'steps', 1);
  const seed = num(p, 'seed', 1);
  const rng = new Rng(seed);
  const batches = Array.from({ length: steps }, () => activations(rng, shape.batchSize, shape.dModel));
  const init = initSaeParams(shape, seed, batches[0]);
  const cpu = new CpuSaeEngine(shape, init);
  const eng = await GpuSaeEngine.create(gpu, shape, init);
  const reports: CompareReport[] = [];
  const t = `${tag('sae step', shape)} β1=${hyper.beta1} steps=${steps}`;
  let auxSeen = 0;
  try {
    for (let i = 0; i < steps; i++) {
      const g = statsVector(await eng.step(batches[i], hyper));
      const c = statsVector(await cpu.step(batches[i], hyper));
      auxSeen = Math.max(auxSeen, g[6]);
      reports.push(
        compareExact(
          `${t} step ${i + 1} nTokens, l0, fired, dead`,
          [g[0], ...g.slice(3, 6)],
          [c[0], ...c.slice(3, 6)],
        ),
      );
      reports.push(
        compareArrays(`${t} step ${i + 1} sse, sst`, g.slice(1, 3), c.slice(1, 3), { atol: 0, rtol: 1e-5 }),
      );
      reports.push(
        compareArrays(`${t} step ${i + 1} auxk loss, sparsity loss`, g.slice(6), c.slice(6), {
          atol: 1e-7,
          rtol: 1e-4,
        }),
      );
    }
    const got = await eng.getState();
    const want = await cpu.getState();
    for (const key of keysOf(want.params)) {
      const tol = key === 'threshold' ? { atol: 0, rtol: 1e-5 } : { atol: 2e-6, rtol: 1e-5 };
      reports.push(compareArrays(`${t} ${key}`, tensor(got.params, key), tensor(want.params, key), tol));
      const m = tensor(want.adamM, key);
      const v = tensor(want.adamV, key);
      reports.push(compareArrays(`${t} Adam m ${key}`, tensor(got.adamM, key), m, scaledTol(m, 1e-4, 1e-3)));
      reports.push(compareArrays(`${t} Adam v ${key}`, tensor(got.adamV, key), v, scaledTol(v, 1e-4, 2e-3)));
    }
    reports.push(
      compareExact(
        `${t} t, stepsSinceFired`,
        [got.t, ...got.stepsSinceFired],
        [want.t, ...want.stepsSinceFired],
      ),
    );
    if (flag(p, 'expectDense')) {
      const dense = batchTopkSparseCpu(batches[0], init, shape) === null;
      reports.push(
        conditionReport(`${t} takes the dense fallback`, dense, 'a token keeps more than 256 latents'),
      );
    }
    if (flag(p, 'expectAuxk')) {
      reports.push(
        conditionReport(`${t} AuxK active in this check`, auxSeen > 0, `max AuxK loss ${auxSeen}`),
      );
    }
  } finally {
    eng.destroy();
  }
  return reports;
};

/**
 * sae-eval: GpuSaeEngine.evaluate vs CpuSaeEngine.evaluate over `evalRows` rows (a partial last chunk when it is
 * not a multiple of the batch size), after two training steps. sse, sst, cosSum, relErrSum within rtol 1e-4;
 * l0Sum and per-latent fire counts exact.
 */
export const saeEvalCheck: Check = async (gpu, p) => {
  const shape = shapeOf(p);
  const hyper = hyperOf(p);
  const rows = num(p, 'evalRows');
  const seed = num(p, 'seed', 1);
  const rng = new Rng(seed);
  const train = activations(rng, 2 * shape.batchSize, shape.dModel);
  const x = activations(rng, rows, shape.dModel);
  const init = initSaeParams(shape, seed, train);
  const cpu = new CpuSaeEngine(shape, init);
  const eng = await GpuSaeEngine.create(gpu, shape, init);
  try {
    const n = shape.batchSize * shape.dModel;
    for (let i = 0; i < 2; i++) {
      await eng.step(train.subarray(i * n, (i + 1) * n), hyper, false);
      await cpu.step(train.subarray(i * n, (i + 1) * n), hyper);
    }
    const got = await eng.evaluate(x, rows);
    const want = await cpu.evaluate(x, rows);
    const t = `${tag('sae eval', shape)} rows=${rows}`;
    return [
      compareArrays(
        `${t} sse, sst, cosSum, relErrSum`,
        [got.sse, got.sst, got.cosSum, got.relErrSum],
        [want.sse, want.sst, want.cosSum, want.relErrSum],
        { atol: 0, rtol: 1e-4 },
      ),
      compareExact(`${t} nTokens, l0Sum`, [got.nTokens, got.l0Sum], [want.nTokens, want.l0Sum]),
      compareExact(`${t} fire counts`, got.fireCounts, want.fireCounts),
    ];
  } finally {
    eng.destroy();
  }
};

/**
 * sae-state: (1) getState → setState into a differently initialised engine → getState is bit-identical;
 * (2) both engines then take the same step and stay bit-identical (resume is exact);
 * (3) an engine fed the same batches with readStats=false ends bit-identical to one that read stats
 *     (determinism: the same seed gives the same curve); (4) setState rejects a wrong shape.
 */
export const saeStateCheck: Check = async (gpu, p) => {
  const shape = shapeOf(p);
  const hyper = hyperOf(p);
  const seed = num(p, 'seed', 1);
  const rng = new Rng(seed);
  const batches = Array.from({ length: 3 }, () => activations(rng, shape.batchSize, shape.dModel));
  const init: SaeParams = initSaeParams(shape, seed, batches[0]);
  const a = await GpuSaeEngine.create(gpu, shape, init);
  const b = await GpuSaeEngine.create(gpu, shape, initSaeParams(shape, seed + 1));
  const c = await GpuSaeEngine.create(gpu, shape, init);
  const t = tag('sae state', shape);
  const reports: CompareReport[] = [];
  try {
    const sa: number[] = [];
    for (const x of batches.slice(0, 2)) sa.push(...statsVector(await a.step(x, hyper)));
    const saved = await a.getState();
    await b.setState(saved);
    reports.push(...compareStatesExact(`${t} round trip`, await b.getState(), saved));
    const s3a = statsVector(await a.step(batches[2], hyper));
    const s3b = statsVector(await b.step(batches[2], hyper));
    reports.push(compareExact(`${t} resumed step sums`, s3b, s3a));
    const stateA = await a.getState();
    reports.push(...compareStatesExact(`${t} resumed step`, await b.getState(), stateA));
    for (const x of batches) await c.step(x, hyper, false);
    reports.push(...compareStatesExact(`${t} determinism (no readback)`, await c.getState(), stateA));
    let rejected = '';
    try {
      await b.setState({ ...saved, stepsSinceFired: new Uint32Array(shape.dSae + 1) });
    } catch (e) {
      rejected = (e as Error).message;
    }
    reports.push(
      conditionReport(
        `${t} setState rejects a wrong shape`,
        /stepsSinceFired/.test(rejected),
        rejected || 'no error',
      ),
    );
  } finally {
    a.destroy();
    b.destroy();
    c.destroy();
  }
  return reports;
};

/**
 * sae-train: `steps` (default 50) GPU steps on real activations fetched from params.url (a 2-D '<f4' .npy),
 * consecutive batches of the first rows. Passes when the mean MSE of the last 5 steps is below
 * params.maxRatio (default 0.5) × the mean of the first 5, every step's stats are finite, and L0 = k on average
 * or less. When params.cpu is true the same steps also run on CpuSaeEngine and every step's MSE must agree within
 * rtol params.curveRtol (default 1e-3).
 */
export const saeTrainCheck: Check = async (gpu, p) => {
  const url = p['url'];
  if (typeof url !== 'string')
    throw new Error('sae-train: parameter "url" (the .npy activations) is required');
  const res = await fetch(url);
  if (!res.ok) throw new Error(`sae-train: fetching ${url} failed with HTTP ${res.status}`);
  const npy = parseNpyF32(await res.arrayBuffer(), url);
  const shape = { ...shapeOf({ ...p, dModel: npy.cols }) };
  const hyper = hyperOf(p);
  const steps = num(p, 'steps', 50);
  const n = shape.batchSize * shape.dModel;
  const usable = Math.floor(npy.rows / shape.batchSize);
  if (usable < 1) throw new Error(`sae-train: ${url} has ${npy.rows} rows, fewer than one batch`);
  const batch = (i: number) => npy.data.subarray((i % usable) * n, ((i % usable) + 1) * n);
  const init = initSaeParams(
    shape,
    num(p, 'seed', 1),
    npy.data.subarray(0, Math.min(npy.rows, 4096) * shape.dModel),
  );
  const eng = await GpuSaeEngine.create(gpu, shape, init);
  const cpu = p['cpu'] === true ? new CpuSaeEngine(shape, init) : null;
  const gpuMse: number[] = [];
  const cpuMse: number[] = [];
  let finite = true;
  let l0 = 0;
  try {
    for (let i = 0; i < steps; i++) {
      const s = await eng.step(batch(i), hyper);
      if (!s) throw new Error('sae-train: step returned no stats');
      finite &&= [s.sse, s.sst].every(Number.isFinite);
      l0 += s.l0Sum / s.nTokens / steps;
      gpuMse.push(mse(s.sse, s.nTokens, shape.dModel));
      if (cpu) {
        const c = await cpu.step(batch(i), hyper);
        cpuMse.push(mse(c.sse, c.nTokens, shape.dModel));
      }
    }
  } finally {
    eng.destroy();
  }
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = avg(gpuMse.slice(0, 5));
  const last = avg(gpuMse.slice(-5));
  const maxRatio = num(p, 'maxRatio', 0.5);
  const t = `${tag('sae train', shape)} ${steps} steps on ${npy.rows}×${npy.cols} real activations`;
  const reports = [
    conditionReport(
      `${t}: loss decreases`,
      finite && last < maxRatio * first,
      `MSE first-5 mean ${first.toPrecision(4)} → last-5 mean ${last.toPrecision(4)} (ratio ${(last / first).toPrecision(3)}, must be < ${maxRatio}); ` +
        `curve ${gpuMse.map((v) => v.toPrecision(3)).join(' ')}`,
    ),
    conditionReport(`${t}: L0 ≤ k`, l0 <= shape.k + 1e-9 && l0 > 0, `mean L0 ${l0.toFixed(2)}, k=${shape.k}`),
  ];
  if (cpu) {
    reports.push(
      compareArrays(`${t}: GPU MSE curve vs CPU`, gpuMse, cpuMse, {
        atol: 0,
        rtol: num(p, 'curveRtol', 1e-3),
      }),
    );
  }
  return reports;
};

/**
 * sae-track: `steps` (default 50) training steps of GpuSaeEngine and CpuSaeEngine side by side, any architecture
 * (λ = params.lambda for JumpReLU and ReLU), from the same seeded init on the same seeded batches, then both
 * evaluate the same held-out rows. This is what lets the 300-step quality runs on the CPU engine in Node
 * (scripts/demo-*.test.ts) stand for the GPU: the two engines must follow the same trajectory, not only agree on
 * one step. Tolerances (they absorb f32 rounding compounding over the steps, and an occasional near-tie picked the
 * other way): every step's MSE within rtol params.curveRtol (default 1e-3); every step's L0 (mean latents per
 * token) within params.l0Atol (default 0.05); AuxK and sparsity losses within 1e-6 + rtol 1e-2; final parameters
 * within 1e-3·max|p| + rtol 1e-2; held-out sse, sst within rtol 1e-3 and L0 within 0.05.
 */
export const saeTrackCheck: Check = async (gpu, p) => {
  const shape = shapeOf(p);
  const hyper = hyperOf(p);
  const steps = num(p, 'steps', 50);
  const seed = num(p, 'seed', 1);
  const rng = new Rng(seed);
  const batches = Array.from({ length: steps }, () => activations(rng, shape.batchSize, shape.dModel));
  const heldOut = activations(rng, 2 * shape.batchSize + 3, shape.dModel);
  const init = initSaeParams(shape, seed, batches[0]);
  const cpu = new CpuSaeEngine(shape, init);
  const eng = await GpuSaeEngine.create(gpu, shape, init);
  const t = `${tag('sae track', shape)} ${steps} steps`;
  const perStep = { gMse: [] as number[], cMse: [] as number[], gL0: [] as number[], cL0: [] as number[] };
  const gLoss: number[] = [];
  const cLoss: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const g = await eng.step(batches[i], hyper);
      const c = await cpu.step(batches[i], hyper);
      if (!g) throw new Error('sae-track: the GPU step returned no stats');
      perStep.gMse.push(mse(g.sse, g.nTokens, shape.dModel));
      perStep.cMse.push(mse(c.sse, c.nTokens, shape.dModel));
      perStep.gL0.push(g.l0Sum / g.nTokens);
      perStep.cL0.push(c.l0Sum / c.nTokens);
      gLoss.push(g.auxkLoss, g.sparsityLoss);
      cLoss.push(c.auxkLoss, c.sparsityLoss);
    }
    const reports: CompareReport[] = [
      compareArrays(`${t}: MSE of every step`, perStep.gMse, perStep.cMse, {
        atol: 0,
        rtol: num(p, 'curveRtol', 1e-3),
      }),
      compareArrays(`${t}: L0 of every step`, perStep.gL0, perStep.cL0, {
        atol: num(p, 'l0Atol', 0.05),
        rtol: 0,
      }),
      compareArrays(`${t}: AuxK and sparsity losses of every step`, gLoss, cLoss, { atol: 1e-6, rtol: 1e-2 }),
    ];
    const got = await eng.getState();
    const want = await cpu.getState();
    for (const key of keysOf(want.params)) {
      const w = tensor(want.params, key);
      reports.push(compareArrays(`${t}: final ${key}`, tensor(got.params, key), w, scaledTol(w, 1e-3, 1e-2)));
    }
    const ge = await eng.evaluate(heldOut, 2 * shape.batchSize + 3);
    const ce = await cpu.evaluate(heldOut, 2 * shape.batchSize + 3);
    reports.push(
      compareArrays(`${t}: held-out sse, sst`, [ge.sse, ge.sst], [ce.sse, ce.sst], { atol: 0, rtol: 1e-3 }),
      compareArrays(`${t}: held-out L0`, [ge.l0Sum / ge.nTokens], [ce.l0Sum / ce.nTokens], {
        atol: 0.05,
        rtol: 0,
      }),
    );
    const first = perStep.gMse.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const last = perStep.gMse.slice(-5).reduce((a, b) => a + b, 0) / 5;
    reports.push(
      conditionReport(
        `${t}: the run trains`,
        last < first,
        `MSE first-5 mean ${first.toPrecision(4)} → last-5 ${last.toPrecision(4)}`,
      ),
    );
    return reports;
  } finally {
    eng.destroy();
  }
};
