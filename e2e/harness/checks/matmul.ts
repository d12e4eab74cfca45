import { matmulGpu } from '../../../src/gpu/kernels/matmul';
import { compareArrays } from '../../../src/reference/compare';
import { matmulCpu } from '../../../src/reference/matmul';
import { Rng } from '../../../src/util/rng';
import { type Check, flag, num } from './types';

/** matmul: params M, N, K, seed, bias, transA, transB. Tolerance 1e-5 rel + 1e-6 abs. */
export const matmulCheck: Check = async (gpu, p) => {
  const shape = {
    M: num(p, 'M'),
    N: num(p, 'N'),
    K: num(p, 'K'),
    transA: flag(p, 'transA'),
    transB: flag(p, 'transB'),
  };
  const rng = new Rng(num(p, 'seed', 1));
  const a = rng.uniformArray(shape.M * shape.K);
  const b = rng.uniformArray(shape.K * shape.N);
  const bias = flag(p, 'bias') ? rng.uniformArray(shape.N) : null;
  const got = await matmulGpu(gpu, a, b, bias, shape);
  const want = matmulCpu(a, b, bias, shape);
  const tag = `matmul ${shape.M}×${shape.N}×${shape.K}${bias ? '+bias' : ''}${shape.transA ? ' Aᵀ' : ''}${shape.transB ? ' Bᵀ' : ''} C`;
  return [compareArrays(tag, got, want, { atol: 1e-6, rtol: 1e-5 })];
};
