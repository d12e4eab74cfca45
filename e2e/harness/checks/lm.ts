/**
 * GPU-vs-CPU checks of the language model (src/lm/): each kernel of src/lm/gpu/kernels.ts against its CPU twin at
 * odd shapes, the whole forward at another shape (random weights), the stories260K golden test on the GPU, and
 * patched CE on the GPU against the CPU.
 */

import { WasmCpuSaeEngine } from '../../../src/cpu/sae-engine';
import type { Gpu } from '../../../src/gpu/device';
import { fetchAppBytes } from '../../../src/lm/app-files';
import { parseNpyI32 } from '../../../src/lm/behaviour';
import { parseLlamaCheckpoint } from '../../../src/lm/checkpoint';
import { patchedCeCpu } from '../../../src/lm/corpus-cpu';
import {
  addCpu,
  attentionCpu,
  lmForwardCpu,
  logSoftmaxCpu,
  rmsnormCpu,
  ropeCpu,
  swigluCpu,
  tokenCeCpu,
  tokenKlCpu,
} from '../../../src/lm/forward-cpu';
import {
  createAttention,
  createKl,
  createLogSoftmax,
  createResidualAdd,
  createRmsnorm,
  createRope,
  createSwiglu,
  ropeTables,
} from '../../../src/lm/gpu/kernels';
import { GpuLlama, patchedCeGpu } from '../../../src/lm/gpu/model';
import { inferenceSaeFromParams, reconstructCpu, saeSplice } from '../../../src/lm/sae-splice';
import { ODD_CONFIG, randomModel } from '../../../src/lm/testing/random-model';
import { heldOutDocuments } from '../../../src/lm/text';
import { type CompareReport, compareArrays } from '../../../src/reference/compare';
import { patchedCeMetrics } from '../../../src/sae/metrics';
import { MemoryCheckpointStore } from '../../../src/train/checkpoint';
import { DEFAULT_CONFIG, type TrainConfig } from '../../../src/train/config';
import { memorySource } from '../../../src/train/testing/memory-source';
import { Trainer } from '../../../src/train/trainer';
import { Rng } from '../../../src/util/rng';
import golden from '../../fixtures/golden_stories260K.json';
import { loadActivations } from './train-run';
import { type Check, num } from './types';
import { conditionReport, scaledTol } from './util';

/** Run one recorded pass over fresh buffers and read the named outputs back. */
async function once(
  gpu: Gpu,
  inputs: Record<string, Float32Array | Uint32Array>,
  outputs: Record<string, number>,
  record: (b: Record<string, GPUBuffer>, pass: GPUComputePassEncoder) => void,
): Promise<Record<string, Float32Array>> {
  const b: Record<string, GPUBuffer> = {};
  for (const [k, v] of Object.entries(inputs)) b[k] = gpu.storage(`check:${k}`, v);
  for (const [k, n] of Object.entries(outputs)) b[k] ??= gpu.storage(`check:${k}`, Math.max(16, n * 4));
  try {
    await gpu.run('lm-check', (pass) => record(b, pass));
    const out: Record<string, Float32Array> = {};
    for (const [k, n] of Object.entries(outputs)) out[k] = await gpu.readF32(b[k], n);
    return out;
  } finally {
    for (const x of Object.values(b)) x.destroy();
  }
}

