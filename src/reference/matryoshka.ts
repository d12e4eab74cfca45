/**
 * CPU twin of shaders/matryoshka.wgsl: the nested-prefix part of the Matryoshka BatchTopK loss (Bussmann et al.
 * 2025; src/sae/archs/matryoshka.ts) on dense latents z [R, S] (BatchTopK's selection).
 *
 * Shape legend: R = rows, D = d_model, S = d_sae, M = number of prefixes, e_m = end of prefix m (e_{M−1} = S),
 * grp(s) = the group of latent s (the first m with s < e_m).
 *
 *   x̂_m      = b_dec + Σ_{s < e_m} z_s·W_dec[s]                          prefix reconstructions
 *   loss     = Σ_m scale/2 · Σ_{r,d} (x̂_m − x)²,  scale = 2/(R·D)        (each prefix's MSE, summed)
 *   G_j      = scale·Σ_{m ≥ j} (x̂_m − x)                                ∂loss/∂(a latent of group j's decoder term)
 *   ∂z[r,s]  = ⟨G_grp(s)[r], W_dec[s]⟩  (only where z ≠ 0; the masked activation backward drops the rest)
 *   ∂W_dec[s]= Σ_r z[r,s]·G_grp(s)[r]
 *   ∂b_dec   = Σ_r G_0[r] − W_enc·∂b_enc                                  (decoder bias of every prefix; encoder path)
 *
 * f32 order of the GPU (one invocation per output, sequential loops, every product and sum rounded): latents in
 * increasing s, skipping z = 0 (adding 0·w is exact for finite w); prefixes summed from the last down; rows in
 * increasing r. The GPU may contract a·b + c into an FMA, so the browser test compares with a tolerance.
 */
import { batchTopkCompactCpu, batchTopkMaxRowCount } from './batchtopk';
import { needLength } from './encoder';

/** Sizes of a Matryoshka kernel call. */
export interface MatryoshkaShape {
  rows: number;
  dModel: number;
  dSae: number;
}

/** Result of {@link matryoshkaResidualCpu}. */
export interface MatryoshkaResidual {
  /** f32 [R, D]: the full dictionary's reconstruction x̂ = x̂_{M−1}. */
  xHat: Float32Array;
  /** f32 [M, R, D]: G_j = scale·Σ_{m ≥ j} (x̂_m − x), plane j for group j. */
  groupGrads: Float32Array;
}

function checkEnds(who: string, ends: Uint32Array, dSae: number): void {
  if (ends.length < 1 || ends[ends.length - 1] !== dSae)
    throw new RangeError(`${who}: the last prefix end must be d_sae=${dSae}`);
  for (let m = 1; m < ends.length; m++)
    if (!(ends[m] > ends[m - 1])) throw new RangeError(`${who}: prefix ends must increase (index ${m})`);
}

/**
 * A batch's latents as rows of (index, value) slots, the layout of batchTopkCompactCpu (src/reference/batchtopk.ts):
 * row r holds its nonzero latents in increasing index in its first slots, value 0 in the unused ones. The dense
 * functions below compact z into this layout; the fast CPU engine hands its BatchTopK rows in directly. Walking a
 * row's slots is walking its latents in increasing s with z = 0 skipped: the same f32 order as the kernels.
 */
export interface MatryoshkaLatentRows {
  /** u32 [R, cap] latent indices. */
  indices: Uint32Array;
  /** f32 [R, cap] latent values (0: unused slot). */
  values: Float32Array;
  /** Slots per row. */
  cap: number;
}

/** z f32 [R, S] as {@link MatryoshkaLatentRows} with cap = the fullest row's count (at least 1). */
export function matryoshkaLatentRows(z: Float32Array, shape: MatryoshkaShape): MatryoshkaLatentRows {
  const { rows: R, dSae: S } = shape;
  const cap = Math.max(1, batchTopkMaxRowCount(z, R, S));
  return { ...batchTopkCompactCpu(z, R, S, cap), cap };
}

/**
 * The prefix reconstructions and the suffix-summed residual gradients G_j.
 * @param x f32 [R, D]; @param z f32 [R, S]; @param wDec f32 [S, D]; @param bDec f32 [D]
 * @param ends u32 [M] prefix ends (src/sae/archs/matryoshka.ts matryoshkaPrefixEnds); @param scale 2/(R·D)
 * @throws RangeError on short inputs or bad prefix ends.
 */
