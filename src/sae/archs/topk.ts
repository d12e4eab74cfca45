/**
 * TopK SAE (Gao et al. 2024, "Scaling and Evaluating Sparse Autoencoders", §2; seed 000): z = ReLU(TopK_k(pre)),
 * trained on the sparse per-row TopK path, optionally with the AuxK loss. Exported as SAELens `topk` with k.
 */
import { TOPK_LIKE_FIELDS } from './fields';
import { auxkKw, py } from './saelens-kw';
import type { ArchSpec } from './spec';

export const topk = {
  id: 'topk',
  label: 'TopK',
  pickerHelp: 'TopK',
  fields: TOPK_LIKE_FIELDS,
  sparsityCoefficient: null,
  auxk: true,
  step: { path: 'sparse-topk', forward: 'relu', backward: 'masked', sparsity: 'none', threshold: 'none' },
  charts: {
    l0Title: (k: number) => `L0 (k = ${k})`,
    l0Note: 'TopK keeps at most k.',
    sparsityTitle: null,
  },
  summary: { l0Label: (k: number) => `L0 (k = ${k})` },
  saeLens: {
    architecture: 'topk',
    activationFn: 'topk',
    cfgK: true,
    labK: false,
    extraTensors: [],
    training: { cls: 'TopKTrainingSAEConfig', kwargs: (c) => [['k', py(c.k)], auxkKw(c)] },
  },
  imports: { saeLens: [{ architecture: 'topk', threshold: 'none' }], sparsify: true, gemmaScope: false },
  collapse: { fixedK: true, hasThreshold: false },
} as const satisfies ArchSpec<'topk'>;
