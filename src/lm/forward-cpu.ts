/**
 * The llama2.c forward pass in plain TypeScript: the CPU twin (and test oracle) of the WGSL model, prefilling a whole
 * sequence at once. Same math as llama2.c `run.c` `forward`, one position at a time there, all at once here.
 *
 * Shapes: T = tokens, D = dim, H = hidden_dim, V = vocab_size, Hq/Hkv = query/key-value heads, hs = D / Hq,
 * Dkv = Hkv · hs. Activations are float32, row-major [T, ·]; sums are accumulated in float64.
 *
 *   x_0 = E[tokens]                                                    (hook_embed, blocks.0.hook_resid_pre)
 *   for l in 0..L−1:
 *     h = RMSNorm(x; rms_att_l)        RMSNorm(x; g)_i = g_i · x_i / sqrt(mean_j x_j² + 1e-5)
 *     q = h·Wqᵀ, k = h·Wkᵀ, v = h·Wvᵀ;  RoPE on q and k: pairs (2i, 2i+1) of each head rotated by p·10000^(−2i/hs)
 *     a_{t,head} = Σ_{s≤t} softmax_s(q_t·k_s/√hs) v_s   (query head h reads key/value head ⌊h/(Hq/Hkv)⌋)
 *     x = x + a·Woᵀ
 *     h = RMSNorm(x; rms_ffn_l);  m = (silu(h·W1ᵀ) ⊙ h·W3ᵀ)·W2ᵀ        (blocks.l.hook_mlp_out)
 *     x = x + m                                                        (blocks.l.hook_resid_post)
 *   logits = RMSNorm(x; rms_final)·Wclsᵀ        [T, V]
 */
import { headSize, kvDim, type LlamaModel, ropeFrequency } from './checkpoint';
import { applyHook, type HookFns } from './hooks';

/** RMSNorm epsilon of llama2.c. */
export const RMS_EPS = 1e-5;

/** y[t, o] = Σ_i x[t, i] · w[o, i]: x [T, nIn], w [nOut, nIn] → [T, nOut]. */
export function linearCpu(
  x: Float32Array,
  w: Float32Array,
  T: number,
  nIn: number,
  nOut: number,
): Float32Array {
  const y = new Float32Array(T * nOut);
  for (let t = 0; t < T; t++) {
    const xo = t * nIn;
    for (let o = 0; o < nOut; o++) {
      const wo = o * nIn;
      let s = 0;
      for (let i = 0; i < nIn; i++) s += x[xo + i] * w[wo + i];
      y[t * nOut + o] = s;
    }
  }
  return y;
}

/** RMSNorm of each row of x [T, D] with gain g [D] (eps {@link RMS_EPS}). */
export function rmsnormCpu(x: Float32Array, g: Float32Array, T: number, D: number): Float32Array {
  const y = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let i = 0; i < D; i++) ss += x[t * D + i] * x[t * D + i];
    const r = 1 / Math.sqrt(ss / D + RMS_EPS);
    for (let i = 0; i < D; i++) y[t * D + i] = g[i] * (x[t * D + i] * r);
  }
  return y;
}

/**
 * Rotary embedding in place on x [T, width] made of heads of size hs, position of row t = t (llama2.c interleaved
 * pairs: (x_{2i}, x_{2i+1}) rotated by angle t · 10000^(−2i/hs)).
 */
export function ropeCpu(x: Float32Array, T: number, width: number, hs: number): void {
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < width; i += 2) {
      const a = t * ropeFrequency(i % hs, hs);
      const c = Math.cos(a);
      const s = Math.sin(a);
      const x0 = x[t * width + i];
      const x1 = x[t * width + i + 1];
      x[t * width + i] = x0 * c - x1 * s;
      x[t * width + i + 1] = x0 * s + x1 * c;
    }
  }
}

/**
 * Causal grouped-query attention: q [T, Hq·hs], k and v [T, Hkv·hs] → out [T, Hq·hs].
 * out[t, h] = Σ_{s≤t} softmax_s(q[t,h]·k[s,g]/√hs) · v[s,g], g = ⌊h / (Hq/Hkv)⌋.
 */
export function attentionCpu(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  T: number,
  nHeads: number,
  nKvHeads: number,
  hs: number,
): Float32Array {
  const D = nHeads * hs;
  const Dkv = nKvHeads * hs;
  const group = nHeads / nKvHeads;
  const out = new Float32Array(T * D);
  const scale = 1 / Math.sqrt(hs);
  const att = new Float64Array(T);
  for (let h = 0; h < nHeads; h++) {
    const g = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let s = 0; s <= t; s++) {
        let d = 0;
        for (let i = 0; i < hs; i++) d += q[t * D + h * hs + i] * k[s * Dkv + g * hs + i];
        att[s] = d * scale;
        if (att[s] > max) max = att[s];
      }
      let sum = 0;
      for (let s = 0; s <= t; s++) {
        att[s] = Math.exp(att[s] - max);
        sum += att[s];
      }
      for (let i = 0; i < hs; i++) {
        let acc = 0;
        for (let s = 0; s <= t; s++) acc += att[s] * v[s * Dkv + g * hs + i];
        out[t * D + h * hs + i] = acc / sum;
      }
    }
  }
  return out;
}

