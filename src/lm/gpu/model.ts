/**
 * The llama2.c model on the GPU: the same forward pass as the CPU twin (src/lm/forward-cpu.ts, whose module comment
 * has the math), prefilling a whole sequence at once. Linear layers use the shared matmul kernel
 * (shaders/matmul.wgsl, B = W stored [out, in], i.e. trans_b); the other ops are the kernels of ./kernels.ts.
 * The token embedding is gathered on the host (a row copy per token) and uploaded.
 *
 * Hooks (src/lm/hooks.ts) split the forward into GPU segments: at a hook with `read` or `replace` the activations
 * [T, D] are read back; a replacement is written back before the next segment. Everything between hooks is one
 * submission. Buffers are per sequence length T and reused across calls of the same T.
 */
import type { Gpu } from '../../gpu/device';
import { createMatmul, type MatmulKernel } from '../../gpu/kernels/matmul';
import { headSize, kvDim, type LlamaModel } from '../checkpoint';
import type { ForwardOptions } from '../forward-cpu';
import type { HookFns } from '../hooks';
import {
  createAttention,
  createKl,
  createLogSoftmax,
  createResidualAdd,
  createRmsnorm,
  createRope,
  createSwiglu,
  type LmKernel,
  ropeTables,
} from './kernels';

type Step = (pass: GPUComputePassEncoder) => void;

interface LayerBuffers {
  rmsAtt: GPUBuffer;
  wq: GPUBuffer;
  wk: GPUBuffer;
  wv: GPUBuffer;
  wo: GPUBuffer;
  rmsFfn: GPUBuffer;
  w1: GPUBuffer;
  w2: GPUBuffer;
  w3: GPUBuffer;
}

/** Kernels and activation buffers for one sequence length. */
interface Plan {
  T: number;
  kernels: { destroy(): void }[];
  buffers: GPUBuffer[];
  x: GPUBuffer;
  logits: GPUBuffer;
  /** One entry per hook name in forward order: the GPU work before it, and the buffer the hook sees. */
  segments: { hook: string; work: Step[]; buffer: GPUBuffer }[];
  /** Work after the last hook: final norm and classifier. */
  tail: Step[];
  logSoftmax: LmKernel<[GPUBuffer, GPUBuffer, GPUBuffer]>;
  kl: LmKernel<[GPUBuffer, GPUBuffer, GPUBuffer]>;
  targets: GPUBuffer;
  ce: GPUBuffer;
  klOut: GPUBuffer;
  logitsRef: GPUBuffer;
}

/** Per-token results of {@link GpuLlama.tokenLosses}. */
export interface GpuTokenLosses {
  /** CE of targets 1..T−1 (length T − 1), nats. */
  ce: Float32Array;
  /** KL(reference ‖ this pass) per predicting position (length T − 1), when a reference was kept. */
  kl: Float32Array | null;
}

/** A llama2.c model resident on the GPU. */
export class GpuLlama {
  private readonly layers: LayerBuffers[];
  private readonly rmsFinal: GPUBuffer;
  private readonly wcls: GPUBuffer;
  private readonly cos: GPUBuffer;
  private readonly sin: GPUBuffer;
  private readonly plans = new Map<number, Plan>();

  private constructor(
    private readonly gpu: Gpu,
    readonly model: LlamaModel,
  ) {
    const c = model.config;
    const up = (name: string, a: Float32Array) => gpu.storage(`lm:${name}`, a);
    this.layers = model.layers.map((l, i) => ({
      rmsAtt: up(`l${i}.rms_att`, l.rmsAtt),
      wq: up(`l${i}.wq`, l.wq),
      wk: up(`l${i}.wk`, l.wk),
      wv: up(`l${i}.wv`, l.wv),
      wo: up(`l${i}.wo`, l.wo),
      rmsFfn: up(`l${i}.rms_ffn`, l.rmsFfn),
      w1: up(`l${i}.w1`, l.w1),
      w2: up(`l${i}.w2`, l.w2),
      w3: up(`l${i}.w3`, l.w3),
    }));
    this.rmsFinal = up('rms_final', model.rmsFinal);
    this.wcls = up('wcls', model.wcls);
    const t = ropeTables(c.seqLen, headSize(c));
    this.cos = up('rope.cos', t.cos);
    this.sin = up('rope.sin', t.sin);
  }

  /** Upload a model's weights. @throws GpuError when a buffer exceeds the device's limits. */
  static create(gpu: Gpu, model: LlamaModel): GpuLlama {
    return new GpuLlama(gpu, model);
  }

