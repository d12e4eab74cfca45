/**
 * The loader and the CPU twin at a shape other than stories260K's (dim 48, 3 layers, 6/2 heads, vocab 300, untied
 * classifier): legacy and version-1 files round-trip, bad files are refused with the file named, and the prefill
 * forward equals an independent token-by-token forward with a KV cache (llama2.c run.c's loop).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import {
  headSize,
  kvDim,
  LLAMA2C_MAGIC,
  type LlamaModel,
  parseLlamaCheckpoint,
  writeLegacyCheckpoint,
} from './checkpoint';
import { lmForwardCpu, RMS_EPS } from './forward-cpu';
import { hookNames, parseHook } from './hooks';
import { ODD_CONFIG, randomModel } from './testing/random-model';

/** run.c `forward` for one position, with its own KV cache: written independently of forward-cpu.ts. */
function stepwiseLogits(m: LlamaModel, tokens: number[]): Float32Array {
  const c = m.config;
  const D = c.dim;
  const hs = headSize(c);
  const Dkv = kvDim(c);
  const V = c.vocabSize;
  const kc: number[][][] = m.layers.map(() => []);
  const vc: number[][][] = m.layers.map(() => []);
  const out = new Float32Array(tokens.length * V);
  const rms = (x: number[], g: Float32Array) => {
    const ss = x.reduce((s, v) => s + v * v, 0) / x.length + RMS_EPS;
    return x.map((v, i) => (g[i] * v) / Math.sqrt(ss));
  };
  const mv = (w: Float32Array, x: number[], rows: number) =>
    Array.from({ length: rows }, (_, r) => x.reduce((s, v, i) => s + v * w[r * x.length + i], 0));
  tokens.forEach((tok, pos) => {
    let x = Array.from(m.tokenEmbedding.subarray(tok * D, (tok + 1) * D));
    m.layers.forEach((w, l) => {
      const h = rms(x, w.rmsAtt);
      const q = mv(w.wq, h, D);
      const k = mv(w.wk, h, Dkv);
      const v = mv(w.wv, h, Dkv);
      for (let i = 0; i < D; i += 2) {
        const f = 1 / 10000 ** ((i % hs) / hs);
        const [cs, sn] = [Math.cos(pos * f), Math.sin(pos * f)];
        const rot = (a: number[]) => {
          const [a0, a1] = [a[i], a[i + 1]];
          a[i] = a0 * cs - a1 * sn;
          a[i + 1] = a0 * sn + a1 * cs;
        };
        rot(q);
        if (i < Dkv) rot(k);
      }
      kc[l].push(k);
      vc[l].push(v);
      const att = new Array(D).fill(0);
      for (let head = 0; head < c.nHeads; head++) {
        const g = Math.floor(head / (c.nHeads / c.nKvHeads));
        const sc = kc[l].map((kk) => {
          let d = 0;
          for (let i = 0; i < hs; i++) d += q[head * hs + i] * kk[g * hs + i];
          return d / Math.sqrt(hs);
        });
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < hs; i++)
          att[head * hs + i] = e.reduce((s, p, t) => s + (p / z) * vc[l][t][g * hs + i], 0);
      }
      const o = mv(w.wo, att, D);
      x = x.map((v, i) => v + o[i]);
      const h2 = rms(x, w.rmsFfn);
      const a = mv(w.w1, h2, c.hiddenDim);
      const b = mv(w.w3, h2, c.hiddenDim);
      const gl = a.map((v, i) => (v / (1 + Math.exp(-v))) * b[i]);
      const f = mv(w.w2, gl, D);
      x = x.map((v, i) => v + f[i]);
    });
    out.set(mv(m.wcls, rms(x, m.rmsFinal), V), pos * V);
  });
  return out;
}

