/**
 * GPU-vs-CPU checks of the architecture kernels (BatchTopK selection and running θ, the dense activation with
 * the JumpReLU STE and the L1 term, dense rows, log-θ Adam, AuxK) on seeded data at the shapes a spec passes
 * (rows R, dModel D, dSae S, k, seed). Tolerances are stated per check.
 */
import { activationBackwardGpu, activationForwardGpu } from '../../../src/gpu/kernels/activation';
import { auxkGpu } from '../../../src/gpu/kernels/auxk';
import { batchTopkGpu } from '../../../src/gpu/kernels/batchtopk';
import { denseRowsGpu } from '../../../src/gpu/kernels/dense-rows';
import { thresholdAdamGpu } from '../../../src/gpu/kernels/threshold';
import {
  activationBackwardCpu,
  activationCountCpu,
  activationForwardCpu,
} from '../../../src/reference/activation';
import { adamCoefficients } from '../../../src/reference/adam';
import { auxkCpu } from '../../../src/reference/auxk';
import { lossGradScale } from '../../../src/reference/backward';
import {
  batchTopkCap,
  batchTopkCompactCpu,
  batchTopkCpu,
  batchTopkMaxRowCount,
  batchTopkThresholdUpdate,
  MAX_COMPACT_K,
} from '../../../src/reference/batchtopk';
import { type CompareReport, compareArrays } from '../../../src/reference/compare';
import { denseRowsCpu } from '../../../src/reference/dense';
import { encoderCpu } from '../../../src/reference/encoder';
import { matmulCpu } from '../../../src/reference/matmul';
import { thresholdAdamCpu } from '../../../src/reference/threshold';
import { initSaeParams } from '../../../src/sae/init';
import { Rng } from '../../../src/util/rng';
import { type Check, type CheckParams, flag, num } from './types';
import { activations, compareExact, compareTopkSets, conditionReport, scaledTol } from './util';

interface Shape {
  rows: number;
  dModel: number;
  dSae: number;
  k: number;
  seed: number;
}

function shapeOf(p: CheckParams): Shape {
  return {
    rows: num(p, 'rows'),
    dModel: num(p, 'dModel', 1),
    dSae: num(p, 'dSae'),
    k: num(p, 'k', 1),
    seed: num(p, 'seed', 1),
  };
}

function tag(name: string, s: Shape): string {
  return `${name} R=${s.rows} D=${s.dModel} S=${s.dSae} k=${s.k}`;
}

/**
 * batchtopk: latents exact, threshold key and min kept key exact, θ after the update within rtol 1e-6, the largest
 * row count and the compacted (index, value) rows exact.
 * params.ties = levels quantises pre so that many values equal the threshold; params.negative shifts most
 * values below 0 so that fewer than k·R are positive; params.first = first step (θ := batch value).
 */
export const batchtopkCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const levels = num(p, 'ties', 0);
  const rng = new Rng(s.seed);
  const pre = rng.normalArray(s.rows * s.dSae);
  if (levels > 0)
    for (let i = 0; i < pre.length; i++) pre[i] = Math.round(pre[i] * (levels / 4)) / (levels / 4);
  if (flag(p, 'negative')) for (let i = 0; i < pre.length; i++) pre[i] -= 3;
  const first = flag(p, 'first');
  const rate = num(p, 'rate', 0.05);
  const theta0 = new Float32Array(s.dSae).fill(0.75);
  const want = batchTopkCpu(pre, s.rows, s.dSae, s.k);
  const maxCount = batchTopkMaxRowCount(want.z, s.rows, s.dSae);
  const kCap = batchTopkCap(maxCount, s.dSae) ?? Math.min(s.dSae, MAX_COMPACT_K);
  const shape = { rows: s.rows, dSae: s.dSae, k: s.k };
  const got = await batchTopkGpu(gpu, pre, theta0, shape, rate, first, kCap);
  const compact = batchTopkCompactCpu(want.z, s.rows, s.dSae, kCap);
  const wantTheta = batchTopkThresholdUpdate(0.75, want.minKeptKey, rate, first ? 1 : 2);
  const t = `${tag('batchtopk', s)}${levels ? ` ties=${levels}` : ''}${flag(p, 'negative') ? ' mostly negative' : ''}`;
  return [
    compareExact(`${t} latents`, got.z, want.z),
    compareExact(
      `${t} threshold key, min kept key`,
      [got.thresholdKey, got.minKeptKey],
      [want.thresholdKey, want.minKeptKey],
    ),
    compareArrays(`${t} running θ`, got.threshold, new Float32Array(s.dSae).fill(wantTheta), {
      atol: 0,
      rtol: 1e-6,
    }),
    compareExact(`${t} largest row count`, [got.maxRowCount], [maxCount]),
    compareExact(`${t} compacted indices (k_cap=${kCap})`, got.indices, compact.indices),
    compareExact(`${t} compacted values (k_cap=${kCap})`, got.values, compact.values),
    conditionReport(
      `${t} keeps ≥ k·R or every positive`,
      want.kept > 0,
      `${want.kept} kept of ${s.rows * s.dSae}`,
    ),
  ];
};

