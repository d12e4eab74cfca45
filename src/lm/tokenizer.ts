/**
 * The llama2.c tokenizer (tokenizer.bin / tok512.bin format; Karpathy, llama2.c `run.c`, MIT): a SentencePiece BPE
 * vocabulary with one merge score per piece.
 *
 * File: int32 max_token_length, then vocab_size × (float32 score, int32 byte length n, n bytes of the piece).
 * The vocabulary size is not in the file: it is the model's (the checkpoint header), or every record in the file.
 *
 * Encoding (run.c `encode`): prepend the piece " " (SentencePiece's dummy prefix) when the text is not empty; map
 * each UTF-8 code point to its piece, or, when absent, each of its bytes b to id b + 3 (byte fallback); then merge
 * repeatedly the adjacent pair whose concatenation is a piece with the highest score (the leftmost on ties), until
 * no pair merges. BOS (id 1) is prepended by the caller's choice.
 * Decoding (run.c `decode`): a piece "<0xXX>" is the raw byte XX; after BOS a leading space is dropped.
 */

/** Id of the beginning-of-sequence token. */
export const BOS = 1;
/** Id of the end-of-sequence token. */
export const EOS = 2;

/** A parsed tokenizer. */
export interface Tokenizer {
  /** Piece bytes per id. */
  pieces: Uint8Array[];
  /** Merge score per id (higher merges first). */
  scores: Float32Array;
  maxTokenLength: number;
  /** Piece (as a latin1 string of its bytes) → id, for lookup. */
  index: Map<string, number>;
}

/** Bytes as a latin1 string (one char per byte): a lossless Map key. */
function key(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/**
 * Parse a llama2.c tokenizer file.
 * @param bytes the file
 * @param name file name for error messages
 * @param vocabSize number of records to read; undefined = all records in the file
 * @throws Error naming the file when it is truncated, has trailing bytes (when vocabSize is undefined), or fewer
 *   records than vocabSize.
 */
export function parseTokenizer(bytes: Uint8Array, name: string, vocabSize?: number): Tokenizer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new Error(`${name}: too short for a llama2.c tokenizer`);
  const maxTokenLength = view.getInt32(0, true);
  if (!(maxTokenLength > 0 && maxTokenLength < 1 << 16)) {
    throw new Error(`${name}: not a llama2.c tokenizer (max_token_length ${maxTokenLength})`);
  }
  const pieces: Uint8Array[] = [];
  const scoreList: number[] = [];
  let off = 4;
  while (off < bytes.byteLength && (vocabSize === undefined || pieces.length < vocabSize)) {
    if (off + 8 > bytes.byteLength) throw new Error(`${name}: truncated at token ${pieces.length}`);
    const score = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    off += 8;
    if (len < 0 || off + len > bytes.byteLength)
      throw new Error(`${name}: token ${pieces.length} has a bad length ${len}`);
    pieces.push(bytes.slice(off, off + len));
    scoreList.push(score);
    off += len;
  }
  if (vocabSize !== undefined && pieces.length < vocabSize) {
    throw new Error(`${name}: holds ${pieces.length} tokens, the model has vocab_size ${vocabSize}`);
  }
  const index = new Map<string, number>();
  pieces.forEach((p, i) => {
    const k = key(p);
    if (!index.has(k)) index.set(k, i);
  });
  return { pieces, scores: Float32Array.from(scoreList), maxTokenLength, index };
}

const utf8 = new TextEncoder();

/**
 * Token ids of a text (see the module comment for the rule).
 * @param bos prepend BOS (id 1)
 * @param eos append EOS (id 2)
 */
export function encode(tok: Tokenizer, text: string, bos: boolean, eos = false): number[] {
  const bytes = utf8.encode(text);
  const ids: number[] = [];
  if (bos) ids.push(BOS);
  const work: number[] = [];
  if (bytes.length > 0) {
    const space = tok.index.get(' ');
    if (space !== undefined) work.push(space);
  }
  let i = 0;
  while (i < bytes.length) {
    // One UTF-8 code point: a lead byte then continuation bytes (10xxxxxx), at most 4 in all (run.c's rule).
    let j = i + 1;
    while (j < bytes.length && (bytes[j] & 0xc0) === 0x80 && j - i < 4) j++;
    const cp = bytes.subarray(i, j);
    const id = tok.index.get(key(cp));
    if (id !== undefined) work.push(id);
    else for (const b of cp) work.push(b + 3);
    i = j;
  }
  // Merge the best-scoring adjacent pair until none merges. pair[t] = id of the piece work[t]·work[t+1] (−1: none),
  // kept up to date around each merge so that a merge costs one scan of numbers, not of strings.
  const pairOf = (a: number, b: number) => tok.index.get(key(tok.pieces[a]) + key(tok.pieces[b])) ?? -1;
  const pair: number[] = [];
  for (let t = 0; t + 1 < work.length; t++) pair.push(pairOf(work[t], work[t + 1]));
  for (;;) {
    let best = Number.NEGATIVE_INFINITY;
    let bestAt = -1;
    for (let t = 0; t < pair.length; t++) {
      const id = pair[t];
      if (id >= 0 && tok.scores[id] > best) {
        best = tok.scores[id];
        bestAt = t;
      }
    }
    if (bestAt < 0) break;
    work.splice(bestAt, 2, pair[bestAt]);
    pair.splice(bestAt, 1);
    if (bestAt > 0) pair[bestAt - 1] = pairOf(work[bestAt - 1], work[bestAt]);
    if (bestAt < pair.length) pair[bestAt] = pairOf(work[bestAt], work[bestAt + 1]);
  }
  for (const id of work) ids.push(id);
  if (eos) ids.push(EOS);
  return ids;
}

/** Raw bytes of one token given the previous one (run.c `decode`). */
export function decodePiece(tok: Tokenizer, prev: number, id: number): Uint8Array {
  let p = tok.pieces[id];
  if (p === undefined)
    throw new RangeError(`decode: token id ${id} is outside the vocabulary (${tok.pieces.length})`);
  if (prev === BOS && p[0] === 0x20) p = p.subarray(1);
  const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(key(p));
  if (m) return Uint8Array.of(Number.parseInt(m[1], 16));
  return p;
}

/**
 * Text of a token sequence: the pieces' bytes joined and read as UTF-8. BOS and EOS contribute nothing, and a
 * leading space after BOS is dropped.
 * @throws RangeError on an id outside the vocabulary.
 */
export function decode(tok: Tokenizer, ids: ArrayLike<number>): string {
  const chunks: Uint8Array[] = [];
  let prev = -1;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id !== BOS && id !== EOS) chunks.push(decodePiece(tok, prev, id));
    prev = id;
  }
  const n = chunks.reduce((s, c) => s + c.length, 0);
  const all = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return new TextDecoder().decode(all);
}
