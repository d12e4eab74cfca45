/**
 * AssemblyScript source of the fast CPU engine's WebAssembly SIMD kernels (src/cpu/sae-engine.ts). Compiled at
 * build / test time by the `assemblyscript` npm package through the Vite plugin in scripts/vite-asc.ts; nothing
 * compiled is committed. Not type-checked by tsc (AssemblyScript types: f32, usize, v128), excluded in tsconfig.json.
 *
 * Memory: the module imports its memory (`env.memory`); every argument named `*Ptr` is a byte offset into it of a
 * row-major float32 (or u32) array. The host allocates above 64 KiB (the first page belongs to this module's data).
 *
 * Shape legend: M, N, K = matmul sizes; R = rows (tokens), D = d_model, S = d_sae, k = latents per row.
 *
 * float32 order. Every kernel accumulates in the same order as its plain-TypeScript twin in src/reference (and the
 * GPU kernel behind it): SIMD runs over independent outputs (columns, elements), never inside one sum, and wasm has
 * no fused multiply-add, so the results are bit-identical to the oracle's.
 */

// ---------------------------------------------------------------------------------------------------------------
// Dense matmul: C[M, N] = A[M, K] · B[K, N] (+ bias[N]); src/reference/matmul.ts matmulCpu (no transposes).
// Each C element is Σ_k A[m,k]·B[k,n] in increasing k, bias added last. Register block: 4 rows × 8 columns
// (8 f32x4 accumulators); B is walked in panels of PANEL columns so a panel stays in cache across the rows.
// ---------------------------------------------------------------------------------------------------------------

const PANEL: i32 = 64;

/**
 * C[M, N] = A[M, K] · B[K, N] + bias[N] (biasPtr = 0: no bias). f32, row-major.
 */
export function matmul(aPtr: usize, bPtr: usize, biasPtr: usize, cPtr: usize, M: i32, N: i32, K: i32): void {
  for (let n0: i32 = 0; n0 < N; n0 += PANEL) {
    const n1 = min(n0 + PANEL, N);
    let m: i32 = 0;
    for (; m + 4 <= M; m += 4) rows4(aPtr, bPtr, biasPtr, cPtr, m, n0, n1, N, K);
    for (; m < M; m++) rows1(aPtr, bPtr, biasPtr, cPtr, m, n0, n1, N, K);
  }
}

// @ts-expect-error AssemblyScript decorator
@inline
function addBias4(v: v128, biasPtr: usize, n: i32): v128 {
  return biasPtr != 0 ? f32x4.add(v, v128.load(biasPtr + (<usize>n << 2))) : v;
}

