/**
 * Random-weight llama2.c models of any shape, for tests of the loader, the CPU twin and the GPU model at shapes
 * other than stories260K's. Seeded (src/util/rng.ts): weights ~ N(0, 1/√fan_in), norms ~ 1 + N(0, 0.1).
 */
import { Rng } from '../../util/rng';
import { kvDim, type LlamaConfig, type LlamaModel } from '../checkpoint';

/** The second shape: dim 48, 3 layers, 6 heads, 2 kv heads, vocab 300. */
export const ODD_CONFIG: LlamaConfig = {
  dim: 48,
  hiddenDim: 136,
  nLayers: 3,
  nHeads: 6,
  nKvHeads: 2,
  vocabSize: 300,
  seqLen: 64,
  sharedClassifier: false,
};

/** A model with seeded random weights of config c. */
export function randomModel(c: LlamaConfig, seed: number, name = 'random'): LlamaModel {
  const rng = new Rng(seed);
  const D = c.dim;
  const H = c.hiddenDim;
  const Dkv = kvDim(c);
  const mat = (rows: number, cols: number) => rng.normalArray(rows * cols, 1 / Math.sqrt(cols));
  const norm = (n: number) => {
    const a = rng.normalArray(n, 0.1);
    for (let i = 0; i < n; i++) a[i] += 1;
    return a;
  };
  const tokenEmbedding = rng.normalArray(c.vocabSize * D, 1);
  const layers = Array.from({ length: c.nLayers }, () => ({
    rmsAtt: norm(D),
    wq: mat(D, D),
    wk: mat(Dkv, D),
    wv: mat(Dkv, D),
    wo: mat(D, D),
    rmsFfn: norm(D),
    w1: mat(H, D),
    w2: mat(D, H),
    w3: mat(H, D),
  }));
  const rmsFinal = norm(D);
  const wcls = c.sharedClassifier ? tokenEmbedding : mat(c.vocabSize, D);
  return { name, config: c, tokenEmbedding, layers, rmsFinal, wcls, format: 'legacy' };
}
