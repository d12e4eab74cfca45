/**
 * Subgroup variants (src/gpu/kernels/subgroups.ts): the option the checks pass, the tolerance of a reordered float
 * sum, the evaluation reduction (shaders/eval.wgsl, twin addEvalRowSums) and the sparsity/AuxK stats words
 * (shaders/arch-stats.wgsl, twin sparsityLossOf) at odd lengths. TopK
 * and the step stats take the same option in e2e/harness/checks/kernels.ts.
 */
import { createArchStats } from '../../../src/gpu/kernels/arch-stats';
import { createEvalReduce, EVAL_CHUNK_WORDS } from '../../../src/gpu/kernels/eval';
import { type CompareReport, compareArrays } from '../../../src/reference/compare';
import { addEvalRowSums, sparsityLossOf } from '../../../src/reference/sae-engine';
import { resolveArch } from '../../../src/sae/arch';
import { ROW_STATS } from '../../../src/sae/kernel-types';
import { Rng } from '../../../src/util/rng';
import { type Check, type CheckParams, num } from './types';
import { compareExact } from './util';

/** Unit roundoff of float32 (2⁻²⁴). */
export const F32_UNIT_ROUNDOFF = 2 ** -24;

/**
 * Relative error bound of a float32 sum of n + 1 non-negative terms in ANY order (tree, subgroups, serial):
 * γ_n = n·u / (1 − n·u), u = 2⁻²⁴ (Higham, Accuracy and Stability of Numerical Algorithms, §4.2). For terms of
 * mixed sign the same bound holds for |error| / Σ|term|.
 */
export function sumRtol(n: number): number {
  const nu = Math.max(n, 0) * F32_UNIT_ROUNDOFF;
  return nu / (1 - nu);
}

/** The `subgroups` option of a check: params.subgroups when it is a boolean, else the wrapper's default. */
export function subgroupOption(p: CheckParams): { subgroups?: boolean } {
  const v = p['subgroups'];
  return typeof v === 'boolean' ? { subgroups: v } : {};
}

/**
 * eval-reduce: one chunk of `rows` row sums (seeded, cos of both signs, some rows with ‖x‖ = 0 or x̂ = 0) into
 * chunk slot `chunk` of a chunk-sums buffer, and the fire totals += counts (counts zeroed). Σ sse and Σ relErr within
 * rtol γ_{R−1} + γ_3 (non-negative terms, ≤ 3 roundings each); Σ cos within (γ_{R−1} + γ_4)·Σ|cos| absolute
 * (mixed signs, ≤ 4 roundings each); fire totals and the zeroed counts exact. params: rows, dSae, chunk, seed,
 * subgroups.
 */
export const evalReduceCheck: Check = async (gpu, p) => {
  const R = num(p, 'rows');
  const S = num(p, 'dSae');
  const chunk = num(p, 'chunk', 2);
  const rng = new Rng(num(p, 'seed', 1));
  const opts = subgroupOption(p);
  const rowStats = new Float32Array(R * ROW_STATS);
  for (let r = 0; r < R; r++) {
    const xx = r % 11 === 3 ? 0 : rng.next() * 40;
    const hh = r % 13 === 5 ? 0 : rng.next() * 40;
    const xh = (rng.next() * 2 - 1) * Math.sqrt(xx * hh);
    rowStats.set([rng.next() * 9, xx, hh, xh], r * ROW_STATS);
  }
  const counts = Uint32Array.from({ length: S }, () => (rng.next() < 0.5 ? rng.int(R) : 0));
  const total = Uint32Array.from({ length: S }, () => rng.int(1000));
  const kernel = createEvalReduce(gpu, { rows: R, dSae: S }, 'check:eval', opts);
  const bufs = {
    rowStats: gpu.storage('check:eval:row_stats', rowStats),
    counts: gpu.storage('check:eval:counts', counts),
    fireTotal: gpu.storage('check:eval:fire_total', total),
    chunkSums: gpu.storage('check:eval:chunk_sums', (chunk + 1) * EVAL_CHUNK_WORDS * 4),
  };
  try {
    kernel.setChunk(chunk);
    await gpu.run('check:eval', (pass) => kernel.encode(pass, bufs));
    const got = await gpu.readF32(bufs.chunkSums, EVAL_CHUNK_WORDS, chunk * EVAL_CHUNK_WORDS);
    const want = { sse: 0, cosSum: 0, relErrSum: 0 };
    addEvalRowSums(rowStats, R, want);
    const absCos = { sse: 0, cosSum: 0, relErrSum: 0 };
    const absStats = rowStats.slice();
    for (let r = 0; r < R; r++) absStats[r * ROW_STATS + 3] = Math.abs(absStats[r * ROW_STATS + 3]);
    addEvalRowSums(absStats, R, absCos);
    const t = `eval-reduce R=${R} S=${S} chunk=${chunk}${opts.subgroups === undefined ? '' : ` subgroups=${opts.subgroups}`}`;
    const reports: CompareReport[] = [
      compareArrays(`${t} Σ sse, Σ relErr`, [got[0], got[2]], [want.sse, want.relErrSum], {
        atol: 0,
        rtol: sumRtol(R - 1) + sumRtol(3),
      }),
      compareArrays(`${t} Σ cos`, [got[1]], [want.cosSum], {
        atol: (sumRtol(R - 1) + sumRtol(4)) * absCos.cosSum,
        rtol: 0,
      }),
      compareExact(`${t} slot word 3`, [got[3]], [0]),
    ];
    const wantTotal = total.map((v, s) => v + counts[s]);
    reports.push(compareExact(`${t} fire totals`, await gpu.readU32(bufs.fireTotal, S), wantTotal));
    reports.push(compareExact(`${t} counts zeroed`, await gpu.readU32(bufs.counts, S), new Uint32Array(S)));
    return reports;
  } finally {
    kernel.destroy();
    for (const b of Object.values(bufs)) b.destroy();
  }
};