/** SwiGLU gate: y = silu(a) ⊙ b, silu(a) = a / (1 + e^(−a)); a, b [n]. */
export function swigluCpu(a: Float32Array, b: Float32Array): Float32Array {
  const y = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = (a[i] / (1 + Math.exp(-a[i]))) * b[i];
  return y;
}

/** x + y elementwise (a new array). */
export function addCpu(x: Float32Array, y: Float32Array): Float32Array {
  const z = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) z[i] = x[i] + y[i];
  return z;
}

/** Options of {@link lmForwardCpu}. */
export interface ForwardOptions {
  /** Read / replace activations at hook points (src/lm/hooks.ts). */
  hooks?: HookFns;
  /** Stop after this hook (its read/replace still run) and return no logits: for harvesting. */
  stopAfter?: string;
}

/**
 * Forward pass over one sequence (see the module comment).
 * @param tokens token ids, length T ≤ seq_len
 * @returns logits [T, V] (float32), or null when stopped early by `stopAfter`
 * @throws RangeError when T is 0 or above seq_len, or a token id is outside the vocabulary.
 */
export function lmForwardCpu(
  m: LlamaModel,
  tokens: ArrayLike<number>,
  o: ForwardOptions = {},
): Float32Array | null {
  const c = m.config;
  const T = tokens.length;
  const D = c.dim;
  const H = c.hiddenDim;
  const Dkv = kvDim(c);
  const hs = headSize(c);
  if (T === 0 || T > c.seqLen) throw new RangeError(`forward: ${T} tokens (the model takes 1..${c.seqLen})`);
  const hooks = o.hooks;
  let stop = false;
  const hook = (name: string, x: Float32Array) => {
    const y = applyHook(hooks, name, x, T, D);
    if (name === o.stopAfter) stop = true;
    return y;
  };
  let x: Float32Array = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    const id = tokens[t];
    if (!(id >= 0 && id < c.vocabSize))
      throw new RangeError(`forward: token id ${id} at ${t} is outside 0..${c.vocabSize - 1}`);
    x.set(m.tokenEmbedding.subarray(id * D, (id + 1) * D), t * D);
  }
  x = hook('hook_embed', x);
  if (stop) return null;
  for (let l = 0; l < c.nLayers; l++) {
    const w = m.layers[l];
    x = hook(`blocks.${l}.hook_resid_pre`, x);
    if (stop) return null;
    let h = rmsnormCpu(x, w.rmsAtt, T, D);
    const q = linearCpu(h, w.wq, T, D, D);
    const k = linearCpu(h, w.wk, T, D, Dkv);
    const v = linearCpu(h, w.wv, T, D, Dkv);
    ropeCpu(q, T, D, hs);
    ropeCpu(k, T, Dkv, hs);
    const a = attentionCpu(q, k, v, T, c.nHeads, c.nKvHeads, hs);
    x = addCpu(x, linearCpu(a, w.wo, T, D, D));
    h = rmsnormCpu(x, w.rmsFfn, T, D);
    const g = swigluCpu(linearCpu(h, w.w1, T, D, H), linearCpu(h, w.w3, T, D, H));
    let mlp: Float32Array = linearCpu(g, w.w2, T, H, D);
    mlp = hook(`blocks.${l}.hook_mlp_out`, mlp);
    if (stop) return null;
    x = addCpu(x, mlp);
    x = hook(`blocks.${l}.hook_resid_post`, x);
    if (stop) return null;
  }
  const f = rmsnormCpu(x, m.rmsFinal, T, D);
  return linearCpu(f, m.wcls, T, D, c.vocabSize);
}

/** Log-softmax of each row of logits [T, V], in place: ℓ_{t,v} − log Σ_u exp ℓ_{t,u}. Returns the same array. */
export function logSoftmaxCpu(logits: Float32Array, T: number, V: number): Float32Array {
  for (let t = 0; t < T; t++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let v = 0; v < V; v++) if (logits[t * V + v] > max) max = logits[t * V + v];
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[t * V + v] - max);
    const lse = max + Math.log(s);
    for (let v = 0; v < V; v++) logits[t * V + v] -= lse;
  }
  return logits;
}

/**
 * Next-token cross-entropy per position from log-probs [T, V]: ce[t] = −logp[t, tokens[t+1]] for t = 0..T−2
 * (so the BOS at position 0 is never a target). Nats; float64 values in a Float64Array of length T−1.
 */
export function tokenCeCpu(logp: Float32Array, tokens: ArrayLike<number>, V: number): Float64Array {
  const T = tokens.length;
  const ce = new Float64Array(Math.max(0, T - 1));
  for (let t = 0; t + 1 < T; t++) ce[t] = -logp[t * V + tokens[t + 1]];
  return ce;
}

/**
 * KL(P ‖ Q) per position from two log-prob tables [T, V]: Σ_v p_v (log p_v − log q_v), for positions 0..T−2 (the
 * positions that predict a target, as in {@link tokenCeCpu}). Nats, length T−1.
 */
export function tokenKlCpu(logp: Float32Array, logq: Float32Array, T: number, V: number): Float64Array {
  const kl = new Float64Array(Math.max(0, T - 1));
  for (let t = 0; t + 1 < T; t++) {
    let s = 0;
    for (let v = 0; v < V; v++) {
      const lp = logp[t * V + v];
      s += Math.exp(lp) * (lp - logq[t * V + v]);
    }
    kl[t] = s;
  }
  return kl;
}
