/**
 * Loader for llama2.c checkpoints (Karpathy, llama2.c `run.c` / `export.py`, MIT).
 *
 * Shape legend: V = vocab_size, D = dim, H = hidden_dim, L = n_layers, Hq = n_heads, Hkv = n_kv_heads,
 * hs = head size = D / Hq, Dkv = Hkv · hs, S = seq_len. Matrices are row-major [out, in], float32.
 *
 * Two formats:
 * - "legacy" (stories260K.bin, stories15M.bin …): 7 int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 *   vocab_size, seq_len; a negative vocab_size means the classifier is NOT shared with the embedding), then
 *   token_embedding [V, D], rms_att [L, D], wq [L, D, D], wk [L, Dkv, D], wv [L, Dkv, D], wo [L, D, D],
 *   rms_ffn [L, D], w1 [L, H, D], w2 [L, D, H], w3 [L, H, D], rms_final [D], freq_cis_real [S, hs/2],
 *   freq_cis_imag [S, hs/2], then wcls [V, D] when not shared.
 * - "version 1" (export.py `version1_export`): uint32 magic 0x616b3432 ("ak42"), int32 version = 1, the same 7 int32,
 *   uint8 shared_classifier, zero padding to 256 bytes, then rms_att [L, D], rms_ffn [L, D], rms_final [D],
 *   token_embedding [V, D], wq, wk, wv, wo, w1, w2, w3 (shapes as above), then wcls [V, D] when not shared.
 */

/** Hyper-parameters of a llama2.c model (the header). */
export interface LlamaConfig {
  /** Residual stream width D (d_model). */
  dim: number;
  /** SwiGLU hidden width H. */
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  /** Longest context the model was trained for (RoPE tables go this far). */
  seqLen: number;
  /** True when the classifier is the token embedding (tied). */
  sharedClassifier: boolean;
}

/** Weights of one transformer block (float32, row-major [out, in]). */
export interface LlamaLayer {
  /** [D] */
  rmsAtt: Float32Array;
  /** [D, D] */
  wq: Float32Array;
  /** [Dkv, D] */
  wk: Float32Array;
  /** [Dkv, D] */
  wv: Float32Array;
  /** [D, D] */
  wo: Float32Array;
  /** [D] */
  rmsFfn: Float32Array;
  /** [H, D] */
  w1: Float32Array;
  /** [D, H] */
  w2: Float32Array;
  /** [H, D] */
  w3: Float32Array;
}

/** A loaded llama2.c model. */
export interface LlamaModel {
  /** Name shown in the UI and written to provenance (file name without extension). */
  name: string;
  config: LlamaConfig;
  /** [V, D] */
  tokenEmbedding: Float32Array;
  layers: LlamaLayer[];
  /** [D] */
  rmsFinal: Float32Array;
  /** [V, D]; the same array as tokenEmbedding when shared. */
  wcls: Float32Array;
  /** Which file format it came from. */
  format: 'legacy' | 'version1';
}

/** Magic number of version ≥ 1 llama2.c exports ("ak42" little-endian). */
export const LLAMA2C_MAGIC = 0x616b3432;

/** Head size hs = dim / n_heads. */
export function headSize(c: LlamaConfig): number {
  return c.dim / c.nHeads;
}

/** Key/value width Dkv = n_kv_heads · head size. */
export function kvDim(c: LlamaConfig): number {
  return (c.nKvHeads * c.dim) / c.nHeads;
}

function checkConfig(c: LlamaConfig, name: string): void {
  const ints = [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen];
  if (!ints.every((v) => Number.isInteger(v) && v > 0 && v < 1 << 24)) {
    throw new Error(`${name}: not a llama2.c checkpoint (header ${ints.join(', ')})`);
  }
  if (c.dim % c.nHeads !== 0)
    throw new Error(`${name}: dim ${c.dim} is not a multiple of n_heads ${c.nHeads}`);
  if (c.nHeads % c.nKvHeads !== 0) {
    throw new Error(`${name}: n_heads ${c.nHeads} is not a multiple of n_kv_heads ${c.nKvHeads}`);
  }
  if (headSize(c) % 2 !== 0) throw new Error(`${name}: head size ${headSize(c)} is odd (RoPE needs pairs)`);
}

