/**
 * GPU-vs-CPU checks of every TopK SAE kernel, on seeded data at the shapes a spec passes
 * (rows R, dModel D, dSae S, k, seed). Tolerances are stated per check.
 */
import { adamGpu } from '../../../src/gpu/kernels/adam';
import { backwardGpu } from '../../../src/gpu/kernels/backward';
import { decodeGpu } from '../../../src/gpu/kernels/decode';
import { decoderConstraintGpu } from '../../../src/gpu/kernels/decoder-constraint';
import { defaultEncoderVariant, encoderGpu, encoderPlan } from '../../../src/gpu/kernels/encoder';
import {
  clearEncoderTileCache,
  ENCODER_TILE_CANDIDATES,
  type EncoderTile,
  encoderTileFor,
  sameTile,
  tileName,
} from '../../../src/gpu/kernels/encoder-tiles';
import { autotuneEncoderTile } from '../../../src/gpu/kernels/encoder-tune';
import { nonFiniteGpu } from '../../../src/gpu/kernels/nonfinite';
import { statsGpu } from '../../../src/gpu/kernels/stats';
import { topkGpu } from '../../../src/gpu/kernels/topk';
import { adamCoefficients, adamCpu } from '../../../src/reference/adam';
import { backwardCpu } from '../../../src/reference/backward';
import { compareArrays } from '../../../src/reference/compare';
import { decodeCpu } from '../../../src/reference/decode';
import { normalizeDecoderRowsCpu, projectDecoderGradCpu } from '../../../src/reference/decoder-constraint';
import { encoderCpu } from '../../../src/reference/encoder';
import { hasNonFiniteCpu } from '../../../src/reference/nonfinite';
import { stepStatsCpu } from '../../../src/reference/stats';
import { topkCpu } from '../../../src/reference/topk';
import { initSaeParams } from '../../../src/sae/init';
import { Rng } from '../../../src/util/rng';
import { subgroupOption, sumRtol } from './subgroups';
import { type Check, type CheckParams, num } from './types';
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
    dModel: num(p, 'dModel'),
    dSae: num(p, 'dSae'),
    k: num(p, 'k'),
    seed: num(p, 'seed', 1),
  };
}

function tag(name: string, s: Shape): string {
  return `${name} R=${s.rows} D=${s.dModel} S=${s.dSae} k=${s.k}`;
}

/** Seeded SAE parameters with nonzero biases (so b_dec and b_enc paths are exercised). */
function randomParams(s: Shape, rng: Rng) {
  const p = initSaeParams({ dModel: s.dModel, dSae: s.dSae, k: s.k, batchSize: s.rows }, s.seed);
  for (let i = 0; i < p.bEnc.length; i++) p.bEnc[i] = rng.normal() * 0.1;
  for (let i = 0; i < p.bDec.length; i++) p.bDec[i] = rng.normal() * 0.3;
  return p;
}

/** Seeded forward inputs shared by decode/backward checks: x, params, TopK of the CPU encoder. */
function forwardInputs(s: Shape) {
  const rng = new Rng(s.seed);
  const x = activations(rng, s.rows, s.dModel);
  const params = randomParams(s, rng);
  const fwd = { rows: s.rows, dModel: s.dModel, dSae: s.dSae, k: s.k };
  const pre = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, fwd);
  const top = topkCpu(pre, s.rows, s.dSae, s.k);
  return { x, params, fwd, pre, top };
}

/**
 * encoder-tune: the start-up autotune (src/gpu/kernels/encoder-tune.ts) on a tiny probe picks one of the candidate
 * tiles, a second call is served from the cache, and the encoder built afterwards (with the tuned tile, by default)
 * still matches its CPU twin at the given odd shape.
 */
export const encoderTuneCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  clearEncoderTileCache();
  const first = await autotuneEncoderTile(gpu, {
    probe: { rows: 33, dModel: 17, dSae: 65 },
    reps: 1,
    budgetMs: 0, // the default tile only (the budget is checked before each further candidate): one compile
    force: true,
  });
  const again = await autotuneEncoderTile(gpu);
  const tried = Object.keys(first.candidatesMs).length;
  const picked = encoderTileFor(gpu);
  const reports = [
    conditionReport(
      'encoder-tune picks a candidate',
      !first.cached && tried >= 1 && ENCODER_TILE_CANDIDATES.some((c) => sameTile(c, picked)),
      `tried ${JSON.stringify(first.candidatesMs)}, picked ${JSON.stringify(picked)}`,
    ),
    conditionReport(
      'encoder-tune cached per adapter',
      again.cached && JSON.stringify(again.tile) === JSON.stringify(first.tile),
      `second call cached=${again.cached}, key ${again.adapterKey}`,
    ),
  ];
  const rng = new Rng(s.seed);
  const x = activations(rng, s.rows, s.dModel);
  const params = randomParams(s, rng);
  const fwd = { rows: s.rows, dModel: s.dModel, dSae: s.dSae };
  const got = await encoderGpu(gpu, x, params.wEnc, params.bEnc, params.bDec, fwd);
  const want = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, fwd);
  reports.push(
    compareArrays(`${tag('encoder (tuned tile)', s)} pre`, got, want, scaledTol(want, 1e-5, 1e-5)),
  );
  clearEncoderTileCache();
  return reports;
};

