/**
 * The commands of `npm run lm` (scripts/lm.mjs) on the CPU twin of the language model (src/lm/). Each returns the
 * JSON object to print, or throws an Error whose message is the one-line error to show.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LlamaModel, parseLlamaCheckpoint } from '../src/lm/checkpoint';
import { corpusCeCpu, harvestCpu, patchedCeCpu } from '../src/lm/corpus-cpu';
import { parseHook } from '../src/lm/hooks';
import { parseSaeLens, saeSplice } from '../src/lm/sae-splice';
import { splitDocuments, tokenizeDocuments } from '../src/lm/text';
import { parseTokenizer } from '../src/lm/tokenizer';
import { patchedCeMetrics } from '../src/sae/metrics';

const root = resolve(import.meta.dirname, '..');

/** Options shared by every command. */
export interface LmArgs {
  command: string;
  text?: string;
  model?: string;
  tokenizer?: string;
  ctx?: string;
  sae?: string;
  hook?: string;
  out?: string;
  /** Use only the first N documents (quick checks). */
  limit?: string;
  seed?: string;
}

/** Usage text. */
export const USAGE = `usage:
  npm run lm -- ce --text FILE [--model BIN --tokenizer BIN] [--ctx 512]
  npm run lm -- eval --sae DIR --hook NAME --text FILE [--model BIN --tokenizer BIN] [--ctx 512] [--seed 0]
  npm run lm -- harvest --hook NAME --text FILE --out FILE.npy [--model BIN --tokenizer BIN] [--ctx 512]
  (--ctx defaults to min(512, the model's seq_len); default model: public/lm/stories260K.bin with public/lm/tok512.bin; --limit N uses the first N documents;
   FILE: .jsonl with a "text" field per line, or text split into documents on blank lines)`;

function readFile(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new Error(`${what} ${path}: no such file`);
  if (statSync(path).isDirectory()) throw new Error(`${what} ${path}: is a directory, expected a file`);
  return new Uint8Array(readFileSync(path));
}

function need(v: string | undefined, flag: string, command: string): string {
  if (!v) throw new Error(`${command}: --${flag} is required`);
  return v;
}

function loadModel(a: LmArgs): { model: LlamaModel; seqs: Int32Array[] } {
  const modelPath = a.model ?? resolve(root, 'public/lm/stories260K.bin');
  const tokPath = a.tokenizer ?? (a.model ? undefined : resolve(root, 'public/lm/tok512.bin'));
  if (!tokPath) throw new Error(`${a.command}: --model needs --tokenizer too`);
  const model = parseLlamaCheckpoint(readFile(modelPath, 'model'), modelPath);
  const tok = parseTokenizer(readFile(tokPath, 'tokenizer'), tokPath, model.config.vocabSize);
  const ctx = a.ctx === undefined ? Math.min(512, model.config.seqLen) : Number(a.ctx);
  if (!(Number.isInteger(ctx) && ctx >= 2)) throw new Error(`--ctx ${a.ctx}: must be an integer ≥ 2`);
  if (ctx > model.config.seqLen)
    throw new Error(`--ctx ${ctx}: the model's seq_len is ${model.config.seqLen}`);
  const textPath = need(a.text, 'text', a.command);
  const text = new TextDecoder().decode(readFile(textPath, 'text'));
  let docs = splitDocuments(text, textPath);
  if (a.limit !== undefined) {
    const n = Number(a.limit);
    if (!(Number.isInteger(n) && n > 0)) throw new Error(`--limit ${a.limit}: must be a positive integer`);
    docs = docs.slice(0, n);
  }
  return { model, seqs: tokenizeDocuments(tok, docs, ctx) };
}

/** A float32 [rows, cols] array as .npy (v1.0, little-endian, C order). */
export function npyF32(data: Float32Array, rows: number, cols: number): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = `${header}${' '.repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/**
 * Run one command. `log` receives progress lines (stderr).
 * @throws Error with a one-line message on bad input (missing file, unknown hook, wrong d_in, …).
 */
export function runLm(a: LmArgs, log: (s: string) => void = () => {}): Record<string, unknown> {
  if (a.command === 'ce') {
    const { model, seqs } = loadModel(a);
    const r = corpusCeCpu(model, seqs);
    return {
      model: model.name,
      documents: seqs.length,
      tokens: r.tokens,
      ce_nats_per_token: r.ceNatsPerToken,
    };
  }
  if (a.command === 'harvest') {
    const hook = need(a.hook, 'hook', 'harvest');
    const out = need(a.out, 'out', 'harvest');
    const { model, seqs } = loadModel(a);
    parseHook(hook, model.config);
    const t0 = performance.now();
    const h = harvestCpu(model, seqs, hook, ({ documents }) => {
      if (documents % 50 === 0) log(`harvest: ${documents}/${seqs.length} documents`);
    });
    const rows = h.tokens.length;
    writeFileSync(out, npyF32(h.activations, rows, h.dModel));
    return {
      model: model.name,
      hook,
      documents: seqs.length,
      tokens: rows,
      d_model: h.dModel,
      out,
      seconds: (performance.now() - t0) / 1000,
    };
  }
  if (a.command === 'eval') {
    const dir = need(a.sae, 'sae', 'eval');
    const hook = need(a.hook, 'hook', 'eval');
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--sae ${dir}: not a directory`);
    const files = readdirSync(dir);
    for (const f of ['cfg.json', 'sae_weights.safetensors']) {
      if (!files.includes(f)) throw new Error(`--sae ${dir}: no ${f} (expected SAELens layout)`);
    }
    const sae = parseSaeLens(
      readFileSync(resolve(dir, 'cfg.json'), 'utf8'),
      new Uint8Array(readFileSync(resolve(dir, 'sae_weights.safetensors'))),
      dir,
    );
    const { model, seqs } = loadModel(a);
    parseHook(hook, model.config);
    if (sae.dIn !== model.config.dim) {
      throw new Error(
        `--sae ${dir}: d_in ${sae.dIn} does not match hook ${hook} of ${model.name} (width ${model.config.dim})`,
      );
    }
    const docs = patchedCeCpu(model, seqs, hook, saeSplice(sae), ({ documents }) => {
      if (documents % 25 === 0) log(`eval: ${documents}/${seqs.length} documents`);
    });
    const m = patchedCeMetrics(docs, Number(a.seed ?? 0));
    return {
      model: model.name,
      hook,
      documents: m.documents,
      tokens: m.tokens,
      ce_clean: m.ceClean,
      ce_sae: m.ceSae,
      ce_zero: m.ceZero,
      ce_loss_score: m.ceLossScore.value,
      ce_loss_score_ci95: [m.ceLossScore.lo, m.ceLossScore.hi],
      delta_loss: m.deltaLoss.value,
      delta_loss_ci95: [m.deltaLoss.lo, m.deltaLoss.hi],
      kl_score: m.klScore,
    };
  }
  throw new Error(`unknown command "${a.command}" (ce, eval, harvest)`);
}