/** Number of float32 values of the layer weights of a config (all layers). */
function layerFloats(c: LlamaConfig): number {
  const D = c.dim;
  const Dkv = kvDim(c);
  return c.nLayers * (2 * D + 2 * D * D + 2 * Dkv * D + 3 * c.hiddenDim * D);
}

/**
 * Parse a llama2.c checkpoint (legacy or version 1, detected from the first word).
 * @param bytes the whole file
 * @param name file name, used in error messages and as the model name
 * @throws Error naming the file when the header is not a llama2.c header or the size does not match it.
 */
export function parseLlamaCheckpoint(bytes: Uint8Array, name: string): LlamaModel {
  if (bytes.byteLength < 28)
    throw new Error(`${name}: ${bytes.byteLength} bytes is too short for a llama2.c checkpoint`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const modelName = name.replace(/^.*[\\/]/, '').replace(/\.bin$/i, '');
  const version1 = view.getUint32(0, true) === LLAMA2C_MAGIC;
  const h = version1 ? 8 : 0;
  if (version1) {
    const version = view.getInt32(4, true);
    if (version !== 1)
      throw new Error(`${name}: llama2.c export version ${version} is not supported (only 0 and 1)`);
    if (bytes.byteLength < 256) throw new Error(`${name}: truncated version-1 header`);
  }
  const hdr = Array.from({ length: 7 }, (_, i) => view.getInt32(h + 4 * i, true));
  const config: LlamaConfig = {
    dim: hdr[0],
    hiddenDim: hdr[1],
    nLayers: hdr[2],
    nHeads: hdr[3],
    nKvHeads: hdr[4],
    vocabSize: Math.abs(hdr[5]),
    seqLen: hdr[6],
    sharedClassifier: version1 ? view.getUint8(36) !== 0 : hdr[5] > 0,
  };
  checkConfig(config, name);
  const D = config.dim;
  const V = config.vocabSize;
  const hs = headSize(config);
  const headerBytes = version1 ? 256 : 28;
  const freqFloats = version1 ? 0 : config.seqLen * hs;
  const want =
    headerBytes + 4 * (V * D + layerFloats(config) + D + freqFloats + (config.sharedClassifier ? 0 : V * D));
  if (bytes.byteLength !== want) {
    throw new Error(
      `${name}: ${bytes.byteLength} bytes, but the header (dim ${D}, hidden ${config.hiddenDim}, ${config.nLayers} layers, ` +
        `${config.nHeads}/${config.nKvHeads} heads, vocab ${V}, seq_len ${config.seqLen}) needs ${want}`,
    );
  }
  // Copy into an aligned buffer so Float32Array views are valid whatever the input's offset.
  const all = new Float32Array(bytes.slice(headerBytes).buffer);
  let off = 0;
  const take = (n: number) => {
    const a = all.subarray(off, off + n);
    off += n;
    return a;
  };
  const L = config.nLayers;
  const Dkv = kvDim(config);
  const H = config.hiddenDim;
  const perLayer = (n: number) => {
    const a = take(L * n);
    return Array.from({ length: L }, (_, l) => a.subarray(l * n, (l + 1) * n));
  };
  let tokenEmbedding: Float32Array;
  let rmsAtt: Float32Array[];
  let rmsFfn: Float32Array[];
  let rmsFinal: Float32Array;
  if (version1) {
    rmsAtt = perLayer(D);
    rmsFfn = perLayer(D);
    rmsFinal = take(D);
    tokenEmbedding = take(V * D);
  } else {
    tokenEmbedding = take(V * D);
    rmsAtt = perLayer(D);
  }
  const wq = perLayer(D * D);
  const wk = perLayer(Dkv * D);
  const wv = perLayer(Dkv * D);
  const wo = perLayer(D * D);
  if (!version1) rmsFfn = perLayer(D);
  const w1 = perLayer(H * D);
  const w2 = perLayer(D * H);
  const w3 = perLayer(H * D);
  if (!version1) {
    rmsFinal = take(D);
    take(freqFloats); // freq_cis tables: RoPE is computed from its formula instead (as run.c does)
  }
  const wcls = config.sharedClassifier ? tokenEmbedding : take(V * D);
  const layers: LlamaLayer[] = Array.from({ length: L }, (_, l) => ({
    rmsAtt: rmsAtt[l],
    wq: wq[l],
    wk: wk[l],
    wv: wv[l],
    wo: wo[l],
    rmsFfn: rmsFfn![l],
    w1: w1[l],
    w2: w2[l],
    w3: w3[l],
  }));
  return {
    name: modelName,
    config,
    tokenEmbedding,
    layers,
    rmsFinal: rmsFinal!,
    wcls,
    format: version1 ? 'version1' : 'legacy',
  };
}

/**
 * Serialise a model in the legacy format (the inverse of {@link parseLlamaCheckpoint}; the freq_cis tables are written
 * from the RoPE formula). Used by tests to build checkpoints of other shapes.
 */
export function writeLegacyCheckpoint(m: LlamaModel): Uint8Array {
  const c = m.config;
  const hs = headSize(c);
  const parts: Float32Array[] = [m.tokenEmbedding];
  const each = (f: (l: LlamaLayer) => Float32Array) => {
    for (const l of m.layers) parts.push(f(l));
  };
  each((l) => l.rmsAtt);
  each((l) => l.wq);
  each((l) => l.wk);
  each((l) => l.wv);
  each((l) => l.wo);
  each((l) => l.rmsFfn);
  each((l) => l.w1);
  each((l) => l.w2);
  each((l) => l.w3);
  parts.push(m.rmsFinal);
  const re = new Float32Array(c.seqLen * (hs / 2));
  const im = new Float32Array(c.seqLen * (hs / 2));
  for (let p = 0; p < c.seqLen; p++) {
    for (let i = 0; i < hs / 2; i++) {
      const a = p * ropeFrequency(2 * i, hs);
      re[p * (hs / 2) + i] = Math.cos(a);
      im[p * (hs / 2) + i] = Math.sin(a);
    }
  }
  parts.push(re, im);
  if (!c.sharedClassifier) parts.push(m.wcls);
  const floats = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(28 + 4 * floats);
  const view = new DataView(out.buffer);
  const hdr = [
    c.dim,
    c.hiddenDim,
    c.nLayers,
    c.nHeads,
    c.nKvHeads,
    c.sharedClassifier ? c.vocabSize : -c.vocabSize,
    c.seqLen,
  ];
  for (let i = 0; i < hdr.length; i++) view.setInt32(4 * i, hdr[i], true);
  let off = 28;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
    off += p.byteLength;
  }
  return out;
}

/**
 * RoPE frequency of the pair starting at even index j within a head of size hs: 10000^(−j/hs) (llama2.c run.c).
 * The angle at position p is p · frequency.
 */
export function ropeFrequency(j: number, hs: number): number {
  return 1 / 10000 ** (j / hs);
}

/**
 * n_layers from the first 36 bytes of a llama2.c checkpoint (legacy or version 1), for listing hook names before
 * the whole file is read. @returns null when the bytes are not a plausible header.
 */
export function peekLayers(head: Uint8Array): number | null {
  if (head.byteLength < 36) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const off = view.getUint32(0, true) === LLAMA2C_MAGIC ? 8 : 0;
  const n = view.getInt32(off + 8, true);
  return n > 0 && n < 4096 ? n : null;
}