/**
 * arch-stats: words 5 (AuxK loss) and 6 (sparsity loss λ·Σ/B) of the stats buffer against sparsityLossOf (float64)
 * on seeded per-latent planes. mode 'jumprelu' (Σ fire counts: integers, exact in f32 below 2²⁴, then λ and /B:
 * rtol γ_3) or 'relu' (Σ_s Σz_s·‖W_dec,s‖: S non-negative products, rtol γ_{S+3}); the AuxK word exact. params:
 * dSae, rows, mode, lambda, seed, subgroups.
 */
export const archStatsCheck: Check = async (gpu, p) => {
  const S = num(p, 'dSae');
  const B = num(p, 'rows');
  const lambda = num(p, 'lambda', 0.37);
  const mode = p['mode'] === 'relu' ? 'relu' : 'jumprelu';
  const rng = new Rng(num(p, 'seed', 1));
  const opts = subgroupOption(p);
  const fire = Uint32Array.from({ length: S }, () => (rng.next() < 0.6 ? rng.int(B + 1) : 0));
  const zSum = Float32Array.from({ length: S }, () => (rng.next() < 0.6 ? rng.next() * 30 : 0));
  const decNorm = Float32Array.from({ length: S }, () => 0.5 + rng.next());
  const col = new Uint32Array(4 * S);
  col.set(fire, 0);
  col.set(new Uint32Array(zSum.buffer), S);
  col.set(new Uint32Array(decNorm.buffer), 2 * S);
  const aux = Float32Array.from({ length: 8 }, () => rng.next());
  const kernel = createArchStats(gpu, { dSae: S, rows: B }, mode, true, 'check:arch-stats', opts);
  const bufs = {
    col: gpu.storage('check:arch-stats:col', col),
    auxScalars: gpu.storage('check:arch-stats:aux', aux),
    out: gpu.storage('check:arch-stats:out', 8 * 4),
  };
  try {
    kernel.setLambda(lambda);
    await gpu.run('check:arch-stats', (pass) => kernel.encode(pass, bufs));
    const out = new Float32Array((await gpu.readU32(bufs.out, 8)).buffer);
    const arch = resolveArch({ dModel: 1, dSae: S, arch: { architecture: mode } });
    const want = sparsityLossOf(arch, Math.fround(lambda), fire, zSum, decNorm, B);
    const t = `arch-stats ${mode} S=${S} B=${B}${opts.subgroups === undefined ? '' : ` subgroups=${opts.subgroups}`}`;
    return [
      compareExact(`${t} AuxK loss word`, [out[5]], [aux[0]]),
      compareArrays(`${t} sparsity loss`, [out[6]], [want], {
        atol: 0,
        rtol: mode === 'relu' ? sumRtol(S + 3) : sumRtol(3),
      }),
    ];
  } finally {
    kernel.destroy();
    for (const b of Object.values(bufs)) b.destroy();
  }
};
