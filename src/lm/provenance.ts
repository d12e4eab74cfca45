/**
 * Where a dataset's activations came from, when a language model the lab can run produced them: the record in the
 * manifest that makes behavioural evaluation (patched CE) possible, and the built-in model's files.
 */
import { DEMO } from '../data/demo';
import type { DatasetManifest } from '../data/types';

/** Provenance of harvested activations (DatasetManifest.lm). Plain data. */
export interface LmProvenance {
  /** Model name, e.g. "stories260K". */
  model: string;
  /** sha256 of the checkpoint file, lowercase hex. */
  modelSha256: string;
  /** Hook name (src/lm/hooks.ts), e.g. "blocks.2.hook_resid_post". */
  hook: string;
  /** Context length: documents were BOS + at most ctx − 1 tokens. */
  ctx: number;
  /** Text source name and sha256 of its bytes. */
  text: string;
  textSha256: string;
  /**
   * Token id of every row (documents start at BOS, which gives the document boundaries): a path under the app's
   * base URL for built-in data (an int32 .npy), or an IndexedDB key of the dataset store holding an Int32Array.
   */
  tokens: { kind: 'url'; path: string } | { kind: 'key'; key: string };
}

/** The built-in language model: files under public/lm/ (provenance in public/lm/README.md). */
export const BUILTIN_MODEL = {
  name: 'stories260K',
  checkpoint: 'lm/stories260K.bin',
  tokenizer: 'lm/tok512.bin',
  text: 'lm/tinystories.jsonl',
  sha256: 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696',
  textSha256: '63146d39c77a417f34595f06cc0f10d643490aa9aff0e58a429432aa8d6fbc38',
} as const;

/** Provenance of the built-in demo dataset (public/demo/README.md). */
export const DEMO_PROVENANCE: LmProvenance = {
  model: BUILTIN_MODEL.name,
  modelSha256: BUILTIN_MODEL.sha256,
  hook: 'blocks.2.hook_resid_post',
  ctx: 512,
  text: 'tinystories.jsonl',
  textSha256: BUILTIN_MODEL.textSha256,
  tokens: { kind: 'url', path: 'demo/stories260K.tokens.npy' },
};

/** The provenance of a dataset: its manifest's record, or the demo's for the built-in demo dataset. */
export function datasetProvenance(
  m: Pick<DatasetManifest, 'id'> & { lm?: LmProvenance },
): LmProvenance | undefined {
  return m.lm ?? (m.id === DEMO.id ? DEMO_PROVENANCE : undefined);
}
