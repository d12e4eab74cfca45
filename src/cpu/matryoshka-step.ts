/**
 * The fast CPU engine's Matryoshka BatchTopK step (the math: src/reference/matryoshka.ts; the oracle's path:
 * src/reference/step-paths.ts). It is BatchTopK's sparse path plus the nested-prefix backward:
 *   1. the batch's pre-activations come from the wasm encoder (bit for bit the oracle's);
 *   2. BatchTopK's selection and running-θ key (the oracle's batchTopkCpu, as the BatchTopK path calls it), its
 *      latents compacted into rows of (index, value) slots;
 *   3. the prefix residuals, G, ∂z per slot and ∂W_dec by the oracle's slot functions (work ∝ kept latents × D,
 *      never a dense [B, S] pass);
 *   4. ∂W_encᵀ, ∂b_enc and the fire counts by the wasm sparse scatter over the slots (the TopK backward's kernel,
 *      threaded across columns), ∂W_enc by the wasm transpose; ∂b_dec by the oracle's function.
 * Bit-identical to the oracle: every sum has the oracle's terms in the oracle's order. The masked activation
 * backward passes ∂z of a kept latent on as ∂pre and 0 elsewhere, and the oracle's ∂W_enc = xcᵀ·∂pre sums rows in
 * increasing r from +0, where a zero term changes nothing; the scatter adds the kept slots' terms in increasing r.
 * (With a NaN or ±∞ in xc the two may differ in which entries turn NaN; the step is flagged non-finite either way.)
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, M = prefixes, cap = the fullest row's kept latents.
 */
import { lossGradScale } from '../reference/backward';
import { batchTopkCpu } from '../reference/batchtopk';
import { denseRowsCpu } from '../reference/dense';
import {
  matryoshkaGradBdecCpu,
  matryoshkaGradWdecRows,
  matryoshkaGradZRows,
  matryoshkaLatentRows,
  matryoshkaResidualRows,
} from '../reference/matryoshka';
import { matryoshkaEndsOf } from '../sae/archs/matryoshka';
import type { SaeArch, SaeShape } from '../sae/types';
import type { WasmArena } from './wasm';

/** Byte offsets of the four tensors (parameters or their gradients) in the wasm memory. */
export interface TensorPtrs {
  wEnc: number;
  wDec: number;
  bEnc: number;
  bDec: number;
}

/** Where the step reads and writes in the wasm memory. */
export interface MatryoshkaStepPtrs {
  /** f32 [B, D] the batch, its centred copy x − b_dec and f32 [B, S] pre-activations (filled by the encoder). */
  x: number;
  xc: number;
  pre: number;
  /** Parameters (read) and gradients (written, ∂W_dec not yet projected). */
  params: TensorPtrs;
  grads: TensorPtrs;
}

/** What the engine's step needs from the path. */
export interface MatryoshkaStepResult {
  /** f32 [B, D] x̂ of the full dictionary, in the scratch buffer 'xHat'. */
  xHatPtr: number;
  /** u32 [S] tokens each latent fired on. */
  fireCounts: Uint32Array;
  /** f32 [B, 4] per-row sums Σ(x̂−x)², Σx², Σx̂², Σx·x̂. */
  rowStats: Float32Array;
  /** Order key of the smallest kept activation (the running θ's update). */
  minKeptKey: number;
}

/**
 * One Matryoshka training step's gradients on the wasm memory.
 * @param buf the engine's scratch allocator: a buffer of at least `count` 4-byte elements under `name`
 * @throws RangeError when the wasm memory cannot grow for the scratch buffers, or on bad prefix ends.
 */
export function matryoshkaWasmStep(
  a: WasmArena,
  buf: (name: string, count: number) => number,
  shape: SaeShape,
  arch: SaeArch,
  ptrs: MatryoshkaStepPtrs,
): MatryoshkaStepResult {
  const { dModel: D, dSae: S, batchSize: B } = shape;
  const mShape = { rows: B, dModel: D, dSae: S };
  const bt = batchTopkCpu(a.f32(ptrs.pre, B * S), B, S, shape.k);
  const lat = matryoshkaLatentRows(bt.z, mShape);
  const n = B * lat.cap;
  // Every scratch buffer before the first view (a view is invalid once the memory grows).
  const idxPtr = buf('idx', n);
  const valPtr = buf('val', n);
  const gPrePtr = buf('gPre', n);
  const firePtr = buf('fire', S);
  const gWencTPtr = buf('gWencT', S * D);
  const discardPtr = buf('accDecDiscard', S * D);
  const xHatPtr = buf('xHat', B * D);
  const f32 = (ptr: number, count: number) => a.f32(ptr, count);
  const x = f32(ptrs.x, B * D);
  const wDec = f32(ptrs.params.wDec, S * D);
  const bDec = f32(ptrs.params.bDec, D);
  const ends = matryoshkaEndsOf(arch, S);
  const scale = lossGradScale(B, D);
  const { xHat, groupGrads } = matryoshkaResidualRows(x, lat, wDec, bDec, ends, scale, mShape);
  const rows = denseRowsCpu(x, xHat, bDec, scale, B, D);
  a.u32(idxPtr, n).set(lat.indices);
  f32(valPtr, n).set(lat.values);
  f32(gPrePtr, n).set(matryoshkaGradZRows(groupGrads, lat, wDec, ends, mShape));
  f32(xHatPtr, B * D).set(xHat);
  f32(ptrs.grads.wDec, S * D).set(matryoshkaGradWdecRows(groupGrads, lat, ends, mShape));
  a.u32(firePtr, S).fill(0);
  f32(gWencTPtr, S * D).fill(0);
  f32(discardPtr, S * D).fill(0);
  f32(ptrs.grads.bEnc, S).fill(0);
  // The scatter also accumulates v·diff per latent (the TopK decoder's term); here that goes to a discarded buffer.
  a.k.sparseScatter(
    ptrs.xc,
    ptrs.xc,
    idxPtr,
    valPtr,
    gPrePtr,
    firePtr,
    discardPtr,
    gWencTPtr,
    ptrs.grads.bEnc,
    B,
    D,
    lat.cap,
    0,
    D,
    1,
  );
  a.k.transpose(gWencTPtr, ptrs.grads.wEnc, S, D);
  const gBdec = matryoshkaGradBdecCpu(
    groupGrads,
    f32(ptrs.params.wEnc, D * S),
    f32(ptrs.grads.bEnc, S),
    mShape,
  );
  f32(ptrs.grads.bDec, D).set(gBdec);
  return {
    xHatPtr,
    fireCounts: a.u32(firePtr, S).slice(),
    rowStats: rows.rowStats,
    minKeptKey: bt.minKeptKey,
  };
}
