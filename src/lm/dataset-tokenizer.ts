/**
 * The tokenizer of an imported activation dataset, for decoding its token ids in the feature dashboard: either a
 * llama2.c tokenizer.bin (src/lm/tokenizer.ts) or a Hugging Face tokenizer.json, read by @huggingface/tokenizers
 * (pure JS, works offline in a worker and in Node from the JSON alone). Only decoding ids → text is needed here.
 *
 * The file's bytes are stored with the dataset (src/lm/dataset-names.ts) and parsed again when a dashboard opens.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BOS, decodePiece, EOS, parseTokenizer, type Tokenizer } from './tokenizer';

/** Which format a tokenizer file is in. */
export type TokenizerKind = 'llama2c' | 'hf';

/** A parsed dataset tokenizer: the text of each token id. */
export interface DatasetTokenizer {
  kind: TokenizerKind;
  /** Number of token ids (1 + the largest id, added tokens included). */
  vocabSize: number;
  /** Id that starts a document (cuts contexts), or −1 when the tokenizer names none. */
  bosId: number;
  /** Readable text of token `id` alone (byte-level BPE pieces such as "Ġthe" come out as " the"). */
  pieceText(id: number): string;
}

/** Text of every id of a llama2.c tokenizer; BOS and EOS ("\n<s>\n", "\n</s>\n") shown trimmed. */
export function llama2cVocab(tok: Tokenizer): string[] {
  const dec = new TextDecoder();
  return tok.pieces.map((_, id) => {
    const p = dec.decode(decodePiece(tok, -1, id));
    return id === BOS || id === EOS ? p.trim() : p;
  });
}

/** The tokenizer's text for every id [vocabSize]. */
export function tokenizerVocab(tok: DatasetTokenizer): string[] {
  return Array.from({ length: tok.vocabSize }, (_, id) => tok.pieceText(id));
}

/** True when the bytes look like JSON (first non-blank byte is "{"). */
function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf)
      continue;
    return b === 0x7b;
  }
  return false;
}

/**
 * Parse a tokenizer file: a Hugging Face tokenizer.json (JSON with a "model") or else a llama2.c tokenizer.bin.
 * @param bytes the whole file
 * @param name file name, used in every error message
 * @throws Error naming the file: empty file, JSON that does not parse, JSON without a tokenizer "model" or that the
 *   library rejects, an empty vocabulary, or a llama2.c file that is truncated or has trailing bytes.
 */
export function parseDatasetTokenizer(bytes: Uint8Array, name: string): DatasetTokenizer {
  if (bytes.byteLength === 0) throw new Error(`${name}: the file is empty`);
  if (looksLikeJson(bytes) || /\.json$/i.test(name)) return parseHf(bytes, name);
  const tok = parseTokenizer(bytes, name);
  if (tok.pieces.length === 0) throw new Error(`${name}: the llama2.c tokenizer has no tokens`);
  const vocab = llama2cVocab(tok);
  return { kind: 'llama2c', vocabSize: vocab.length, bosId: BOS, pieceText: (id) => vocab[id] ?? '' };
}

/** Added tokens that start (or separate) documents, in order of preference (Llama 3, Gemma, Llama/Mistral, GPT-2). */
const HF_BOS = ['<|begin_of_text|>', '<bos>', '<s>', '<|startoftext|>', '<|endoftext|>'];

function parseHf(bytes: Uint8Array, name: string): DatasetTokenizer {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new Error(`${name}: not a valid tokenizer.json (${e instanceof Error ? e.message : String(e)})`);
  }
  const model = (json as { model?: unknown } | null)?.model;
  if (typeof json !== 'object' || json === null || typeof model !== 'object' || model === null) {
    throw new Error(`${name}: not a Hugging Face tokenizer.json (no "model" object)`);
  }
  let tok: HfTokenizer;
  let vocabSize = 0;
  let bosId = -1;
  try {
    tok = new HfTokenizer(json, {});
    for (const id of tok.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
    const added = [...tok.get_added_tokens_decoder().values()];
    for (const content of HF_BOS) {
      const a = added.find((t) => t.content === content);
      if (a) {
        bosId = a.id;
        break;
      }
    }
  } catch (e) {
    throw new Error(
      `${name}: the tokenizer could not be read (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (vocabSize === 0) throw new Error(`${name}: the tokenizer's vocabulary is empty`);
  const cache = new Map<number, string>();
  return {
    kind: 'hf',
    vocabSize,
    bosId,
    pieceText: (id) => {
      let s = cache.get(id);
      if (s === undefined) {
        s = tok.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
        cache.set(id, s);
      }
      return s;
    },
  };
}