function rows4(
  aPtr: usize,
  bPtr: usize,
  biasPtr: usize,
  cPtr: usize,
  m: i32,
  n0: i32,
  n1: i32,
  N: i32,
  K: i32,
): void {
  const rowBytes = <usize>K << 2;
  const a0 = aPtr + <usize>m * rowBytes;
  const a1 = a0 + rowBytes;
  const a2 = a1 + rowBytes;
  const a3 = a2 + rowBytes;
  const bStride = <usize>N << 2;
  const cRow = <usize>N << 2;
  const c0 = cPtr + <usize>m * cRow;
  let n = n0;
  for (; n + 8 <= n1; n += 8) {
    let s00 = f32x4.splat(0);
    let s01 = f32x4.splat(0);
    let s10 = f32x4.splat(0);
    let s11 = f32x4.splat(0);
    let s20 = f32x4.splat(0);
    let s21 = f32x4.splat(0);
    let s30 = f32x4.splat(0);
    let s31 = f32x4.splat(0);
    let bp = bPtr + (<usize>n << 2);
    for (let kk: i32 = 0; kk < K; kk++) {
      const off = <usize>kk << 2;
      const b0 = v128.load(bp);
      const b1 = v128.load(bp, 16);
      const x0 = f32x4.splat(load<f32>(a0 + off));
      const x1 = f32x4.splat(load<f32>(a1 + off));
      const x2 = f32x4.splat(load<f32>(a2 + off));
      const x3 = f32x4.splat(load<f32>(a3 + off));
      s00 = f32x4.add(s00, f32x4.mul(x0, b0));
      s01 = f32x4.add(s01, f32x4.mul(x0, b1));
      s10 = f32x4.add(s10, f32x4.mul(x1, b0));
      s11 = f32x4.add(s11, f32x4.mul(x1, b1));
      s20 = f32x4.add(s20, f32x4.mul(x2, b0));
      s21 = f32x4.add(s21, f32x4.mul(x2, b1));
      s30 = f32x4.add(s30, f32x4.mul(x3, b0));
      s31 = f32x4.add(s31, f32x4.mul(x3, b1));
      bp += bStride;
    }
    const cp = c0 + (<usize>n << 2);
    v128.store(cp, addBias4(s00, biasPtr, n));
    v128.store(cp, addBias4(s01, biasPtr, n + 4), 16);
    v128.store(cp + cRow, addBias4(s10, biasPtr, n));
    v128.store(cp + cRow, addBias4(s11, biasPtr, n + 4), 16);
    v128.store(cp + 2 * cRow, addBias4(s20, biasPtr, n));
    v128.store(cp + 2 * cRow, addBias4(s21, biasPtr, n + 4), 16);
    v128.store(cp + 3 * cRow, addBias4(s30, biasPtr, n));
    v128.store(cp + 3 * cRow, addBias4(s31, biasPtr, n + 4), 16);
  }
  for (; n + 4 <= n1; n += 4) {
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let s3 = f32x4.splat(0);
    let bp = bPtr + (<usize>n << 2);
    for (let kk: i32 = 0; kk < K; kk++) {
      const off = <usize>kk << 2;
      const b0 = v128.load(bp);
      s0 = f32x4.add(s0, f32x4.mul(f32x4.splat(load<f32>(a0 + off)), b0));
      s1 = f32x4.add(s1, f32x4.mul(f32x4.splat(load<f32>(a1 + off)), b0));
      s2 = f32x4.add(s2, f32x4.mul(f32x4.splat(load<f32>(a2 + off)), b0));
      s3 = f32x4.add(s3, f32x4.mul(f32x4.splat(load<f32>(a3 + off)), b0));
      bp += bStride;
    }
    const cp = c0 + (<usize>n << 2);
    v128.store(cp, addBias4(s0, biasPtr, n));
    v128.store(cp + cRow, addBias4(s1, biasPtr, n));
    v128.store(cp + 2 * cRow, addBias4(s2, biasPtr, n));
    v128.store(cp + 3 * cRow, addBias4(s3, biasPtr, n));
  }
  for (; n < n1; n++) {
    let t0: f32 = 0;
    let t1: f32 = 0;
    let t2: f32 = 0;
    let t3: f32 = 0;
    let bp = bPtr + (<usize>n << 2);
    for (let kk: i32 = 0; kk < K; kk++) {
      const off = <usize>kk << 2;
      const bv = load<f32>(bp);
      t0 += load<f32>(a0 + off) * bv;
      t1 += load<f32>(a1 + off) * bv;
      t2 += load<f32>(a2 + off) * bv;
      t3 += load<f32>(a3 + off) * bv;
      bp += bStride;
    }
    if (biasPtr != 0) {
      const bb = load<f32>(biasPtr + (<usize>n << 2));
      t0 += bb;
      t1 += bb;
      t2 += bb;
      t3 += bb;
    }
    const cp = c0 + (<usize>n << 2);
    store<f32>(cp, t0);
    store<f32>(cp + cRow, t1);
    store<f32>(cp + 2 * cRow, t2);
    store<f32>(cp + 3 * cRow, t3);
  }
}

function rows1(
  aPtr: usize,
  bPtr: usize,
  biasPtr: usize,
  cPtr: usize,
  m: i32,
  n0: i32,
  n1: i32,
  N: i32,
  K: i32,
): void {
  const a0 = aPtr + ((<usize>m * <usize>K) << 2);
  const bStride = <usize>N << 2;
  const c0 = cPtr + ((<usize>m * <usize>N) << 2);
  let n = n0;
  for (; n + 4 <= n1; n += 4) {
    let s0 = f32x4.splat(0);
    let bp = bPtr + (<usize>n << 2);
    for (let kk: i32 = 0; kk < K; kk++) {
      s0 = f32x4.add(s0, f32x4.mul(f32x4.splat(load<f32>(a0 + (<usize>kk << 2))), v128.load(bp)));
      bp += bStride;
    }
    v128.store(c0 + (<usize>n << 2), addBias4(s0, biasPtr, n));
  }
  for (; n < n1; n++) {
    let t0: f32 = 0;
    let bp = bPtr + (<usize>n << 2);
    for (let kk: i32 = 0; kk < K; kk++) {
      t0 += load<f32>(a0 + (<usize>kk << 2)) * load<f32>(bp);
      bp += bStride;
    }
    if (biasPtr != 0) t0 += load<f32>(biasPtr + (<usize>n << 2));
    store<f32>(c0 + (<usize>n << 2), t0);
  }
}