export function matryoshkaResidualCpu(
  x: Float32Array,
  z: Float32Array,
  wDec: Float32Array,
  bDec: Float32Array,
  ends: Uint32Array,
  scale: number,
  shape: MatryoshkaShape,
): MatryoshkaResidual {
  needLength('matryoshkaResidualCpu', 'z', z, shape.rows * shape.dSae);
  return matryoshkaResidualRows(x, matryoshkaLatentRows(z, shape), wDec, bDec, ends, scale, shape);
}

/** {@link matryoshkaResidualCpu} on latent rows. @throws RangeError on short inputs or bad prefix ends. */
export function matryoshkaResidualRows(
  x: Float32Array,
  lat: MatryoshkaLatentRows,
  wDec: Float32Array,
  bDec: Float32Array,
  ends: Uint32Array,
  scale: number,
  shape: MatryoshkaShape,
): MatryoshkaResidual {
  const { rows: R, dModel: D, dSae: S } = shape;
  const who = 'matryoshkaResidualCpu';
  needLength(who, 'x', x, R * D);
  needLatentRows(who, lat, R);
  needLength(who, 'W_dec', wDec, S * D);
  needLength(who, 'b_dec', bDec, D);
  checkEnds(who, ends, S);
  const f = Math.fround;
  const sc = f(scale);
  const M = ends.length;
  const { indices, values, cap } = lat;
  const xHat = new Float32Array(R * D);
  const groupGrads = new Float32Array(M * R * D);
  // Per row: acc[d] = Σ of the prefix's terms so far, res[m, d] = x̂_m − x. Each element sees the latents in
  // increasing s; the loop over d is innermost so a slot reads its W_dec row once (a Float32Array store rounds).
  const acc = new Float32Array(D);
  const res = new Float32Array(M * D);
  for (let r = 0; r < R; r++) {
    acc.fill(0);
    let j = r * cap;
    for (let m = 0; m < M; m++) {
      for (; j < (r + 1) * cap && values[j] !== 0 && indices[j] < ends[m]; j++) {
        const v = values[j];
        const w0 = indices[j] * D;
        for (let d = 0; d < D; d++) acc[d] += f(v * wDec[w0 + d]);
      }
      for (let d = 0; d < D; d++) {
        const xm = f(acc[d] + bDec[d]);
        res[m * D + d] = f(xm - x[r * D + d]);
        if (m === M - 1) xHat[r * D + d] = xm;
      }
    }
    for (let d = 0; d < D; d++) {
      let tail = 0;
      for (let m = M - 1; m >= 0; m--) {
        tail = f(tail + res[m * D + d]);
        groupGrads[(m * R + r) * D + d] = f(tail * sc);
      }
    }
  }
  return { xHat, groupGrads };
}

/** The group of every latent: u32 [S], grp(s) = the first m with s < e_m. */
export function matryoshkaGroupOf(ends: Uint32Array, dSae: number): Uint32Array {
  const out = new Uint32Array(dSae);
  let m = 0;
  for (let s = 0; s < dSae; s++) {
    while (s >= ends[m]) m++;
    out[s] = m;
  }
  return out;
}

/**
 * ∂z[r, s] = ⟨G_grp(s)[r], W_dec[s]⟩ where z[r, s] ≠ 0, else 0.
 * @param groupGrads f32 [M, R, D]; @param z f32 [R, S]; @param wDec f32 [S, D] @returns f32 [R, S]
 */
export function matryoshkaGradZCpu(
  groupGrads: Float32Array,
  z: Float32Array,
  wDec: Float32Array,
  ends: Uint32Array,
  shape: MatryoshkaShape,
): Float32Array {
  const { rows: R, dSae: S } = shape;
  needLength('matryoshkaGradZCpu', 'z', z, R * S);
  const lat = matryoshkaLatentRows(z, shape);
  const slots = matryoshkaGradZRows(groupGrads, lat, wDec, ends, shape);
  const gz = new Float32Array(R * S);
  for (let r = 0; r < R; r++)
    for (let j = r * lat.cap; j < (r + 1) * lat.cap && lat.values[j] !== 0; j++)
      gz[r * S + lat.indices[j]] = slots[j];
  return gz;
}

/**
 * {@link matryoshkaGradZCpu} on latent rows: ∂z of each used slot, f32 [R, cap] (0 in unused slots). The masked
 * activation backward passes it on unchanged as ∂pre of the slot's latent.
 */