/** Seeded dense-path inputs: x, params with nonzero biases, pre, and ∂z = g·W_decᵀ from a ReLU decode. */
function denseInputs(s: Shape) {
  const rng = new Rng(s.seed);
  const x = activations(rng, s.rows, s.dModel);
  const params = initSaeParams({ dModel: s.dModel, dSae: s.dSae, k: 1, batchSize: s.rows }, s.seed);
  for (let i = 0; i < params.bEnc.length; i++) params.bEnc[i] = rng.normal() * 0.1;
  for (let i = 0; i < params.bDec.length; i++) params.bDec[i] = rng.normal() * 0.3;
  // Non-unit decoder rows, so the L1 term's norm and its gradient are exercised.
  for (let i = 0; i < params.wDec.length; i++) params.wDec[i] *= 0.5 + ((i * 7919) % 13) / 10;
  const fwd = { rows: s.rows, dModel: s.dModel, dSae: s.dSae };
  const pre = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, fwd);
  const z = activationForwardCpu(pre, null, 'relu', s.rows, s.dSae);
  const xHat = matmulCpu(z, params.wDec, params.bDec, { M: s.rows, N: s.dModel, K: s.dSae });
  const rows = denseRowsCpu(x, xHat, params.bDec, lossGradScale(s.rows, s.dModel), s.rows, s.dModel);
  const gz = matmulCpu(rows.g, params.wDec, null, { M: s.rows, N: s.dSae, K: s.dModel, transB: true });
  const gWdec = matmulCpu(z, rows.g, null, { M: s.dSae, N: s.dModel, K: s.rows, transA: true });
  return { rng, x, params, pre, z, xHat, gz, gWdec };
}

function compareBackward(
  t: string,
  got: Awaited<ReturnType<typeof activationBackwardGpu>>,
  want: ReturnType<typeof activationBackwardCpu>,
  wantGwdec: Float32Array,
  z: Float32Array,
  s: Shape,
): CompareReport[] {
  return [
    compareArrays(`${t} ∂pre`, got.gPre, want.gPre, scaledTol(want.gPre, 1e-6, 1e-5)),
    compareArrays(`${t} ∂b_enc`, got.gBenc, want.gBenc, scaledTol(want.gBenc, 1e-5, 1e-4)),
    compareExact(`${t} fire counts`, got.fireCounts, want.fireCounts),
    compareExact(`${t} activation_count`, got.counts, activationCountCpu(z, s.rows, s.dSae)),
    compareArrays(`${t} Σ_r z`, got.zSum, want.zSum, scaledTol(want.zSum, 1e-5, 1e-4)),
    compareArrays(`${t} ‖W_dec,s‖`, got.decNorm, want.decNorm, { atol: 1e-6, rtol: 1e-5 }),
    compareArrays(
      `${t} ∂log θ`,
      got.gLogThreshold,
      want.gLogThreshold,
      scaledTol(want.gLogThreshold, 1e-4, 1e-3),
    ),
    compareArrays(`${t} ∂W_dec`, got.gWdec, wantGwdec, scaledTol(wantGwdec, 1e-5, 1e-4)),
  ];
}

/**
 * jumprelu: JumpReLU forward (exact), backward (∂pre within 1e-6·max + rtol 1e-5, sums rtol 1e-4, STE ∂log θ within
 * 1e-4·max + rtol 1e-3: sums of few window terms), log-θ Adam (θ, m, v within rtol 1e-5). θ_s is set next to
 * pre-activations of latent s so that the rectangle window |pre − θ| < ε/2 holds many of them.
 */
