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
  const { rows: R, dModel: D, dSae: S } = shape;
  const who = 'matryoshkaResidualCpu';
  needLength(who, 'x', x, R * D);
  needLength(who, 'z', z, R * S);
  needLength(who, 'W_dec', wDec, S * D);
  needLength(who, 'b_dec', bDec, D);
  checkEnds(who, ends, S);
  const f = Math.fround;
  const sc = f(scale);
  const M = ends.length;
  const xHat = new Float32Array(R * D);
  const groupGrads = new Float32Array(M * R * D);
  const res = new Float32Array(M);
  for (let r = 0; r < R; r++) {
    for (let d = 0; d < D; d++) {
      let acc = 0;
      let s = 0;
      let xm = 0;
      for (let m = 0; m < M; m++) {
        for (; s < ends[m]; s++) {
          const zv = z[r * S + s];
          if (zv !== 0) acc = f(acc + f(zv * wDec[s * D + d]));
        }
        xm = f(acc + bDec[d]);
        res[m] = f(xm - x[r * D + d]);
      }
      xHat[r * D + d] = xm;
      let tail = 0;
      for (let m = M - 1; m >= 0; m--) {
        tail = f(tail + res[m]);
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
  const { rows: R, dModel: D, dSae: S } = shape;
  checkEnds('matryoshkaGradZCpu', ends, S);
  needLength('matryoshkaGradZCpu', 'G', groupGrads, ends.length * R * D);
  const f = Math.fround;
  const grp = matryoshkaGroupOf(ends, S);
  const gz = new Float32Array(R * S);
  for (let r = 0; r < R; r++) {
    for (let s = 0; s < S; s++) {
      if (z[r * S + s] === 0) continue;
      const g0 = (grp[s] * R + r) * D;
      let dot = 0;
      for (let d = 0; d < D; d++) dot = f(dot + f(groupGrads[g0 + d] * wDec[s * D + d]));
      gz[r * S + s] = dot;
    }
  }
  return gz;
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
  const { rows: R, dModel: D, dSae: S } = shape;
  checkEnds('matryoshkaGradWdecCpu', ends, S);
  needLength('matryoshkaGradWdecCpu', 'G', groupGrads, ends.length * R * D);
  const f = Math.fround;
  const grp = matryoshkaGroupOf(ends, S);
  const out = new Float32Array(S * D);
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < D; d++) {
      let acc = 0;
      for (let r = 0; r < R; r++) {
        const zv = z[r * S + s];
        if (zv !== 0) acc = f(acc + f(zv * groupGrads[(grp[s] * R + r) * D + d]));
      }
      out[s * D + d] = acc;
    }
  }
  return out;
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