/** out[R, D] = x[R, D] − b_dec[D] (the encoder's centred input, src/reference/encoder.ts). */
export function centre(xPtr: usize, bDecPtr: usize, outPtr: usize, R: i32, D: i32): void {
  for (let r: i32 = 0; r < R; r++) {
    const row = (<usize>r * <usize>D) << 2;
    for (let d: i32 = 0; d < D; d++) {
      const o = <usize>d << 2;
      store<f32>(outPtr + row + o, load<f32>(xPtr + row + o) - load<f32>(bDecPtr + o));
    }
  }
}

/** out[C, R] = in[R, C]ᵀ, in blocks of 16 × 16 for the cache. */
export function transpose(inPtr: usize, outPtr: usize, R: i32, C: i32): void {
  transposeRows(inPtr, outPtr, R, C, 0, R);
}

/** The part of {@link transpose} that reads input rows [rStart, rEnd) (a thread's share; each element a copy). */
export function transposeRows(inPtr: usize, outPtr: usize, R: i32, C: i32, rStart: i32, rEnd: i32): void {
  const T: i32 = 16;
  for (let r0: i32 = rStart; r0 < rEnd; r0 += T) {
    const r1 = min(r0 + T, rEnd);
    for (let c0: i32 = 0; c0 < C; c0 += T) {
      const c1 = min(c0 + T, C);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          store<f32>(outPtr + ((<usize>c * <usize>R + <usize>r) << 2), load<f32>(inPtr + ((<usize>r * <usize>C + <usize>c) << 2)));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// TopK selection (src/reference/topk.ts): the k largest of each row under the total order (order key descending,
// latent index ascending), listed in that order. A min-heap of the k best so far, its root the worst pick.
// ---------------------------------------------------------------------------------------------------------------

// @ts-expect-error AssemblyScript decorator
@inline
function orderKey(v: f32): u32 {
  const u = reinterpret<u32>(v);
  return u & 0x80000000 ? ~u : u | 0x80000000;
}

/** True when pick (ka, ia) ranks below pick (kb, ib): smaller key, or equal key and larger index. */
// @ts-expect-error AssemblyScript decorator
@inline
function worse(ka: u32, ia: u32, kb: u32, ib: u32): bool {
  return ka < kb || (ka == kb && ia > ib);
}

/**
 * TopK of every row of pre [R, S]: indices u32 [R, k] and values f32 [R, k] (raw pre-activations), each row by key
 * descending then index ascending. heapPtr: scratch of 2·k u32.
 */
export function topk(prePtr: usize, R: i32, S: i32, k: i32, idxPtr: usize, valPtr: usize, heapPtr: usize): void {
  const hk = heapPtr; // keys u32 [k]
  const hi = heapPtr + (<usize>k << 2); // indices u32 [k]
  for (let r: i32 = 0; r < R; r++) {
    const row = prePtr + ((<usize>r * <usize>S) << 2);
    // Fill with the first k, then heapify (min-heap under `worse`).
    for (let j: i32 = 0; j < k; j++) {
      store<u32>(hk + (<usize>j << 2), orderKey(load<f32>(row + (<usize>j << 2))));
      store<u32>(hi + (<usize>j << 2), <u32>j);
    }
    for (let j: i32 = (k >> 1) - 1; j >= 0; j--) siftDown(hk, hi, j, k);
    let rootKey = load<u32>(hk);
    for (let s: i32 = k; s < S; s++) {
      const key = orderKey(load<f32>(row + (<usize>s << 2)));
      // Later index: it beats the root only with a strictly larger key.
      if (key > rootKey) {
        store<u32>(hk, key);
        store<u32>(hi, <u32>s);
        siftDown(hk, hi, 0, k);
        rootKey = load<u32>(hk);
      }
    }
    // Insertion sort into output order (best first).
    const oi = idxPtr + ((<usize>r * <usize>k) << 2);
    const ov = valPtr + ((<usize>r * <usize>k) << 2);
    for (let j: i32 = 0; j < k; j++) {
      const key = load<u32>(hk + (<usize>j << 2));
      const ix = load<u32>(hi + (<usize>j << 2));
      let q = j;
      while (q > 0) {
        const pk = load<u32>(hk + (<usize>(q - 1) << 2));
        const pi = load<u32>(hi + (<usize>(q - 1) << 2));
        if (!worse(pk, pi, key, ix)) break;
        store<u32>(hk + (<usize>q << 2), pk);
        store<u32>(hi + (<usize>q << 2), pi);
        q--;
      }
      store<u32>(hk + (<usize>q << 2), key);
      store<u32>(hi + (<usize>q << 2), ix);
    }
    for (let j: i32 = 0; j < k; j++) {
      const ix = load<u32>(hi + (<usize>j << 2));
      store<u32>(oi + (<usize>j << 2), ix);
      store<f32>(ov + (<usize>j << 2), load<f32>(row + (<usize>ix << 2)));
    }
  }
}

function siftDown(hk: usize, hi: usize, start: i32, n: i32): void {
  let j = start;
  const key = load<u32>(hk + (<usize>j << 2));
  const ix = load<u32>(hi + (<usize>j << 2));
  while (true) {
    let c = 2 * j + 1;
    if (c >= n) break;
    let ck = load<u32>(hk + (<usize>c << 2));
    let ci = load<u32>(hi + (<usize>c << 2));
    if (c + 1 < n) {
      const rk = load<u32>(hk + (<usize>(c + 1) << 2));
      const ri = load<u32>(hi + (<usize>(c + 1) << 2));
      if (worse(rk, ri, ck, ci)) {
        c++;
        ck = rk;
        ci = ri;
      }
    }
    if (!worse(ck, ci, key, ix)) break;
    store<u32>(hk + (<usize>j << 2), ck);
    store<u32>(hi + (<usize>j << 2), ci);
    j = c;
  }
  store<u32>(hk + (<usize>j << 2), key);
  store<u32>(hi + (<usize>j << 2), ix);
}

// ---------------------------------------------------------------------------------------------------------------
// Sparse TopK decode and backward (src/reference/decode.ts, src/reference/backward.ts).
// ---------------------------------------------------------------------------------------------------------------

/**
 * x̂[r] = Σ_j max(value[r, j], 0)·W_dec[index[r, j]] + b_dec, the terms in increasing j (zeros skipped).
 * xHat f32 [R, D]; W_dec f32 [S, D].
 */
export function decode(
  idxPtr: usize,
  valPtr: usize,
  wDecPtr: usize,
  bDecPtr: usize,
  xHatPtr: usize,
  R: i32,
  D: i32,
  k: i32,
): void {
  const rowBytes = <usize>D << 2;
  for (let r: i32 = 0; r < R; r++) {
    const out = xHatPtr + <usize>r * rowBytes;
    memory.fill(out, 0, rowBytes);
    for (let j: i32 = 0; j < k; j++) {
      const p = (<usize>r * <usize>k + <usize>j) << 2;
      const z = max(load<f32>(valPtr + p), 0);
      if (z == 0) continue;
      const w = wDecPtr + <usize>load<u32>(idxPtr + p) * rowBytes;
      axpy(z, w, out, D);
    }
    // + b_dec
    let d: i32 = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(bDecPtr + o)));
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(bDecPtr + o));
    }
  }
}