/**
 * encoder: pre-activations within atol 1e-5·max|pre| + rtol 1e-5 (f32 sums in the same d order).
 * params.variant: 'tiled' or 'direct' (default: the adapter's default); params.wgX, wgY, bk (and optionally rm, rn,
 * vec4 = 1): a tile (src/gpu/kernels/encoder-tiles.ts). params.expectVec4 = 0 or 1: also report whether the vec4
 * shader ran, as the wrapper's rule (encoderPlan) should decide for this shape.
 */
export const encoderCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const variant =
    p['variant'] === 'tiled' || p['variant'] === 'direct' ? p['variant'] : defaultEncoderVariant(gpu);
  const rng = new Rng(s.seed);
  const x = activations(rng, s.rows, s.dModel);
  const params = randomParams(s, rng);
  const fwd = { rows: s.rows, dModel: s.dModel, dSae: s.dSae };
  const tile: EncoderTile | undefined =
    typeof p['wgX'] === 'number'
      ? {
          wgX: num(p, 'wgX'),
          wgY: num(p, 'wgY'),
          bk: num(p, 'bk'),
          rm: num(p, 'rm', 4),
          rn: num(p, 'rn', 4),
          vec4: p['vec4'] === true || p['vec4'] === 1,
        }
      : undefined;
  const plan = encoderPlan(gpu, fwd, variant, tile ?? encoderTileFor(gpu));
  const got = await encoderGpu(gpu, x, params.wEnc, params.bEnc, params.bDec, fwd, variant, tile);
  const want = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, fwd);
  const name = `encoder (${variant}${tile ? ` ${tileName(tile)}` : ''} → ${plan.entryPoint})`;
  const reports = [compareArrays(`${tag(name, s)} pre`, got, want, scaledTol(want, 1e-5, 1e-5))];
  if (typeof p['expectVec4'] === 'number') {
    reports.push(
      conditionReport(
        `${tag(name, s)} vec4 shader chosen = ${p['expectVec4'] === 1}`,
        plan.vec4 === (p['expectVec4'] === 1),
        `encoderPlan picked ${plan.entryPoint} (vec4 ${plan.vec4})`,
      ),
    );
  }
  return reports;
};

/**
 * topk: GPU and CPU picks on the same pre-activations compared as (index, value) sets per row (exact), plus the
 * documented order (value descending, ties by lower index), exactly. params.ties = levels: quantise the inputs
 * to that many distinct values so most rows have ties at the threshold.
 */
export const topkCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const levels = num(p, 'ties', 0);
  const rng = new Rng(s.seed);
  const pre = rng.normalArray(s.rows * s.dSae);
  if (levels > 0)
    for (let i = 0; i < pre.length; i++) pre[i] = Math.round(pre[i] * (levels / 4)) / (levels / 4);
  const shape = { rows: s.rows, dSae: s.dSae, k: s.k };
  const opts = subgroupOption(p);
  const got = await topkGpu(gpu, pre, shape, opts);
  const want = topkCpu(pre, s.rows, s.dSae, s.k);
  const t = `${tag('topk', s)}${levels ? ` ties=${levels}` : ''}${opts.subgroups === undefined ? '' : ` subgroups=${opts.subgroups}`}`;
  return [
    compareTopkSets(`${t} sets`, got, want, s.rows, s.k),
    compareExact(`${t} ordered indices`, got.indices, want.indices),
    compareExact(`${t} ordered values`, got.values, want.values),
  ];
};

