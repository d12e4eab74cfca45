import { type MatmulTile, matmulGpu, matmulUsesVec4 } from '../../../src/gpu/kernels/matmul';
import { compareArrays } from '../../../src/reference/compare';
import { matmulCpu } from '../../../src/reference/matmul';
import { Rng } from '../../../src/util/rng';
import { type Check, flag, num } from './types';
import { conditionReport } from './util';

/**
 * matmul: params M, N, K, seed, bias, transA, transB; optionally a vec4 tile (wg, tm, tn, bk; vec4 = 0 forces the
 * scalar shader) and expectVec4 = 0 or 1 (also report whether the vec4 shader ran, per matmulUsesVec4).
 * Tolerance 1e-5 rel + 1e-6 abs.
 */
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
  const tile: MatmulTile | undefined =
    typeof p['wg'] === 'number' || typeof p['vec4'] === 'number'
      ? {
          wg: num(p, 'wg', 16),
          tm: num(p, 'tm', 4),
          tn: num(p, 'tn', 4),
          bk: num(p, 'bk', 16),
          vec4: p['vec4'] !== 0,
        }
      : undefined;
  const vec4 = matmulUsesVec4(shape, tile);
  const got = await matmulGpu(gpu, a, b, bias, shape, tile);
  const want = matmulCpu(a, b, bias, shape);
  const tileTag = tile ? ` tile ${tile.wg}²·${tile.tm}x${tile.tn}/${tile.bk}` : '';
  const tag = `matmul ${shape.M}×${shape.N}×${shape.K}${bias ? '+bias' : ''}${shape.transA ? ' Aᵀ' : ''}${shape.transB ? ' Bᵀ' : ''}${tileTag} (${vec4 ? 'vec4' : 'scalar'}) C`;
  const reports = [compareArrays(tag, got, want, { atol: 1e-6, rtol: 1e-5 })];
  if (typeof p['expectVec4'] === 'number')
    reports.push(
      conditionReport(
        `${tag}: vec4 shader chosen = ${p['expectVec4'] === 1}`,
        vec4 === (p['expectVec4'] === 1),
        `vec4 ${vec4}`,
      ),
    );
  return reports;
};
