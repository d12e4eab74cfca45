/**
 * Text sources for the language model: documents from a .jsonl (one JSON object per line with a string `text`) or a
 * .txt (documents separated by blank lines), and their token sequences (BOS prepended, cut at the context length).
 */
import { BOS, encode, type Tokenizer } from './tokenizer';

/**
 * Documents of a text file, by its name's extension: `.jsonl` → the `text` field of each non-empty line;
 * anything else → the text split on blank lines (lines holding only whitespace), each paragraph trimmed, empty ones
 * dropped.
 * @throws Error naming the file and line when a .jsonl line is not JSON or has no string `text`, or no document is found.
 */
export function splitDocuments(text: string, name: string): string[] {
  let docs: string[];
  if (/\.jsonl$/i.test(name)) {
    docs = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        throw new Error(`${name}: line ${i + 1} is not JSON`);
      }
      const t = (obj as { text?: unknown })?.text;
      if (typeof t !== 'string') throw new Error(`${name}: line ${i + 1} has no string "text" field`);
      docs.push(t);
    });
  } else {
    docs = text
      .replace(/\r\n/g, '\n')
      .split(/\n[ \t]*\n/)
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
  }
  if (docs.length === 0) throw new Error(`${name}: no documents found`);
  return docs;
}

/**
 * Token ids of each document: BOS, then encode(text), cut to at most ctx tokens in all.
 * @throws RangeError when ctx < 2.
 */
export function tokenizeDocuments(tok: Tokenizer, docs: readonly string[], ctx: number): Int32Array[] {
  if (!(Number.isInteger(ctx) && ctx >= 2))
    throw new RangeError(`context length ${ctx}: must be an integer ≥ 2`);
  return docs.map((d) => {
    const ids = encode(tok, d, false);
    const out = new Int32Array(Math.min(ctx, ids.length + 1));
    out[0] = BOS;
    for (let i = 1; i < out.length; i++) out[i] = ids[i - 1];
    return out;
  });
}

/**
 * Split a flat token stream into documents at each BOS (the layout of a harvested dataset, whose documents each
 * start with BOS). Returns [start, end) row ranges.
 */
export function documentsFromBos(tokens: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === BOS) {
      if (start >= 0) out.push([start, i]);
      start = i;
    }
  }
  if (start >= 0) out.push([start, tokens.length]);
  else if (tokens.length > 0) out.push([0, tokens.length]);
  return out;
}

/**
 * The documents that lie wholly in a dataset's held-out rows [trainRows, N) (src/train/config.ts splitRows: the
 * held-out split is the last rows), as [start, end) row ranges. A document that straddles the split was partly
 * trained on and is left out.
 */
export function heldOutDocuments(tokens: ArrayLike<number>, trainRows: number): Array<[number, number]> {
  return documentsFromBos(tokens).filter(([start]) => start >= trainRows);
}