/** decode: x̂ within 1e-5·max|x̂| + rtol 1e-5; row sums within 1e-5·max + rtol 1e-4 (tree vs sequential sums). */
export const decodeCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const { x, params, fwd, top } = forwardInputs(s);
  const shape = { ...fwd, k: s.k };
  const got = await decodeGpu(gpu, x, top.indices, top.values, params.wDec, params.bDec, shape);
  const want = decodeCpu(x, top.indices, top.values, params.wDec, params.bDec, shape);
  return [
    compareArrays(`${tag('decode', s)} x̂`, got.xHat, want.xHat, scaledTol(want.xHat, 1e-5, 1e-5)),
    compareArrays(
      `${tag('decode', s)} row sums`,
      got.rowStats,
      want.rowStats,
      scaledTol(want.rowStats, 1e-5, 1e-4),
    ),
  ];
};

/**
 * backward: every gradient within atol 1e-5·max|want| + rtol 1e-4 (same summation order except ∂b_dec's tree
 * reductions); fire counts exact. b_enc is shifted by −2 so that some picks are ≤ 0 (ReLU-masked).
 */
export const backwardCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const { x, params, fwd } = forwardInputs(s);
  // Shift b_enc down so that some TopK picks are ≤ 0 (zero latents, ReLU-masked gradient).
  for (let i = 0; i < s.dSae; i++) params.bEnc[i] -= 2;
  const pre = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, fwd);
  const top = topkCpu(pre, s.rows, s.dSae, s.k);
  const shape = { ...fwd, k: s.k };
  const { xHat } = decodeCpu(x, top.indices, top.values, params.wDec, params.bDec, shape);
  const got = await backwardGpu(gpu, x, top.indices, top.values, xHat, params, shape);
  const want = backwardCpu(x, top.indices, top.values, xHat, params, shape);
  const t = tag('backward', s);
  const reports = [
    compareArrays(`${t} ∂pre`, got.gradPre, want.gradPre, scaledTol(want.gradPre, 1e-5, 1e-4)),
    compareArrays(`${t} ∂W_dec`, got.grads.wDec, want.grads.wDec, scaledTol(want.grads.wDec, 1e-5, 1e-4)),
    compareArrays(`${t} ∂W_enc`, got.grads.wEnc, want.grads.wEnc, scaledTol(want.grads.wEnc, 1e-5, 1e-4)),
    compareArrays(`${t} ∂b_enc`, got.grads.bEnc, want.grads.bEnc, scaledTol(want.grads.bEnc, 1e-5, 1e-4)),
    compareArrays(`${t} ∂b_dec`, got.grads.bDec, want.grads.bDec, scaledTol(want.grads.bDec, 1e-5, 1e-4)),
    compareExact(`${t} fire counts`, got.fireCounts, want.fireCounts),
  ];
  const masked = top.values.filter((v) => !(v > 0)).length;
  reports.push(
    conditionReport(`${t} exercises ReLU-masked picks`, masked > 0, `${masked} picks with value ≤ 0`),
  );
  return reports;
};

/** decoder constraint: projected ∂W_dec within 1e-5·max + rtol 1e-4; renormalised W_dec within 1e-6 + rtol 1e-5. */
export const decoderConstraintCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const rng = new Rng(s.seed);
  const wDec = rng.normalArray(s.dSae * s.dModel, 0.5);
  for (let d = 0; d < s.dModel; d++) wDec[3 * s.dModel + d] = 0; // a zero row is left alone
  const g = rng.normalArray(s.dSae * s.dModel, 1e-3);
  const shape = { dSae: s.dSae, dModel: s.dModel };
  const got = await decoderConstraintGpu(gpu, wDec, g, shape);
  const wantG = g.slice();
  projectDecoderGradCpu(wantG, wDec, s.dSae, s.dModel);
  const wantW = wDec.slice();
  normalizeDecoderRowsCpu(wantW, s.dSae, s.dModel);
  const t = `decoder constraint S=${s.dSae} D=${s.dModel}`;
  return [
    compareArrays(`${t} projected ∂W_dec`, got.gWdec, wantG, scaledTol(wantG, 1e-5, 1e-4)),
    compareArrays(`${t} unit-norm W_dec`, got.wDec, wantW, { atol: 1e-6, rtol: 1e-5 }),
  ];
};

