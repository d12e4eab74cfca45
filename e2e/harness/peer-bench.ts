/**
 * The peer suite of the bench: TF.js (dev dependency only) running the same TopK SAE training step and the same
 * encoder-shaped matmul as SAE Lab, on a named backend ('wasm' = XNNPACK with SIMD, 'webgpu' = the same adapter as
 * our WGSL engine). Timed correctly: every timed region ends with `await t.data()` on the result, so TF.js's
 * asynchronous queue cannot make it look faster than it is. Shared by the browser bench (suite `peer` of
 * e2e/harness/bench.ts, via e2e/harness/peer-browser.ts) and `npm run bench:node` (scripts/bench-peer.ts).
 *
 * The TF.js step: pre = (x − b_dec)·W_enc + b_enc; the k-th largest pre-activation of each row (tf.topk) masks
 * z = ReLU(pre)·[pre ≥ kth]; x̂ = z·W_dec + b_dec; loss = mean (x − x̂)²; gradients by autodiff; Adam (tf.train.adam)
 * on the four tensors. (Dense decode and backward: TF.js has no sparse path; the decoder constraint is omitted,
 * which only flatters the peer.)
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import type * as TfCore from '@tensorflow/tfjs-core';
import { initSaeParams } from '../../src/sae/init';
import type { SaeShape } from '../../src/sae/types';
import { Rng } from '../../src/util/rng';

/** One peer case. */
export interface PeerResult {
  backend: string;
  shape: { dModel: number; dSae: number; k: number; batchSize: number };
  stepMs: number;
  matmulMs: number;
  matmulGflops: number;
  rounds: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Time TF.js on `backend` (already registered) at each shape. @param rounds medians over this many timed calls
 * (after one warm-up) @throws Error when the backend cannot be set
 */
export async function tfjsSuite(
  backend: 'wasm' | 'webgpu',
  shapes: SaeShape[],
  rounds: number,
): Promise<PeerResult[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend "${backend}" could not be initialised`);
  await tf.ready();
  const out: PeerResult[] = [];
  for (const shape of shapes) {
    const { dModel: D, dSae: S, k, batchSize: B } = shape;
    const rng = new Rng(11);
    const xs = rng.normalArray(B * D);
    const init = initSaeParams(shape, 1, xs);
    const x = tf.tensor2d(xs, [B, D]);
    const wEnc = tf.variable(tf.tensor2d(init.wEnc, [D, S]));
    const wDec = tf.variable(tf.tensor2d(init.wDec, [S, D]));
    const bEnc = tf.variable(tf.tensor1d(init.bEnc));
    const bDec = tf.variable(tf.tensor1d(init.bDec));
    const opt = tf.train.adam(1e-4, 0, 0.999, 1e-8);
    // The TopK mask [pre ≥ k-th largest of its row], held fixed in the backward pass (zero gradient).
    const topkMask = tf.customGrad((...args: (TfCore.Tensor | TfCore.GradSaveFunc)[]) => {
      const pre = args[0] as TfCore.Tensor;
      return {
        value: tf.cast(
          tf.greaterEqual(pre, tf.min(tf.topk(pre as TfCore.Tensor2D, k).values, 1, true)),
          'float32',
        ),
        gradFunc: (dy: TfCore.Tensor) => tf.zerosLike(dy),
      };
    });
    const step = async () => {
      const loss = opt.minimize(
        () => {
          const pre = tf.add(tf.matMul(tf.sub(x, bDec), wEnc), bEnc);
          const z = tf.mul(tf.relu(pre), topkMask(pre));
          const xHat = tf.add(tf.matMul(z, wDec), bDec);
          return tf.mean(tf.square(tf.sub(x, xHat))) as TfCore.Scalar;
        },
        true,
        [wEnc, wDec, bEnc, bDec],
      );
      await loss?.data();
      loss?.dispose();
    };
    const a = tf.tensor2d(xs, [B, D]);
    const b = tf.tensor2d(init.wEnc, [D, S]);
    const matmul = async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    };
    const time = async (fn: () => Promise<void>) => {
      await fn();
      const samples: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        await fn();
        samples.push(performance.now() - t0);
      }
      return median(samples);
    };
    const stepMs = await time(step);
    const matmulMs = await time(matmul);
    out.push({
      backend,
      shape: { dModel: D, dSae: S, k, batchSize: B },
      stepMs,
      matmulMs,
      matmulGflops: (2 * B * D * S) / (matmulMs * 1e6),
      rounds,
    });
    tf.dispose([x, wEnc, wDec, bEnc, bDec, a, b]);
    opt.dispose();
  }
  return out;
}