/** The same model as a version-1 file (export.py version1_export layout). */
function writeVersion1(m: LlamaModel): Uint8Array {
  const c = m.config;
  const parts: Float32Array[] = [
    ...m.layers.map((l) => l.rmsAtt),
    ...m.layers.map((l) => l.rmsFfn),
    m.rmsFinal,
    m.tokenEmbedding,
  ];
  for (const key of ['wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3'] as const)
    parts.push(...m.layers.map((l) => l[key]));
  if (!c.sharedClassifier) parts.push(m.wcls);
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(256 + 4 * n);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, LLAMA2C_MAGIC, true);
  dv.setInt32(4, 1, true);
  const hdr = [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen];
  for (let i = 0; i < hdr.length; i++) dv.setInt32(8 + 4 * i, hdr[i], true);
  dv.setUint8(36, c.sharedClassifier ? 1 : 0);
  let off = 256;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
    off += p.byteLength;
  }
  return out;
}

describe('llama2.c checkpoints of another shape', () => {
  const model = randomModel(ODD_CONFIG, 7, 'odd');
  const rng = new Rng(3);
  const tokens = Array.from({ length: 23 }, () => rng.int(300));

  it('round-trips the legacy format (untied classifier)', () => {
    const back = parseLlamaCheckpoint(writeLegacyCheckpoint(model), 'odd.bin');
    expect(back.config).toEqual(ODD_CONFIG);
    expect(back.format).toBe('legacy');
    expect(back.wcls).toEqual(model.wcls);
    expect(back.layers[2].w3).toEqual(model.layers[2].w3);
    expect(back.rmsFinal).toEqual(model.rmsFinal);
  });

  it('reads version-1 files to the same model', () => {
    const v1 = parseLlamaCheckpoint(writeVersion1(model), 'odd-v1.bin');
    expect(v1.format).toBe('version1');
    expect(v1.config).toEqual(ODD_CONFIG);
    expect(lmForwardCpu(v1, tokens)).toEqual(lmForwardCpu(model, tokens));
  });

  it('refuses truncated or foreign files naming the file', () => {
    const bytes = writeLegacyCheckpoint(model);
    expect(() => parseLlamaCheckpoint(bytes.subarray(0, bytes.length - 4), 'cut.bin')).toThrow(
      /cut\.bin: .* needs/,
    );
    expect(() => parseLlamaCheckpoint(new Uint8Array(100).fill(255), 'junk.bin')).toThrow(
      /junk\.bin: not a llama2\.c/,
    );
    expect(() => parseLlamaCheckpoint(new Uint8Array(3), 'tiny.bin')).toThrow(/tiny\.bin/);
  });

  it('prefill forward = token-by-token forward with a KV cache within 1e-4 relative', () => {
    const a = lmForwardCpu(model, tokens) as Float32Array;
    const b = stepwiseLogits(model, tokens);
    let scale = 0;
    let err = 0;
    for (let i = 0; i < b.length; i++) {
      scale = Math.max(scale, Math.abs(b[i]));
      err = Math.max(err, Math.abs(a[i] - b[i]));
    }
    expect(err / scale).toBeLessThan(1e-4);
  });

  it('hooks: names, parse errors, read and replace', () => {
    expect(hookNames(ODD_CONFIG)).toContain('blocks.2.hook_resid_post');
    expect(() => parseHook('blocks.3.hook_resid_post', ODD_CONFIG)).toThrow(/unknown hook.*layers 0\.\.2/);
    expect(() => parseHook('resid', ODD_CONFIG)).toThrow(/unknown hook "resid"/);
    let seen: Float32Array | undefined;
    const clean = lmForwardCpu(model, tokens, {
      hooks: { 'blocks.1.hook_resid_post': { read: (x) => (seen = x.slice()) } },
    });
    expect(seen?.length).toBe(tokens.length * 48);
    // Replacing a hook with its own values changes nothing; zeros change the logits.
    const same = lmForwardCpu(model, tokens, {
      hooks: { 'blocks.1.hook_resid_post': { replace: (x) => x.slice() } },
    });
    expect(same).toEqual(clean);
    const zero = lmForwardCpu(model, tokens, {
      hooks: { 'blocks.1.hook_resid_post': { replace: (x) => new Float32Array(x.length) } },
    });
    expect(zero).not.toEqual(clean);
    expect(lmForwardCpu(model, tokens, { stopAfter: 'hook_embed' })).toBeNull();
  });
});