/** adam: params, m, v after one step at step number params.t with params.beta1; atol 1e-7 + rtol 1e-5. */
export const adamCheck: Check = async (gpu, p) => {
  const n = num(p, 'n');
  const t = num(p, 't', 1);
  const beta1 = num(p, 'beta1', 0);
  const rng = new Rng(num(p, 'seed', 1));
  const param = rng.normalArray(n);
  const m = t > 1 ? rng.normalArray(n, 1e-3) : new Float32Array(n);
  const v = t > 1 ? Float32Array.from(rng.normalArray(n, 1e-3), (x) => x * x) : new Float32Array(n);
  const g = rng.normalArray(n, 1e-3);
  for (let i = 0; i < n; i += 11) g[i] = 0;
  const c = adamCoefficients({ lr: 1e-3, beta1, beta2: 0.999, eps: 1e-8 }, t);
  const got = await adamGpu(gpu, param, m, v, g, c);
  const want = { param: param.slice(), m: m.slice(), v: v.slice() };
  adamCpu(want.param, want.m, want.v, g, c);
  const label = `adam n=${n} t=${t} β1=${beta1}`;
  const tol = { atol: 1e-7, rtol: 1e-5 };
  return [
    compareArrays(`${label} param`, got.param, want.param, tol),
    compareArrays(`${label} m`, got.m, want.m, scaledTol(want.m, 1e-6, 1e-5)),
    compareArrays(`${label} v`, got.v, want.v, scaledTol(want.v, 1e-6, 1e-5)),
  ];
};

/**
 * stats: sse and sst within the n·eps bound of sumRtol (f32 sums in any order vs f64); l0, fired, dead and the
 * steps-since-fired counters exact. params.subgroups (optional): force the subgroup variant on or off.
 */
export const statsCheck: Check = async (gpu, p) => {
  const s = shapeOf(p);
  const window = num(p, 'window', 3);
  const { x, params, fwd, top } = forwardInputs(s);
  const { rowStats } = decodeCpu(x, top.indices, top.values, params.wDec, params.bDec, { ...fwd, k: s.k });
  const rng = new Rng(s.seed + 1);
  const fire = Uint32Array.from({ length: s.dSae }, () => (rng.next() < 0.4 ? rng.int(5) + 1 : 0));
  const ssf = Uint32Array.from({ length: s.dSae }, () => rng.int(2 * window));
  ssf[0] = 0xffffffff; // saturates
  fire[0] = 0;
  const opts = subgroupOption(p);
  const shape = { rows: s.rows, dModel: s.dModel };
  const got = await statsGpu(gpu, x, rowStats, fire, ssf, window, shape, opts);
  const wantSsf = ssf.slice();
  const want = stepStatsCpu(x, rowStats, fire, wantSsf, window, s.rows, s.dModel);
  const t = `${tag('stats', s)}${opts.subgroups === undefined ? '' : ` subgroups=${opts.subgroups}`}`;
  // Float32 sums in any order (tree, subgroups) against the twin's float64 (see sumRtol): sse adds R non-negative
  // exact inputs; sst adds R·D non-negative terms (x − m̂)², each with ≤ 3 roundings, and the column mean m̂'s own
  // error enters only squared (Σ(x − m̂)² = Σ(x − m)² + R(m̂ − m)²), far below this bound.
  const sseTol = { atol: 0, rtol: sumRtol(s.rows - 1) };
  const sstTol = { atol: 0, rtol: sumRtol(s.rows * s.dModel + 3) };
  return [
    compareArrays(`${t} sse`, [got.stats.sse], [want.sse], sseTol),
    compareArrays(`${t} sst`, [got.stats.sst], [want.sst], sstTol),
    compareExact(
      `${t} nTokens, l0, fired, dead`,
      [got.stats.nTokens, got.stats.l0Sum, got.stats.firedInBatch, got.stats.deadCount],
      [want.nTokens, want.l0Sum, want.firedInBatch, want.deadCount],
    ),
    compareExact(`${t} steps since fired`, got.stepsSinceFired, wantSsf),
  ];
};

/**
 * nonfinite: the flag word (0/1) against hasNonFiniteCpu, exact, on seeded data of n elements: all finite, then one
 * NaN, +Inf, −Inf at a seeded odd position, and the largest finite float (must stay clear).
 */
export const nonFiniteCheck: Check = async (gpu, p) => {
  const n = num(p, 'n');
  const rng = new Rng(num(p, 'seed', 1));
  const base = rng.normalArray(n);
  const at = rng.int(n);
  const cases: [string, Float32Array][] = [['finite', base]];
  for (const [name, v] of [
    ['NaN', Number.NaN],
    ['+Inf', Number.POSITIVE_INFINITY],
    ['-Inf', Number.NEGATIVE_INFINITY],
    ['max finite', 3.4028234663852886e38],
  ] as const) {
    const x = base.slice();
    x[at] = v;
    cases.push([name, x]);
  }
  const got: number[] = [];
  const want: number[] = [];
  for (const [, x] of cases) {
    got.push(await nonFiniteGpu(gpu, x));
    want.push(hasNonFiniteCpu(x) ? 1 : 0);
  }
  return [compareExact(`nonfinite n=${n} at=${at} [${cases.map((c) => c[0]).join(', ')}]`, got, want)];
};
