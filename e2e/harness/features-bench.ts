/**
 * The `features` bench suite (issue 15): the whole feature pass (src/features/gpu-pass.ts: encoder, latents, both
 * per-latent passes, read-back) ÷ the encoder matmul alone (shaders/encoder.wgsl) over the same tokens, in the same
 * blocks, with the same uploads, on the same adapter — target ≤ 2. Also the CPU pass (featurePassCpu, the path the
 * lab takes when the CPU engine is chosen) in this context, for scale. On the built-in demo's first `tokens` rows
 * (options.tokens, default 8,192), a seeded TopK SAE (d_sae = options.dSae, default 512, k = 8), blocks of 1,024.
 * The three GPU measures are timed in interleaved rounds (encoder, encoder + TopK, pass; repeated), medians reported,
 * plus the ratio of each round.
 */

import { featurePassGpu } from '../../src/features/gpu-pass';
import { featurePassCpu } from '../../src/features/pass';
import type { Gpu } from '../../src/gpu/device';
import { createEncoder } from '../../src/gpu/kernels/encoder';
import { createTopK } from '../../src/gpu/kernels/topk';
import { inferenceSaeFromParams } from '../../src/lm/sae-splice';
import { initSaeParams } from '../../src/sae/init';
import { median } from './bench';
import { loadActivations } from './checks/train-run';

const BLOCK = 1024;

/**
 * Time each of `fns` once to warm up, then `reps` rounds of each in turn (interleaved, so a change of the shared
 * machine's load hits every measure alike). Returns per function its times in ms, one per round.
 */
async function timedRounds(fns: (() => Promise<unknown>)[], reps: number): Promise<number[][]> {
  for (const fn of fns) await fn();
  const out = fns.map(() => [] as number[]);
  for (let i = 0; i < reps; i++) {
    for (const [j, fn] of fns.entries()) {
      const t0 = performance.now();
      await fn();
      out[j].push(performance.now() - t0);
    }
  }
  return out;
}

/** The suite (see the module comment). */
export async function featuresBench(gpu: Gpu, reps: number, options: Record<string, unknown>) {
  const npy = await loadActivations('/demo/stories260K.resid_post.2.f32.npy');
  const D = npy.cols;
  const T = Math.min(npy.rows, Number(options.tokens ?? 8_192));
  const S = Number(options.dSae ?? 512);
  const k = 8;
  const x = npy.data.subarray(0, T * D);
  const shape = { dModel: D, dSae: S, k, batchSize: BLOCK };
  const sae = inferenceSaeFromParams(initSaeParams(shape, 42, x.subarray(0, BLOCK * D)), shape, 1);
  const rows = { nTokens: T, read: async (a: number, n: number) => x.subarray(a * D, (a + n) * D) };
  const r = Math.max(1, Math.min(reps, 3));

  // The encoder alone over the same blocks (upload + matmul per block, one submit each; the pass records up to
  // SUBMIT_ROWS rows per submit, src/features/gpu-pass.ts).
  const bufs = {
    x: gpu.storage('bench-features:x', BLOCK * D * 4),
    wEnc: gpu.storage('bench-features:W_enc', sae.wEnc),
    bEnc: gpu.storage('bench-features:b_enc', sae.bEnc),
    bDec: gpu.storage('bench-features:b_dec', sae.bDec),
    pre: gpu.storage('bench-features:pre', BLOCK * S * 4),
  };
  const encoders = new Map<number, ReturnType<typeof createEncoder>>();
  const encoderRun = async () => {
    for (let a = 0; a < T; a += BLOCK) {
      const n = Math.min(BLOCK, T - a);
      let e = encoders.get(n);
      if (!e) {
        e = createEncoder(gpu, { rows: n, dModel: D, dSae: S }, 'bench-features:encoder');
        encoders.set(n, e);
      }
      gpu.write(bufs.x, await rows.read(a, n));
      const enc = e;
      await gpu.run('bench-features', (p) => enc.encode(p, bufs));
    }
  };
  // Breakdown: the encoder and the TopK selection alone (the latents the pass needs), same blocks.
  const topks = new Map<number, ReturnType<typeof createTopK>>();
  const sel = {
    indices: gpu.storage('bench-features:indices', BLOCK * k * 4),
    values: gpu.storage('bench-features:values', BLOCK * k * 4),
  };
  const encoderTopkRun = async () => {
    for (let a = 0; a < T; a += BLOCK) {
      const n = Math.min(BLOCK, T - a);
      const e = encoders.get(n);
      let t = topks.get(n);
      if (!t) {
        t = createTopK(gpu, { rows: n, dSae: S, k }, 'bench-features:topk');
        topks.set(n, t);
      }
      gpu.write(bufs.x, await rows.read(a, n));
      const tk = t;
      await gpu.run('bench-features', (p) => {
        e?.encode(p, bufs);
        tk.encode(p, { pre: bufs.pre, ...sel });
      });
    }
  };
  let live = 0;
  const passRun = async () => {
    const st = await featurePassGpu(gpu, sae, rows, { blockRows: BLOCK });
    live = st.count.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
  };
  const [encoderTimes, encoderTopkTimes, passTimes] = await timedRounds(
    [encoderRun, encoderTopkRun, passRun],
    r,
  );
  for (const e of [...encoders.values(), ...topks.values()]) e.destroy();
  for (const b of [...Object.values(bufs), ...Object.values(sel)]) b.destroy();
  const [encoderMs, encoderTopkMs, passMs] = [encoderTimes, encoderTopkTimes, passTimes].map(median);
  const [cpuMs] = (await timedRounds([() => featurePassCpu(sae, rows, { blockRows: BLOCK })], 1))[0];
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    shape: { tokens: T, d_model: D, d_sae: S, k, block_rows: BLOCK },
    encoder_ms: round(encoderMs),
    encoder_topk_ms: round(encoderTopkMs),
    gpu_pass_ms: round(passMs),
    ratio_encoder_topk_to_encoder: round(encoderTopkMs / encoderMs),
    ratio_pass_to_encoder: round(passMs / encoderMs),
    ratio_pass_to_encoder_per_round: passTimes.map((t, i) => round(t / encoderTimes[i])),
    target_ratio: 2,
    cpu_pass_ms: round(cpuMs),
    cpu_pass_to_gpu_pass: round(cpuMs / passMs),
    live_latents: live,
  };
}
