/**
 * Subgroup variants (src/gpu/kernels/subgroups.ts): the option the checks pass, the tolerance of a reordered float
 * sum, and the evaluation reduction (shaders/eval.wgsl) against its CPU twin (addEvalRowSums) at odd lengths. TopK
 * and the step stats take the same option in e2e/harness/checks/kernels.ts.
 */
import { createEvalReduce, EVAL_CHUNK_WORDS } from '../../../src/gpu/kernels/eval';
import { type CompareReport, compareArrays } from '../../../src/reference/compare';
import { addEvalRowSums } from '../../../src/reference/sae-engine';
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