/** Every kernel at an odd shape: params T, heads, kvHeads, hs, hidden, vocab, seed. Tolerance 1e-5·max + 1e-4 rel. */
export const lmKernelsCheck: Check = async (gpu, p) => {
  const T = num(p, 'T');
  const Hq = num(p, 'heads');
  const Hkv = num(p, 'kvHeads');
  const hs = num(p, 'hs');
  const H = num(p, 'hidden');
  const V = num(p, 'vocab');
  const D = Hq * hs;
  const Dkv = Hkv * hs;
  const rng = new Rng(num(p, 'seed', 1));
  const reports: CompareReport[] = [];
  const cmp = (name: string, got: Float32Array, want: ArrayLike<number>) =>
    reports.push(compareArrays(`${name} T=${T} D=${D}`, got, want, scaledTol(want, 1e-5, 1e-4)));
  const x = rng.normalArray(T * D, 1);
  const g = rng.normalArray(D, 1);
  {
    const k = createRmsnorm(gpu, T, D, 'check:rmsnorm');
    const r = await once(gpu, { x, g }, { y: T * D }, (b, pass) => k.encode(pass, b.x, b.g, b.y));
    k.destroy();
    cmp('rmsnorm', r.y, rmsnormCpu(x, g, T, D));
  }
  {
    const t = ropeTables(T, hs);
    for (const width of [D, Dkv]) {
      const xs = rng.normalArray(T * width, 1);
      const k = createRope(gpu, T, width, hs, 'check:rope');
      const r = await once(gpu, { x: xs.slice(), cos: t.cos, sin: t.sin }, { x: T * width }, (b, pass) =>
        k.encode(pass, b.x, b.cos, b.sin),
      );
      k.destroy();
      ropeCpu(xs, T, width, hs);
      cmp(`rope width ${width}`, r.x, xs);
    }
  }
  {
    const q = rng.normalArray(T * D, 1);
    const kk = rng.normalArray(T * Dkv, 1);
    const v = rng.normalArray(T * Dkv, 1);
    const k = createAttention(gpu, T, Hq, Hkv, hs, 'check:attention');
    const r = await once(gpu, { q, k: kk, v }, { out: T * D }, (b, pass) =>
      k.encode(pass, b.q, b.k, b.v, b.out),
    );
    k.destroy();
    cmp(`attention Hq=${Hq} Hkv=${Hkv} hs=${hs}`, r.out, attentionCpu(q, kk, v, T, Hq, Hkv, hs));
  }
  {
    const a = rng.normalArray(T * H, 2);
    const bb = rng.normalArray(T * H, 1);
    const k = createSwiglu(gpu, T * H, 'check:swiglu');
    const r = await once(gpu, { a, b: bb }, { y: T * H }, (b, pass) => k.encode(pass, b.a, b.b, b.y));
    k.destroy();
    cmp('swiglu', r.y, swigluCpu(a, bb));
  }
  {
    const y = rng.normalArray(T * D, 1);
    const k = createResidualAdd(gpu, T * D, 'check:residual-add');
    const r = await once(gpu, { x: x.slice(), y }, { x: T * D }, (b, pass) => k.encode(pass, b.x, b.y));
    k.destroy();
    cmp('residual-add', r.x, addCpu(x, y));
  }
  {
    const logits = rng.normalArray(T * V, 3);
    const tokens = Array.from({ length: T }, () => rng.int(V));
    const targets = new Uint32Array(T);
    for (let t = 0; t + 1 < T; t++) targets[t] = tokens[t + 1];
    const k = createLogSoftmax(gpu, T, V, 'check:log-softmax');
    const r = await once(gpu, { logits: logits.slice(), targets }, { logits: T * V, ce: T }, (b, pass) =>
      k.encode(pass, b.logits, b.targets, b.ce),
    );
    k.destroy();
    const want = logSoftmaxCpu(logits.slice(), T, V);
    cmp(`log-softmax V=${V}`, r.logits, want);
    cmp('cross-entropy', r.ce.subarray(0, T - 1), tokenCeCpu(want, tokens, V));
    const other = logSoftmaxCpu(rng.normalArray(T * V, 3), T, V);
    const kl = createKl(gpu, T, V, 'check:kl');
    const rk = await once(gpu, { p: want, q: other }, { out: T }, (b, pass) =>
      kl.encode(pass, b.p, b.q, b.out),
    );
    kl.destroy();
    cmp('kl', rk.out.subarray(0, T - 1), tokenKlCpu(want, other, T, V));
  }
  return reports;
};

/** The forward of a random model of another shape (dim 48, 3 layers, 6/2 heads, vocab 300) vs the CPU twin. */
export const lmOddCheck: Check = async (gpu, p) => {
  const model = randomModel(ODD_CONFIG, num(p, 'seed', 7), 'odd');
  const rng = new Rng(num(p, 'seed', 7) + 1);
  const tokens = Array.from({ length: num(p, 'T', 37) }, () => rng.int(ODD_CONFIG.vocabSize));
  const gm = GpuLlama.create(gpu, model);
  try {
    const reports: CompareReport[] = [];
    const hook = 'blocks.1.hook_resid_post';
    let gotAct = new Float32Array();
    let wantAct = new Float32Array();
    const got = (await gm.forward(tokens, {
      hooks: { [hook]: { read: (x) => (gotAct = x.slice()) } },
    })) as Float32Array;
    const want = lmForwardCpu(model, tokens, {
      hooks: { [hook]: { read: (x) => (wantAct = x.slice()) } },
    }) as Float32Array;
    reports.push(compareArrays(`odd model ${hook}`, gotAct, wantAct, scaledTol(wantAct, 1e-5, 1e-4)));
    reports.push(compareArrays('odd model logits', got, want, scaledTol(want, 1e-5, 1e-4)));
    return reports;
  } finally {
    gm.destroy();
  }
};