  private plan(T: number): Plan {
    const have = this.plans.get(T);
    if (have) return have;
    const gpu = this.gpu;
    const c = this.model.config;
    const D = c.dim;
    const H = c.hiddenDim;
    const Dkv = kvDim(c);
    const hs = headSize(c);
    const V = c.vocabSize;
    const kernels: { destroy(): void }[] = [];
    const buffers: GPUBuffer[] = [];
    const buf = (name: string, elems: number) => {
      const b = gpu.storage(`lm:T${T}:${name}`, Math.max(16, elems * 4));
      buffers.push(b);
      return b;
    };
    const k = <K extends { destroy(): void }>(kernel: K) => {
      kernels.push(kernel);
      return kernel;
    };
    const lin = (nIn: number, nOut: number, name: string): MatmulKernel =>
      k(createMatmul(gpu, { M: T, N: nOut, K: nIn, transB: true }, `lm:${name}`));
    const x = buf('x', T * D);
    const h = buf('h', T * D);
    const q = buf('q', T * D);
    const kk = buf('k', T * Dkv);
    const v = buf('v', T * Dkv);
    const att = buf('att', T * D);
    const tmp = buf('tmp', T * D);
    const a = buf('ffn.a', T * H);
    const b = buf('ffn.b', T * H);
    const gate = buf('ffn.gate', T * H);
    const mlp = buf('mlp', T * D);
    const logits = buf('logits', T * V);
    const rms = k(createRmsnorm(gpu, T, D, 'lm:rmsnorm'));
    const ropeQ = k(createRope(gpu, T, D, hs, 'lm:rope.q'));
    const ropeK = k(createRope(gpu, T, Dkv, hs, 'lm:rope.k'));
    const attn = k(createAttention(gpu, T, c.nHeads, c.nKvHeads, hs, 'lm:attention'));
    const add = k(createResidualAdd(gpu, T * D, 'lm:residual-add'));
    const swiglu = k(createSwiglu(gpu, T * H, 'lm:swiglu'));
    const mq = lin(D, D, 'wq');
    const mk = lin(D, Dkv, 'wk');
    const mo = lin(D, D, 'wo');
    const m1 = lin(D, H, 'w1');
    const m2 = lin(H, D, 'w2');
    const mcls = lin(D, V, 'wcls');
    const segments: Plan['segments'] = [];
    let work: Step[] = [];
    const at = (hook: string, buffer: GPUBuffer) => {
      segments.push({ hook, work, buffer });
      work = [];
    };
    at('hook_embed', x);
    this.layers.forEach((w, l) => {
      at(`blocks.${l}.hook_resid_pre`, x);
      work.push(
        (p) => rms.encode(p, x, w.rmsAtt, h),
        (p) => mq.encode(p, { a: h, b: w.wq, bias: null, c: q }),
        (p) => mk.encode(p, { a: h, b: w.wk, bias: null, c: kk }),
        (p) => mk.encode(p, { a: h, b: w.wv, bias: null, c: v }),
        (p) => ropeQ.encode(p, q, this.cos, this.sin),
        (p) => ropeK.encode(p, kk, this.cos, this.sin),
        (p) => attn.encode(p, q, kk, v, att),
        (p) => mo.encode(p, { a: att, b: w.wo, bias: null, c: tmp }),
        (p) => add.encode(p, x, tmp),
        (p) => rms.encode(p, x, w.rmsFfn, h),
        (p) => m1.encode(p, { a: h, b: w.w1, bias: null, c: a }),
        (p) => m1.encode(p, { a: h, b: w.w3, bias: null, c: b }),
        (p) => swiglu.encode(p, a, b, gate),
        (p) => m2.encode(p, { a: gate, b: w.w2, bias: null, c: mlp }),
      );
      at(`blocks.${l}.hook_mlp_out`, mlp);
      work.push((p) => add.encode(p, x, mlp));
      at(`blocks.${l}.hook_resid_post`, x);
    });
    const tail: Step[] = [
      ...work,
      (p) => rms.encode(p, x, this.rmsFinal, h),
      (p) => mcls.encode(p, { a: h, b: this.wcls, bias: null, c: logits }),
    ];
    const plan: Plan = {
      T,
      kernels,
      buffers,
      x,
      logits,
      segments,
      tail,
      logSoftmax: k(createLogSoftmax(gpu, T, V, 'lm:log-softmax')),
      kl: k(createKl(gpu, T, V, 'lm:kl')),
      targets: buf('targets', T),
      ce: buf('ce', T),
      klOut: buf('kl', T),
      logitsRef: buf('logits.ref', T * V),
    };
    this.plans.set(T, plan);
    return plan;
  }