/** y[0..n) += a·x[0..n) elementwise (f32, each element a·x rounded then added). */
// @ts-expect-error AssemblyScript decorator
@inline
function axpy(a: f32, xPtr: usize, yPtr: usize, n: i32): void {
  const av = f32x4.splat(a);
  let d: i32 = 0;
  for (; d + 4 <= n; d += 4) {
    const o = <usize>d << 2;
    v128.store(yPtr + o, f32x4.add(v128.load(yPtr + o), f32x4.mul(av, v128.load(xPtr + o))));
  }
  for (; d < n; d++) {
    const o = <usize>d << 2;
    store<f32>(yPtr + o, load<f32>(yPtr + o) + a * load<f32>(xPtr + o));
  }
}

/** out[i] = a[i] − b[i] for i < n. */
export function sub(aPtr: usize, bPtr: usize, outPtr: usize, n: i32): void {
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(outPtr + o, f32x4.sub(v128.load(aPtr + o), v128.load(bPtr + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(outPtr + o, load<f32>(aPtr + o) - load<f32>(bPtr + o));
  }
}

/** x[i] ← x[i]·a for i < n. */
export function scale(xPtr: usize, a: f32, n: i32): void {
  const av = f32x4.splat(a);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(xPtr + o, f32x4.mul(v128.load(xPtr + o), av));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(xPtr + o, load<f32>(xPtr + o) * a);
  }
}

/**
 * The sparse backward pass over the (row, slot) pairs p = r·k + j in increasing p (src/reference/backward.ts), as two
 * kernels, phase 1 {@link sparseGrad} then phase 2 {@link sparseScatter} (every element gets the same operations in
 * the same order as one interleaved pass; the host runs both on one thread or splits each across threads):
 *   gPre[p] = v_p > 0 ? (Σ_d diff[r,d]·W_dec[s,d])·scale : 0       (the dot in increasing d, one f32 chain)
 *   accDec[s] += v_p·diff[r];  gWencT[s] += gPre[p]·xc[r];  gBenc[s] += gPre[p];  fire[s] += 1   (v_p > 0 only)
 * diff = x̂ − x and xc = x − b_dec f32 [R, D]; accDec, gWencT f32 [S, D], gBenc f32 [S], fire u32 [S] are added to
 * (the host zeroes them). The caller scales accDec by `scale` and transposes gWencT into ∂W_enc [D, S].
 *
 * Phase 1 (rows [0, R) of a thread's share): gPre[p] only.
 */
export function sparseGrad(
  diffPtr: usize,
  wDecPtr: usize,
  idxPtr: usize,
  valPtr: usize,
  gPrePtr: usize,
  R: i32,
  D: i32,
  k: i32,
  scl: f32,
): void {
  const rowBytes = <usize>D << 2;
  for (let r: i32 = 0; r < R; r++) {
    const dr = diffPtr + <usize>r * rowBytes;
    for (let j: i32 = 0; j < k; j++) {
      const p = (<usize>r * <usize>k + <usize>j) << 2;
      const v = load<f32>(valPtr + p);
      if (!(v > 0)) {
        store<f32>(gPrePtr + p, 0);
        continue;
      }
      const w = wDecPtr + <usize>load<u32>(idxPtr + p) * rowBytes;
      let dot: f32 = 0;
      for (let d: i32 = 0; d < D; d++) dot += load<f32>(dr + (<usize>d << 2)) * load<f32>(w + (<usize>d << 2));
      store<f32>(gPrePtr + p, dot * scl);
    }
  }
}

/**
 * Sparse backward, phase 2 (see {@link sparseGrad}): the scatter restricted to columns [d0, d1) of accDec and gWencT,
 * over every pair in increasing p (so each element gets the same adds in the same order). counts ≠ 0: also
 * fire[s] += 1 and gBenc[s] += gPre[p] (one range only).
 */
export function sparseScatter(
  diffPtr: usize,
  xcPtr: usize,
  idxPtr: usize,
  valPtr: usize,
  gPrePtr: usize,
  firePtr: usize,
  accDecPtr: usize,
  gWencTPtr: usize,
  gBencPtr: usize,
  R: i32,
  D: i32,
  k: i32,
  d0: i32,
  d1: i32,
  counts: i32,
): void {
  const rowBytes = <usize>D << 2;
  const off = <usize>d0 << 2;
  const n = d1 - d0;
  for (let r: i32 = 0; r < R; r++) {
    const dr = diffPtr + <usize>r * rowBytes + off;
    const xr = xcPtr + <usize>r * rowBytes + off;
    for (let j: i32 = 0; j < k; j++) {
      const p = (<usize>r * <usize>k + <usize>j) << 2;
      const v = load<f32>(valPtr + p);
      if (!(v > 0)) continue;
      const s = <usize>load<u32>(idxPtr + p);
      const gp = load<f32>(gPrePtr + p);
      if (n > 0) {
        axpy(v, dr, accDecPtr + s * rowBytes + off, n);
        axpy(gp, xr, gWencTPtr + s * rowBytes + off, n);
      }
      if (counts != 0) {
        store<u32>(firePtr + (s << 2), load<u32>(firePtr + (s << 2)) + 1);
        store<f32>(gBencPtr + (s << 2), load<f32>(gBencPtr + (s << 2)) + gp);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Adam and the decoder constraint (src/reference/adam.ts, src/reference/decoder-constraint.ts).
// ---------------------------------------------------------------------------------------------------------------

/**
 * One Adam step in place over n elements, every operation in f32 in the order of adamStepAt:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − lr·((m/bc1) / (√(v/bc2) + ε)).
 */
export function adam(
  pPtr: usize,
  mPtr: usize,
  vPtr: usize,
  gPtr: usize,
  n: i32,
  lr: f32,
  b1: f32,
  omb1: f32,
  b2: f32,
  omb2: f32,
  eps: f32,
  bc1: f32,
  bc2: f32,
): void {
  const vlr = f32x4.splat(lr);
  const vb1 = f32x4.splat(b1);
  const vomb1 = f32x4.splat(omb1);
  const vb2 = f32x4.splat(b2);
  const vomb2 = f32x4.splat(omb2);
  const veps = f32x4.splat(eps);
  const vbc1 = f32x4.splat(bc1);
  const vbc2 = f32x4.splat(bc2);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(gPtr + o);
    const m = f32x4.add(f32x4.mul(vb1, v128.load(mPtr + o)), f32x4.mul(vomb1, g));
    const v = f32x4.add(f32x4.mul(vb2, v128.load(vPtr + o)), f32x4.mul(vomb2, f32x4.mul(g, g)));
    v128.store(mPtr + o, m);
    v128.store(vPtr + o, v);
    const step = f32x4.mul(vlr, f32x4.div(f32x4.div(m, vbc1), f32x4.add(f32x4.sqrt(f32x4.div(v, vbc2)), veps)));
    v128.store(pPtr + o, f32x4.sub(v128.load(pPtr + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gPtr + o);
    const m: f32 = b1 * load<f32>(mPtr + o) + omb1 * g;
    const v: f32 = b2 * load<f32>(vPtr + o) + omb2 * (g * g);
    store<f32>(mPtr + o, m);
    store<f32>(vPtr + o, v);
    const step: f32 = lr * (m / bc1 / (sqrt<f32>(v / bc2) + eps));
    store<f32>(pPtr + o, load<f32>(pPtr + o) - step);
  }
}

/** g[s] ← g[s] − (⟨g[s], w[s]⟩/⟨w[s], w[s]⟩)·w[s] per row of W_dec [S, D] (rows with w = 0 left alone). */
export function projectDecoderGrad(gPtr: usize, wPtr: usize, S: i32, D: i32): void {
  const rowBytes = <usize>D << 2;
  for (let s: i32 = 0; s < S; s++) {
    const g = gPtr + <usize>s * rowBytes;
    const w = wPtr + <usize>s * rowBytes;
    let gw: f32 = 0;
    let ww: f32 = 0;
    for (let d: i32 = 0; d < D; d++) {
      const wv = load<f32>(w + (<usize>d << 2));
      gw += load<f32>(g + (<usize>d << 2)) * wv;
      ww += wv * wv;
    }
    if (!(ww > 0)) continue;
    axpy(-(gw / ww), w, g, D);
  }
}

/** w[s] ← w[s]/‖w[s]‖ per row of W_dec [S, D] (rows with norm 0 left alone). */
export function normalizeRows(wPtr: usize, S: i32, D: i32): void {
  const rowBytes = <usize>D << 2;
  for (let s: i32 = 0; s < S; s++) {
    const w = wPtr + <usize>s * rowBytes;
    let ww: f32 = 0;
    for (let d: i32 = 0; d < D; d++) {
      const wv = load<f32>(w + (<usize>d << 2));
      ww += wv * wv;
    }
    if (!(ww > 0)) continue;
    const norm = sqrt<f32>(ww);
    const nv = f32x4.splat(norm);
    let d: i32 = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      v128.store(w + o, f32x4.div(v128.load(w + o), nv));
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      store<f32>(w + o, load<f32>(w + o) / norm);
    }
  }
}
