/**
 * GPU-vs-CPU check of shaders/matryoshka.wgsl (src/gpu/kernels/matryoshka.ts) against its CPU twin
 * (src/reference/matryoshka.ts) on seeded dense-path data: z is BatchTopK's selection of the encoder's
 * pre-activations, ∂b_enc a random vector. params.widths = a comma-separated list of prefix widths as fractions of
 * d_sae (default the registry's MATRYOSHKA_WIDTHS). Tolerances: x̂ and G within 1e-5·max + rtol 1e-4 (the GPU may fuse multiply-adds);
 * ∂z, ∂W_dec, ∂b_dec within 1e-4·max + rtol 1e-3 (sums over D or R of those); ∂z exactly zero where z is.
 */
import { matryoshkaGpu } from '../../../src/gpu/kernels/matryoshka';
import { lossGradScale } from '../../../src/reference/backward';
import { batchTopkCpu } from '../../../src/reference/batchtopk';
import { compareArrays } from '../../../src/reference/compare';
import { encoderCpu } from '../../../src/reference/encoder';
import {
  matryoshkaGradBdecCpu,
  matryoshkaGradWdecCpu,
  matryoshkaGradZCpu,
  matryoshkaResidualCpu,
} from '../../../src/reference/matryoshka';
import { MATRYOSHKA_WIDTHS, matryoshkaPrefixEnds } from '../../../src/sae/archs/matryoshka';
import { initSaeParams } from '../../../src/sae/init';
import { Rng } from '../../../src/util/rng';
import { type Check, num } from './types';
import { activations, conditionReport, scaledTol } from './util';

export const matryoshkaCheck: Check = async (gpu, p) => {
  const R = num(p, 'rows');
  const D = num(p, 'dModel');
  const S = num(p, 'dSae');
  const k = num(p, 'k');
  const seed = num(p, 'seed', 1);
  const widths = typeof p.widths === 'string' ? p.widths.split(',').map(Number) : MATRYOSHKA_WIDTHS;
  const ends = matryoshkaPrefixEnds(S, widths);
  const rng = new Rng(seed);
  const x = activations(rng, R, D);
  const params = initSaeParams({ dModel: D, dSae: S, k, batchSize: R }, seed);
  for (let i = 0; i < params.bDec.length; i++) params.bDec[i] = rng.normal() * 0.3;
  const shape = { rows: R, dModel: D, dSae: S };
  const pre = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, shape);
  const { z } = batchTopkCpu(pre, R, S, k);
  const gBenc = rng.normalArray(S, 1e-2);
  const scale = lossGradScale(R, D);
  const want = matryoshkaResidualCpu(x, z, params.wDec, params.bDec, ends, scale, shape);
  const wantGz = matryoshkaGradZCpu(want.groupGrads, z, params.wDec, ends, shape);
  const wantGwdec = matryoshkaGradWdecCpu(want.groupGrads, z, ends, shape);
  const wantGbdec = matryoshkaGradBdecCpu(want.groupGrads, params.wEnc, gBenc, shape);
  const got = await matryoshkaGpu(
    gpu,
    { x, z, wDec: params.wDec, bDec: params.bDec, wEnc: params.wEnc, gBenc },
    ends,
    scale,
    shape,
  );
  const t = `matryoshka R=${R} D=${D} S=${S} k=${k} ends=[${ends.join(',')}]`;
  let zeroOk = true;
  for (let i = 0; i < z.length; i++) if (z[i] === 0 && got.gradZ[i] !== 0) zeroOk = false;
  return [
    compareArrays(`${t} x̂`, got.xHat, want.xHat, scaledTol(want.xHat, 1e-5, 1e-4)),
    compareArrays(`${t} G`, got.groupGrads, want.groupGrads, scaledTol(want.groupGrads, 1e-5, 1e-4)),
    compareArrays(`${t} ∂z`, got.gradZ, wantGz, scaledTol(wantGz, 1e-4, 1e-3)),
    compareArrays(`${t} ∂W_dec`, got.gWdec, wantGwdec, scaledTol(wantGwdec, 1e-4, 1e-3)),
    compareArrays(`${t} ∂b_dec`, got.gBdec, wantGbdec, scaledTol(wantGbdec, 1e-4, 1e-3)),
    conditionReport(`${t} ∂z is 0 where z is 0`, zeroOk, 'masked latents get no gradient'),
    conditionReport(
      `${t} has ${ends.length} prefixes`,
      ends.length === Math.min(widths.length, S),
      `${ends.length}`,
    ),
  ];
};