export function matryoshkaGradZRows(
  groupGrads: Float32Array,
  lat: MatryoshkaLatentRows,
  wDec: Float32Array,
  ends: Uint32Array,
  shape: MatryoshkaShape,
): Float32Array {
  const D = shape.dModel;
  const planes = slotPlanes('matryoshkaGradZCpu', groupGrads, lat, ends, shape);
  const f = Math.fround;
  const out = new Float32Array(planes.length);
  for (let j = 0; j < planes.length; j++) {
    const g0 = planes[j];
    if (g0 < 0) continue;
    const w0 = lat.indices[j] * D;
    let dot = 0;
    for (let d = 0; d < D; d++) dot = f(dot + f(groupGrads[g0 + d] * wDec[w0 + d]));
    out[j] = dot;
  }
  return out;
}

/**
 * ∂W_dec[s, d] = Σ_r z[r, s]·G_grp(s)[r, d] (rows in increasing r, zero latents skipped).
 * @returns f32 [S, D]
 */
export function matryoshkaGradWdecCpu(
  groupGrads: Float32Array,
  z: Float32Array,
  ends: Uint32Array,
  shape: MatryoshkaShape,
): Float32Array {
  needLength('matryoshkaGradWdecCpu', 'z', z, shape.rows * shape.dSae);
  return matryoshkaGradWdecRows(groupGrads, matryoshkaLatentRows(z, shape), ends, shape);
}

/**
 * {@link matryoshkaGradWdecCpu} on latent rows: each used slot adds z·G_grp(s)[r] to row s, rows in increasing r
 * (so every element sums its rows in the same order as the kernel's loop over r).
 */
export function matryoshkaGradWdecRows(
  groupGrads: Float32Array,
  lat: MatryoshkaLatentRows,
  ends: Uint32Array,
  shape: MatryoshkaShape,
): Float32Array {
  const { dModel: D, dSae: S } = shape;
  const planes = slotPlanes('matryoshkaGradWdecCpu', groupGrads, lat, ends, shape);
  const f = Math.fround;
  const out = new Float32Array(S * D); // a Float32Array store rounds like f(acc + p)
  // Slots in increasing j are rows in increasing r.
  for (let j = 0; j < planes.length; j++) {
    const g0 = planes[j];
    if (g0 < 0) continue;
    const zv = lat.values[j];
    const w0 = lat.indices[j] * D;
    for (let d = 0; d < D; d++) out[w0 + d] += f(zv * groupGrads[g0 + d]);
  }
  return out;
}

/**
 * Checks of the gradient functions (prefix ends, G's and the latent rows' lengths), then where each slot reads G:
 * i32 [R, cap], the offset of G_grp(s)[r] for a used slot of row r, −1 for an unused one.
 */
function slotPlanes(
  who: string,
  groupGrads: Float32Array,
  lat: MatryoshkaLatentRows,
  ends: Uint32Array,
  shape: MatryoshkaShape,
): Int32Array {
  const { rows: R, dModel: D, dSae: S } = shape;
  checkEnds(who, ends, S);
  needLength(who, 'G', groupGrads, ends.length * R * D);
  needLatentRows(who, lat, R);
  const grp = matryoshkaGroupOf(ends, S);
  const { indices, values, cap } = lat;
  const out = new Int32Array(R * cap).fill(-1);
  for (let r = 0; r < R; r++)
    for (let j = r * cap; j < (r + 1) * cap && values[j] !== 0; j++) out[j] = (grp[indices[j]] * R + r) * D;
  return out;
}

function needLatentRows(who: string, lat: MatryoshkaLatentRows, rows: number): void {
  needLength(who, 'latent indices', lat.indices, rows * lat.cap);
  needLength(who, 'latent values', lat.values, rows * lat.cap);
}

/**
 * ∂b_dec[d] = Σ_r G_0[r, d] − Σ_s W_enc[d, s]·∂b_enc[s] (both sequential f32 sums).
 * @param wEnc f32 [D, S]; @param gBenc f32 [S] @returns f32 [D]
 */
export function matryoshkaGradBdecCpu(
  groupGrads: Float32Array,
  wEnc: Float32Array,
  gBenc: Float32Array,
  shape: MatryoshkaShape,
): Float32Array {
  const { rows: R, dModel: D, dSae: S } = shape;
  needLength('matryoshkaGradBdecCpu', 'G', groupGrads, R * D);
  needLength('matryoshkaGradBdecCpu', 'W_enc', wEnc, D * S);
  needLength('matryoshkaGradBdecCpu', '∂b_enc', gBenc, S);
  const f = Math.fround;
  const out = new Float32Array(D);
  for (let d = 0; d < D; d++) {
    let dec = 0;
    for (let r = 0; r < R; r++) dec = f(dec + groupGrads[r * D + d]);
    let enc = 0;
    for (let s = 0; s < S; s++) enc = f(enc + f(wEnc[d * S + s] * gBenc[s]));
    out[d] = f(dec - enc);
  }
  return out;
}
