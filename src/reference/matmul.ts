/**
 * CPU twin of shaders/matmul.wgsl: C[M, N] = op(A)[M, K] · op(B)[K, N] + bias[N].
 * Accumulates in float32 in increasing k, as each GPU invocation does, so results agree to a few ulps.
 */
import type { MatmulShape } from '../sae/kernel-types';

/**
 * @param a f32, [M, K] row-major, or [K, M] when shape.transA
 * @param b f32, [K, N] row-major, or [N, K] when shape.transB
 * @param bias f32 [N] or null
 * @returns C f32 [M, N]
 * @throws RangeError when an input is shorter than its shape needs.
 */
export function matmulCpu(
  a: Float32Array,
  b: Float32Array,
  bias: Float32Array | null,
  shape: MatmulShape,
): Float32Array {
  const { M, N, K } = shape;
  if (a.length < M * K) throw new RangeError(`matmulCpu: A has ${a.length} elements, needs ${M * K}`);
  if (b.length < K * N) throw new RangeError(`matmulCpu: B has ${b.length} elements, needs ${K * N}`);
  if (bias && bias.length < N)
    throw new RangeError(`matmulCpu: bias has ${bias.length} elements, needs ${N}`);
  // Same value as the naive loop (every C[m, n] sums f32 products in increasing k), computed as row updates
  // C[m, :] += f(A[m, k]·B[k, :]) that read memory contiguously and skip the zero entries of the sparser
  // operand. Skipping is exact when the other operand is finite: f(±0·b) = ±0 leaves a sum unchanged (the sum
  // starts at +0 and a round-to-nearest sum is never −0 unless both terms are), so with a NaN or ±∞ present
  // nothing is skipped and the NaN/∞ propagates as on the GPU.
  const am = shape.transA ? transpose(a, K, M) : a; // [M, K]
  const bm = shape.transB ? transpose(b, N, K) : b; // [K, N]
  let c: Float32Array;
  if (zeros(bm, K * N) > zeros(am, M * K) && allFinite(am, M * K)) {
    // Cᵀ = Bᵀ·Aᵀ with the zeros of B skipped (products commute, order in k unchanged).
    c = transpose(rowUpdates(transpose(bm, K, N), transpose(am, M, K), N, M, K, true), N, M);
  } else {
    c = rowUpdates(am, bm, M, N, K, allFinite(bm, K * N));
  }
  if (bias) for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) c[m * N + n] += bias[n];
  return c;
}

/** C[M, N] with C[m, :] += f(A[m, k]·B[k, :]) for k ascending; A [M, K], B [K, N]; zero A[m, k] skipped if `skip`. */
function rowUpdates(
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  skip: boolean,
): Float32Array {
  const f = Math.fround;
  const c = new Float32Array(M * N); // a Float32Array store rounds like f(acc + p)
  for (let m = 0; m < M; m++) {
    const out = m * N;
    for (let k = 0; k < K; k++) {
      const av = a[m * K + k];
      if (skip && av === 0) continue;
      const row = k * N;
      for (let n = 0; n < N; n++) c[out + n] += f(av * b[row + n]);
    }
  }
  return c;
}

/** The [cols, rows] transpose of a row-major [rows, cols] matrix. */
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
  return t;
}

/** Number of zero entries among the first n of x. */
function zeros(x: Float32Array, n: number): number {
  let z = 0;
  for (let i = 0; i < n; i++) if (x[i] === 0) z++;
  return z;
}

/** True when the first n entries of x are all finite (no NaN, no ±∞). */
function allFinite(x: Float32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}