export const jumpreluCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const eps = num(p, 'bandwidth', 0.05);
  const lambdaScaled = num(p, 'lambda', 0.01) / (s.rows * s.dModel);
  const { rng, pre, gz, gWdec, params } = denseInputs(s);
  const theta = new Float32Array(s.dSae);
  for (let j = 0; j < s.dSae; j++) {
    const anchor = pre[rng.int(s.rows) * s.dSae + j];
    theta[j] = Math.max(1e-3, Math.abs(anchor) + (rng.next() - 0.5) * eps);
  }
  const shape = { rows: s.rows, dSae: s.dSae, dModel: s.dModel };
  const zGot = await activationForwardGpu(gpu, pre, theta, 'threshold', shape);
  const z = activationForwardCpu(pre, theta, 'threshold', s.rows, s.dSae);
  const inp = { pre, z, gz, threshold: theta, wDec: params.wDec, gWdec };
  const h = { lambdaScaled, bandwidth: eps };
  const got = await activationBackwardGpu(gpu, inp, 'jumprelu', h, shape);
  const wantGwdec = gWdec.slice();
  const want = activationBackwardCpu({ ...inp, gWdec: wantGwdec }, 'jumprelu', h, shape);
  let window = 0;
  for (let i = 0; i < pre.length; i++) if (Math.abs(pre[i] - theta[i % s.dSae]) < eps / 2) window++;
  const t = `${tag('jumprelu', s)} ε=${eps}`;
  const c = adamCoefficients({ lr: 0.01, beta1: 0, beta2: 0.999, eps: 1e-8 }, 3);
  const m = rng.normalArray(s.dSae, 1e-3);
  const v = Float32Array.from(rng.normalArray(s.dSae, 1e-3), (a) => a * a);
  const adamGot = await thresholdAdamGpu(gpu, theta, m, v, want.gLogThreshold, c);
  const adamWant = { theta: theta.slice(), m: m.slice(), v: v.slice() };
  thresholdAdamCpu(adamWant.theta, adamWant.m, adamWant.v, want.gLogThreshold, c);
  return [
    compareExact(`${t} forward z`, zGot, z),
    ...compareBackward(t, got, want, wantGwdec, z, s),
    conditionReport(
      `${t} exercises the STE window`,
      window > s.dSae / 4,
      `${window} (row, latent) pairs inside`,
    ),
    compareArrays(`${t} log-θ Adam θ`, adamGot.theta, adamWant.theta, { atol: 0, rtol: 1e-5 }),
    compareArrays(`${t} log-θ Adam m`, adamGot.m, adamWant.m, scaledTol(adamWant.m, 1e-6, 1e-5)),
    compareArrays(`${t} log-θ Adam v`, adamGot.v, adamWant.v, scaledTol(adamWant.v, 1e-6, 1e-5)),
  ];
};

/**
 * relu-l1: ReLU forward (exact), backward with the L1 term (same tolerances as jumprelu), the L1 gradient added
 * to ∂W_dec, and masked mode (BatchTopK) on the same data; dense rows (x̂ sums, g, xc) within 1e-5·max + rtol 1e-4.
 */
export const reluL1Check: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const lambdaScaled = num(p, 'lambda', 5) / (s.rows * s.dModel);
  const { pre, z, gz, gWdec, params, x, xHat } = denseInputs(s);
  const shape = { rows: s.rows, dSae: s.dSae, dModel: s.dModel };
  const zGot = await activationForwardGpu(gpu, pre, null, 'relu', shape);
  const inp = { pre, z, gz, threshold: null, wDec: params.wDec, gWdec };
  const h = { lambdaScaled, bandwidth: 1 };
  const t = tag('relu-l1', s);
  const reports: CompareReport[] = [compareExact(`${t} forward z`, zGot, z)];
  for (const mode of ['relu', 'masked'] as const) {
    const got = await activationBackwardGpu(gpu, inp, mode, h, shape);
    const wantGwdec = gWdec.slice();
    const want = activationBackwardCpu({ ...inp, gWdec: wantGwdec }, mode, h, shape);
    reports.push(...compareBackward(`${t} ${mode}`, got, want, wantGwdec, z, s));
  }
  const scale = lossGradScale(s.rows, s.dModel);
  const rowsGot = await denseRowsGpu(gpu, x, xHat, params.bDec, scale, { rows: s.rows, dModel: s.dModel });
  const rowsWant = denseRowsCpu(x, xHat, params.bDec, scale, s.rows, s.dModel);
  reports.push(
    compareArrays(
      `${t} dense rows sums`,
      rowsGot.rowStats,
      rowsWant.rowStats,
      scaledTol(rowsWant.rowStats, 1e-5, 1e-4),
    ),
    compareExact(`${t} dense rows g`, rowsGot.g, rowsWant.g),
    compareExact(`${t} dense rows xc`, rowsGot.xc, rowsWant.xc),
  );
  return reports;
};