  /** Run the segments up to the end (or `stopAfter`), calling hooks between them. Leaves logits in plan.logits. */
  private async run(
    tokens: ArrayLike<number>,
    hooks: HookFns | undefined,
    stopAfter?: string,
  ): Promise<Plan | null> {
    const c = this.model.config;
    const T = tokens.length;
    const D = c.dim;
    if (T === 0 || T > c.seqLen)
      throw new RangeError(`forward: ${T} tokens (the model takes 1..${c.seqLen})`);
    const plan = this.plan(T);
    const x0 = new Float32Array(T * D);
    for (let t = 0; t < T; t++) {
      const id = tokens[t];
      if (!(id >= 0 && id < c.vocabSize))
        throw new RangeError(`forward: token id ${id} at ${t} is outside 0..${c.vocabSize - 1}`);
      x0.set(this.model.tokenEmbedding.subarray(id * D, (id + 1) * D), t * D);
    }
    this.gpu.write(plan.x, x0);
    let pending: Step[] = [];
    for (const seg of plan.segments) {
      pending.push(...seg.work);
      const h = hooks?.[seg.hook];
      if (h || seg.hook === stopAfter) {
        if (pending.length) {
          const steps = pending;
          await this.gpu.run(`lm:forward T=${T}`, (p) => {
            for (const s of steps) s(p);
          });
          pending = [];
        }
        if (h) {
          const acts = await this.gpu.readF32(seg.buffer, T * D);
          h.read?.(acts, T, D);
          if (h.replace) {
            const y = h.replace(acts, T, D);
            if (y.length !== T * D)
              throw new RangeError(
                `hook ${seg.hook}: the replacement has ${y.length} values, expected ${T}×${D}`,
              );
            this.gpu.write(seg.buffer, y);
          }
        }
        if (seg.hook === stopAfter) return null;
      }
    }
    const steps = [...pending, ...plan.tail];
    await this.gpu.run(`lm:forward T=${T}`, (p) => {
      for (const s of steps) s(p);
    });
    return plan;
  }

  /**
   * Forward pass (the GPU twin of lmForwardCpu).
   * @returns logits [T, V] read back, or null when stopped by `stopAfter`
   */
  async forward(tokens: ArrayLike<number>, o: ForwardOptions = {}): Promise<Float32Array | null> {
    const plan = await this.run(tokens, o.hooks, o.stopAfter);
    if (!plan) return null;
    return this.gpu.readF32(plan.logits, tokens.length * this.model.config.vocabSize);
  }

  /**
   * Forward, log-softmax and per-token CE on the GPU, reading back only [T] values. With `keepAsReference` the
   * log-probs are kept as the reference of later calls (same T) with `klToReference`, which then also return
   * KL(reference ‖ this pass) per position.
   */
  async tokenLosses(
    tokens: ArrayLike<number>,
    hooks?: HookFns,
    opts: { keepAsReference?: boolean; klToReference?: boolean } = {},
  ): Promise<GpuTokenLosses> {
    const T = tokens.length;
    const plan = (await this.run(tokens, hooks)) as Plan;
    const targets = new Uint32Array(T);
    for (let t = 0; t + 1 < T; t++) targets[t] = tokens[t + 1];
    this.gpu.write(plan.targets, targets);
    const V = this.model.config.vocabSize;
    await this.gpu.run('lm:losses', (p) => {
      plan.logSoftmax.encode(p, plan.logits, plan.targets, plan.ce);
      if (opts.klToReference) plan.kl.encode(p, plan.logitsRef, plan.logits, plan.klOut);
    });
    if (opts.keepAsReference) {
      // Copy the log-probs aside (a tiny pass-free copy through a command encoder is not exposed by Gpu; read+write).
      this.gpu.write(plan.logitsRef, await this.gpu.readF32(plan.logits, T * V));
    }
    const ce = (await this.gpu.readF32(plan.ce, T)).subarray(0, T - 1);
    const kl = opts.klToReference ? (await this.gpu.readF32(plan.klOut, T)).subarray(0, T - 1) : null;
    return { ce, kl };
  }

  /** Free every buffer and kernel. */
  destroy(): void {
    for (const p of this.plans.values()) {
      for (const k of p.kernels) k.destroy();
      for (const b of p.buffers) b.destroy();
    }
    this.plans.clear();
    for (const l of this.layers) for (const b of Object.values(l)) b.destroy();
    for (const b of [this.rmsFinal, this.wcls, this.cos, this.sin]) b.destroy();
  }
}

/**
 * The patched-CE evaluation on the GPU (the twin of src/lm/corpus-cpu.ts patchedCeCpu): per document a clean pass
 * (kept as the KL reference), a pass with `splice` at `hook` and a zero-ablated pass; CE and KL reduced on the GPU.
 */
export async function patchedCeGpu(
  m: GpuLlama,
  seqs: readonly ArrayLike<number>[],
  hook: string,
  splice: (x: Float32Array, tokens: number, dModel: number) => Float32Array,
): Promise<import('../corpus-cpu').PatchedDoc[]> {
  const out: import('../corpus-cpu').PatchedDoc[] = [];
  const sum = (a: Float32Array | null) => (a ? a.reduce((s, v) => s + v, 0) : 0);
  for (const s of seqs) {
    const clean = await m.tokenLosses(s, undefined, { keepAsReference: true });
    const sae = await m.tokenLosses(s, { [hook]: { replace: splice } }, { klToReference: true });
    const zero = await m.tokenLosses(
      s,
      { [hook]: { replace: (x) => new Float32Array(x.length) } },
      { klToReference: true },
    );
    out.push({
      tokens: s.length - 1,
      ceClean: sum(clean.ce),
      ceSae: sum(sae.ce),
      ceZero: sum(zero.ce),
      klSae: sum(sae.kl),
      klZero: sum(zero.kl),
    });
  }
  return out;
}