/** max |a − b| / max(|b|, 1% of max|b|): the golden tests' relative error (src/lm/golden.test.ts). */
function goldenRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < b.length; i++)
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 0.01 * scale));
  return worst;
}

/** stories260K on the GPU against golden_stories260K.json within 1e-4 relative (resid 0–15 × every block, logits, CE). */
export const lmGoldenCheck: Check = async (gpu) => {
  const model = parseLlamaCheckpoint(await fetchAppBytes('lm/stories260K.bin'), 'stories260K.bin');
  const gm = GpuLlama.create(gpu, model);
  try {
    const tokens: number[] = golden.story1_tokens;
    const L = model.config.nLayers;
    const D = model.config.dim;
    const resid: Float32Array[] = [];
    const names = ['hook_embed', ...Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_post`)];
    const hooks = Object.fromEntries(
      names.map((n, k) => [n, { read: (x: Float32Array) => (resid[k] = x.slice(0, 16 * D)) }]),
    );
    const logits = (await gm.forward(tokens, { hooks })) as Float32Array;
    let worst = 0;
    for (let k = 0; k <= L; k++)
      worst = Math.max(
        worst,
        goldenRel(
          resid[k],
          (golden.story1_resid_first16 as number[][][]).flatMap((pos) => pos[k]),
        ),
      );
    const lrel = goldenRel(logits.slice(0, 16), golden.story1_logits_pos0_first16);
    const { ce } = await gm.tokenLosses(tokens);
    const mean = ce.reduce((s, v) => s + v, 0) / ce.length;
    const cerel = Math.abs(mean - golden.story1_mean_ce_nats) / golden.story1_mean_ce_nats;
    return [
      conditionReport(
        'golden resid (positions 0–15, every block)',
        worst < 1e-4,
        `max relative error ${worst.toExponential(2)}`,
      ),
      conditionReport(
        'golden logits (position 0, first 16)',
        lrel < 1e-4,
        `max relative error ${lrel.toExponential(2)}`,
      ),
      conditionReport(
        'golden story-1 CE',
        cerel < 1e-4,
        `CE ${mean} vs ${golden.story1_mean_ce_nats} (relative ${cerel.toExponential(2)})`,
      ),
    ];
  } finally {
    gm.destroy();
  }
};

/**
 * Patched CE on the GPU vs the CPU twin on the odd model: identity splice → score 1, zeros → 0, and a random
 * TopK SAE's CE-loss score, Δloss and KL score equal within 1e-4.
 */
export const lmPatchedCheck: Check = async (gpu, p) => {
  const model = randomModel(ODD_CONFIG, num(p, 'seed', 5), 'odd');
  const rng = new Rng(num(p, 'seed', 5) + 2);
  // Two documents of one length: one set of kernels (the GPU model keeps one plan per sequence length).
  const seqs = Array.from({ length: 2 }, () => [1, ...Array.from({ length: 20 }, () => 3 + rng.int(297))]);
  const hook = 'blocks.1.hook_resid_post';
  const S = 96;
  const sae = {
    dIn: 48,
    dSae: S,
    wEnc: rng.normalArray(48 * S, 0.3),
    wDec: rng.normalArray(S * 48, 0.3),
    bEnc: new Float32Array(S),
    bDec: new Float32Array(48),
    activation: { kind: 'topk' as const, k: 8 },
  };
  const splice = (x: Float32Array, T: number) => reconstructCpu(sae, x, T);
  const gm = GpuLlama.create(gpu, model);
  try {
    const id = patchedCeMetrics(await patchedCeGpu(gm, seqs, hook, (x) => x.slice()));
    const zero = patchedCeMetrics(await patchedCeGpu(gm, seqs, hook, (x) => new Float32Array(x.length)));
    const g = patchedCeMetrics(await patchedCeGpu(gm, seqs, hook, splice));
    const c = patchedCeMetrics(patchedCeCpu(model, seqs, hook, splice));
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4;
    return [
      conditionReport(
        'GPU identity splice',
        id.ceLossScore.value === 1,
        `CE-loss score ${id.ceLossScore.value}`,
      ),
      conditionReport(
        'GPU zero splice',
        Math.abs(zero.ceLossScore.value) === 0,
        `CE-loss score ${zero.ceLossScore.value}`,
      ),
      conditionReport(
        'GPU = CPU patched CE',
        close(g.ceLossScore.value, c.ceLossScore.value) &&
          close(g.deltaLoss.value, c.deltaLoss.value) &&
          close(g.klScore, c.klScore),
        `score ${g.ceLossScore.value} vs ${c.ceLossScore.value}, Δloss ${g.deltaLoss.value} vs ${c.deltaLoss.value}, KL score ${g.klScore} vs ${c.klScore}`,
      ),
    ];
  } finally {
    gm.destroy();
  }
};

/**
 * Patched CE of an SAE trained on the demo (issue 12): a TopK SAE (d_sae 512, k 8, batch 512, 300 steps, lr 3e-3,
 * seed 42) trained by the real trainer on the fast CPU engine (bit-identical to the oracle, so the run is the one the
 * Node demo table reports), spliced into stories260K at blocks.2.hook_resid_post on held-out documents of the demo
 * (those wholly after the run's training rows). The CE-loss score must lie strictly in (0, 1), and the GPU model and
 * the CPU twin must agree within 1e-4 on the CE-loss score, Δloss and the KL score. Param `documents` (default 1)
 * bounds the GPU time: the shortest held-out documents are used.
 */
export const lmPatchedDemoCheck: Check = async (gpu, p) => {
  const npy = await loadActivations('/demo/stories260K.resid_post.2.f32.npy');
  const config: TrainConfig = {
    ...DEFAULT_CONFIG,
    dSae: 512,
    k: 8,
    batchSize: 512,
    steps: 300,
    lr: 3e-3,
    seed: 42,
  };
  const source = memorySource(npy.data, npy.cols, { shardRows: 8192, id: 'demo', name: 'stories260K demo' });
  const trainer = await Trainer.start(config, source, {
    createEngine: (shape, init) => WasmCpuSaeEngine.create(shape, init),
    checkpoints: new MemoryCheckpointStore(),
    onEvent: () => {},
    adapter: 'fast CPU engine (harness)',
    readbackIntervalMs: 0,
  });
  const summary = await trainer.run();
  if (!summary) throw new Error('lm-patched-demo: the demo run failed');
  const params = await trainer.params();
  const { shape, scale, trainRows } = trainer.info;
  const tokens = parseNpyI32(await fetchAppBytes('demo/stories260K.tokens.npy'), 'stories260K.tokens.npy');
  const docs = heldOutDocuments(tokens, trainRows)
    .map(([a, b]) => tokens.slice(a, b))
    .sort((a, b) => a.length - b.length)
    .slice(0, num(p, 'documents', 1));
  const model = parseLlamaCheckpoint(await fetchAppBytes('lm/stories260K.bin'), 'stories260K.bin');
  const hook = 'blocks.2.hook_resid_post';
  const splice = saeSplice(inferenceSaeFromParams(params, shape, scale));
  const gm = GpuLlama.create(gpu, model);
  try {
    const g = patchedCeMetrics(await patchedCeGpu(gm, docs, hook, splice));
    const c = patchedCeMetrics(patchedCeCpu(model, docs, hook, splice));
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4;
    const where = `${docs.length} held-out document(s), ${g.tokens} target tokens; held-out EV ${summary.heldOut.explainedVariance.toFixed(4)}`;
    return [
      conditionReport(
        'demo TopK SAE: CE-loss score strictly in (0, 1)',
        g.ceLossScore.value > 0 && g.ceLossScore.value < 1,
        `CE-loss score ${g.ceLossScore.value} (${where})`,
      ),
      conditionReport(
        'demo TopK SAE: GPU = CPU patched CE within 1e-4',
        close(g.ceLossScore.value, c.ceLossScore.value) &&
          close(g.deltaLoss.value, c.deltaLoss.value) &&
          close(g.klScore, c.klScore),
        `score ${g.ceLossScore.value} vs ${c.ceLossScore.value}, Δloss ${g.deltaLoss.value} vs ${c.deltaLoss.value}, KL score ${g.klScore} vs ${c.klScore}`,
      ),
    ];
  } finally {
    gm.destroy();
  }
};
