/**
 * CPU twin of shaders/matmul.wgsl: C[M, N] = op(A)[M, K] · op(B)[K, N] + bias[N].
 * Accumulates in float32 in increasing k, as each GPU invocation does, so results agree to a few ulps.
 */
import type { MatmulShape } from '../gpu/kernels/matmul';

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
  const f = Math.fround;
  const c = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const av = shape.transA ? a[k * M + m] : a[m * K + k];
        const bv = shape.transB ? b[n * K + k] : b[k * N + n];
        acc = f(acc + f(av * bv));
      }
      c[m * N + n] = bias ? f(acc + bias[n]) : acc;
    }
  }
  return c;
}
