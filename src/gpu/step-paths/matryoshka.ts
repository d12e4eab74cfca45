/**
 * Step path 'matryoshka' (Matryoshka BatchTopK, Bussmann et al. 2025; src/sae/archs/matryoshka.ts): BatchTopK's
 * batch selection and running θ on dense latents z [B, S], then the nested-prefix reconstructions and their
 * gradients (shaders/matryoshka.wgsl), the masked activation backward and ∂W_enc = xcᵀ·∂pre. Evaluation is the
 * dense forward with θ (a JumpReLU), as for BatchTopK. CPU twin: matryoshkaPath in src/reference/step-paths.ts.
 *
 *   A: encoder → batchtopk select + running θ
 *   B: matryoshka_residual (x̂, G) → dense_rows (row sums, xc) → matryoshka_grad_z → matryoshka_grad_w_dec →
 *      activation_backward (masked: ∂pre, ∂b_enc, fire counts) → matmul ∂W_enc = xcᵀ∂pre → matryoshka_grad_b_dec
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, M = prefixes.
 */
import { matryoshkaEndsOf } from '../../sae/archs/matryoshka';
import { lossGradScale } from '../../sae/formulas';
import { createMatmul } from '../kernels/matmul';
import { createMatryoshka } from '../kernels/matryoshka';
import type { GpuStepContext, GpuStepPath } from '../step-path';
import {
  createDenseBuffers,
  createDenseForward,
  denseEvalForward,
  encodeActivationBackward,
  prepareDense,
} from './dense';
import { createBatchTopKSelection } from './sparse-batchtopk';

/** Step path 'matryoshka'. */
export function matryoshkaPath(ctx: GpuStepContext): GpuStepPath {
  const { gpu, res, bufs: b } = ctx;
  const { dModel: D, dSae: S, batchSize: B } = ctx.shape;
  const p = b.params;
  const g = b.grads;
  const scale = lossGradScale(B, D);
  const d = createDenseBuffers(res, B, D, S);
  const fwd = createDenseForward(ctx, res, B, scale, 'sae');
  const sel = createBatchTopKSelection(ctx, fwd.encoder, d.z);
  const ends = matryoshkaEndsOf(ctx.arch, S);
  const mk = res.own(createMatryoshka(gpu, { rows: B, dModel: D, dSae: S }, ends, scale, 'sae:matryoshka'));
  const mmGradWenc = res.own(createMatmul(gpu, { M: D, N: S, K: B, transA: true }, 'sae:mm-grad-w-enc'));
  return {
    col: d.col,
    prepare(hyper, t, lambda) {
      prepareDense(ctx, fwd.activation, null, hyper, t, lambda);
      sel.prepare(t);
    },
    stagesA: () => sel.stagesA(),
    stagesB: () => [
      [
        'decode',
        (pass) => {
          mk.encodeResidual(pass, { x: b.x, z: d.z, wDec: p.wDec, bDec: p.bDec, xHat: b.xHat });
          fwd.rows.encode(pass, {
            x: b.x,
            xHat: b.xHat,
            bDec: p.bDec,
            rowStats: b.rowStats,
            g: d.g,
            xc: d.xc,
          });
        },
      ],
      [
        'backward',
        (pass) => {
          mk.encodeGradZ(pass, { z: d.z, wDec: p.wDec, gradZ: d.grad });
          mk.encodeGradWdec(pass, { z: d.z, gWdec: g.wDec });
          encodeActivationBackward(pass, fwd.activation, b, d);
          mmGradWenc.encode(pass, { a: d.xc, b: d.grad, bias: null, c: g.wEnc });
          mk.encodeGradBdec(pass, { wEnc: p.wEnc, gBenc: g.bEnc, gBdec: g.bDec });
        },
      ],
    ],
    fireCounts: () => d.col,
    encodeAfterAdam() {},
    createForward: (rows, setRes, tag) => denseEvalForward(ctx, d, rows, setRes, tag),
  };
}