/**
 * auxk: AuxK on seeded data with the latents from params.deadFrom on dead (window 5): aux picks as sets (exact),
 * loss, coef and n_dead within rtol 1e-4 (f32 trees vs f64), ∂pre and every gradient within 1e-4·max + rtol 1e-3
 * of the CPU twin (the gradients start from random "main" gradients, so accumulation is checked too).
 * params.deadFrom = d_sae checks that AuxK is off (gradients unchanged, loss 0) when nothing is dead.
 */
export const auxkCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const kAux = num(p, 'kAux');
  const deadFrom = num(p, 'deadFrom', Math.floor(s.dSae / 3));
  const alpha = num(p, 'alpha', 1 / 32);
  const rng = new Rng(s.seed);
  const x = activations(rng, s.rows, s.dModel);
  const params = initSaeParams({ dModel: s.dModel, dSae: s.dSae, k: 1, batchSize: s.rows }, s.seed);
  for (let i = 0; i < params.bEnc.length; i++) params.bEnc[i] = rng.normal() * 0.1;
  for (let i = 0; i < params.bDec.length; i++) params.bDec[i] = rng.normal() * 0.3;
  const pre = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, s);
  const xHat = Float32Array.from(x, (v) => v * 0.7 + 0.1 * rng.normal());
  const ssf = Uint32Array.from({ length: s.dSae }, (_, j) => (j >= deadFrom ? 5 + rng.int(3) : rng.int(5)));
  const main = {
    wEnc: rng.normalArray(s.dModel * s.dSae, 1e-3),
    wDec: rng.normalArray(s.dSae * s.dModel, 1e-3),
    bEnc: rng.normalArray(s.dSae, 1e-3),
    bDec: rng.normalArray(s.dModel, 1e-3),
  };
  const h = { kAux, alpha, deadWindowSteps: 5 };
  const inp = { x, xHat, pre, stepsSinceFired: ssf, params };
  const got = await auxkGpu(gpu, inp, main, h, s);
  const want = {
    wEnc: main.wEnc.slice(),
    wDec: main.wDec.slice(),
    bEnc: main.bEnc.slice(),
    bDec: main.bDec.slice(),
  };
  const aux = auxkCpu(inp, want, h, s);
  const t = `${tag('auxk', s)} k_aux=${kAux} dead=${s.dSae - deadFrom}`;
  const reports: CompareReport[] = [
    compareTopkSets(`${t} aux picks`, got.picks, aux.picks, s.rows, kAux),
    compareArrays(`${t} loss, coef, n_dead`, got.scalars.slice(0, 3), [aux.loss, aux.coef, aux.nDead], {
      atol: 1e-12,
      rtol: 1e-4,
    }),
    compareArrays(`${t} ∂pre (aux pairs)`, got.gradPre, aux.gradPre, scaledTol(aux.gradPre, 1e-4, 1e-3)),
  ];
  for (const key of ['wEnc', 'wDec', 'bEnc', 'bDec'] as const) {
    reports.push(compareArrays(`${t} ∂${key}`, got.grads[key], want[key], scaledTol(want[key], 1e-4, 1e-3)));
  }
  if (deadFrom >= s.dSae) {
    reports.push(
      conditionReport(
        `${t} off when nothing is dead`,
        aux.loss === 0 && got.scalars[0] === 0,
        `loss ${got.scalars[0]}`,
      ),
    );
    for (const key of ['wEnc', 'wDec', 'bEnc', 'bDec'] as const)
      reports.push(compareExact(`${t} ∂${key} unchanged`, got.grads[key], main[key]));
  } else {
    reports.push(conditionReport(`${t} AuxK active`, aux.loss > 0, `loss ${aux.loss}`));
  }
  return reports;
};
