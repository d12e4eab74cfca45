import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyManifest } from '../data/fixtures';
import { DatasetStore, memoryKv } from '../data/store';
import { setDatasetNames } from './dataset-names';
import { parseDatasetTokenizer, tokenizerVocab } from './dataset-tokenizer';
import { BOS, decode, EOS, parseTokenizer } from './tokenizer';

const tok512 = () =>
  readFile(resolve(import.meta.dirname, '../../public/lm/tok512.bin')).then((b) => new Uint8Array(b));
const loadModel = async () =>
  new Uint8Array(await readFile(resolve(import.meta.dirname, '../../public/lm/stories260K.bin')));

/** A tiny GPT-2 style (byte-level BPE) tokenizer.json: "Ġ" is a space, "Ċ" a newline, "Ã©" the UTF-8 bytes of é. */
function hfFixture(): Record<string, unknown> {
  const vocab = { Hello: 0, ĠWorld: 1, Ġthe: 2, 'cafÃ©': 3, Ċ: 4, Ġ: 5, H: 6, e: 7, l: 8, o: 9 };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: 10,
        content: '<|endoftext|>',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: ['H e', 'l l', 'He ll', 'Hell o'],
    },
  };
}
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('dataset tokenizers', () => {
  it('decodes a Hugging Face byte-level BPE tokenizer.json to readable text, added tokens included', () => {
    const t = parseDatasetTokenizer(json(hfFixture()), 'tokenizer.json');
    expect(t.kind).toBe('hf');
    expect(t.vocabSize).toBe(11);
    const vocab = tokenizerVocab(t);
    expect(vocab.slice(0, 6)).toEqual(['Hello', ' World', ' the', 'café', '\n', ' ']);
    expect(vocab[10]).toBe('<|endoftext|>');
    expect(t.bosId).toBe(10);
    expect([0, 1, 2, 3].map((id) => t.pieceText(id)).join('')).toBe('Hello World thecafé');
  });

  it('reads a llama2.c tokenizer.bin with the same pieces as the built-in decoder', async () => {
    const bytes = await tok512();
    const t = parseDatasetTokenizer(bytes, 'tokenizer.bin');
    expect(t.kind).toBe('llama2c');
    expect(t.vocabSize).toBe(512);
    const ref = parseTokenizer(bytes, 'tok512.bin', 512);
    const vocab = tokenizerVocab(t);
    expect(vocab[BOS]).toBe('<s>');
    expect(vocab[EOS]).toBe('</s>');
    expect(t.bosId).toBe(BOS);
    for (const id of [3 + 0x41, 300, 400, 511]) expect(vocab[id]).toBe(decode(ref, [id]));
    expect(vocab.join('')).toContain(' the');
  });

  it('names the file for every bad tokenizer', async () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty.json', new Uint8Array(0), /^empty\.json: the file is empty/],
      ['broken.json', new TextEncoder().encode('{"model": {'), /^broken\.json: not a valid tokenizer\.json/],
      ['nomodel.json', json({ version: '1.0' }), /^nomodel\.json: not a Hugging Face tokenizer\.json/],
      [
        'nodecoder.json',
        json({ ...hfFixture(), decoder: undefined }),
        /^nodecoder\.json: the tokenizer could not be read/,
      ],
      ['cut.bin', (await tok512()).subarray(0, 1001), /^cut\.bin: truncated/],
      ['junk.bin', Uint8Array.of(0, 0, 0, 0, 1), /^junk\.bin: not a llama2\.c tokenizer/],
    ];
    for (const [name, bytes, re] of cases) expect(() => parseDatasetTokenizer(bytes, name), name).toThrow(re);
  });
});

const manifest = (id: string, nTokens: number) => emptyManifest(id, nTokens);

describe('attaching a tokenizer to an imported dataset', () => {
  it('stores the tokenizer and token ids with the dataset, replaces and deletes them with it', async () => {
    const kv = memoryKv();
    const store = new DatasetStore(kv);
    await store.commit(manifest('g', 4));
    const ids = { name: 'ids.npy', ids: new Int32Array([10, 0, 1, 4]) };
    const m = await setDatasetNames(
      store,
      'g',
      {
        modelName: 'gpt2',
        hookName: 'blocks.0.hook_resid_pre',
        tokenIds: ids,
        tokenizer: { name: 'tokenizer.json', bytes: json(hfFixture()) },
      },
      loadModel,
    );
    expect(m.tokenizer).toMatchObject({ kind: 'hf', name: 'tokenizer.json', vocabSize: 11 });
    expect(m.tokenIds?.name).toBe('ids.npy');
    expect(m.lm).toBeUndefined();
    const stored = await store.getValue<{ bytes: Uint8Array }>(m.tokenizer?.key as string);
    const t = parseDatasetTokenizer(stored?.bytes as Uint8Array, 'stored');
    const tokens = (await store.getValue<{ tokens: Int32Array }>(m.tokenIds?.key as string))?.tokens;
    expect(Array.from(tokens ?? [], (id) => t.pieceText(id)).join('')).toBe('<|endoftext|>Hello World\n');
    // Orphan cleanup keeps them (they are listed by the manifest).
    expect(await store.cleanupOrphans()).toEqual([]);

    // Replacing the tokenizer (names unchanged, ids kept) frees the old bytes.
    const oldKey = m.tokenizer?.key as string;
    await new Promise((r) => setTimeout(r, 2));
    const m2 = await setDatasetNames(
      store,
      'g',
      { modelName: 'gpt2', hookName: '', tokenizer: { name: 'tok.bin', bytes: await tok512() } },
      loadModel,
    );
    expect(m2.tokenizer?.kind).toBe('llama2c');
    expect(m2.tokenIds).toEqual(m.tokenIds);
    expect(await store.getValue(oldKey)).toBeUndefined();

    await store.delete('g');
    expect(await kv.keys('')).toEqual([]);
  });

  it('refuses bad tokenizers and ids with a message naming the file, leaving the store as it was', async () => {
    const kv = memoryKv();
    const store = new DatasetStore(kv);
    await store.commit(manifest('b', 4));
    await setDatasetNames(
      store,
      'b',
      {
        modelName: 'gpt2',
        hookName: '',
        tokenIds: { name: 'a.npy', ids: new Int32Array([0, 1, 2, 3]) },
        tokenizer: { name: 'tokenizer.json', bytes: json(hfFixture()) },
      },
      loadModel,
    );
    const before = { manifest: await store.get('b'), keys: await kv.keys('') };
    const bad: [string, Parameters<typeof setDatasetNames>[2], RegExp][] = [
      [
        'bad json',
        {
          modelName: 'gpt2',
          hookName: '',
          tokenizer: { name: 'x.json', bytes: new TextEncoder().encode('nope{') },
        },
        /^x\.json: /,
      ],
      [
        'truncated bin',
        {
          modelName: 'gpt2',
          hookName: '',
          tokenizer: { name: 't.bin', bytes: (await tok512()).subarray(0, 77) },
        },
        /^t\.bin: truncated/,
      ],
      [
        'ids outside the vocabulary',
        {
          modelName: 'gpt2',
          hookName: '',
          tokenIds: { name: 'big.npy', ids: new Int32Array([0, 1, 11, 3]) },
        },
        /^big\.npy: token id 11 at row 2 is outside the vocabulary of tokenizer\.json \(11\)/,
      ],
      [
        'wrong count',
        { modelName: 'gpt2', hookName: '', tokenIds: { name: 'short.npy', ids: new Int32Array([0, 1]) } },
        /^short\.npy: 2 token ids, but the dataset "set b" has 4 rows/,
      ],
      [
        'tokenizer too small for the stored ids',
        {
          modelName: 'gpt2',
          hookName: '',
          tokenizer: {
            name: 'small.json',
            bytes: json({
              ...hfFixture(),
              added_tokens: [],
              model: { ...(hfFixture().model as object), vocab: { a: 0, b: 1 }, merges: [] },
            }),
          },
        },
        /^small\.json: its vocabulary \(2\) does not cover token id 2 of a\.npy/,
      ],
    ];
    for (const [what, names, re] of bad) {
      await expect(setDatasetNames(store, 'b', names, loadModel), what).rejects.toThrow(re);
      expect(await store.get('b'), what).toEqual(before.manifest);
      expect(await kv.keys(''), what).toEqual(before.keys);
    }
  });

  it('asks for the tokenizer when another model’s token ids come alone', async () => {
    const store = new DatasetStore(memoryKv());
    await store.commit(manifest('n', 2));
    await expect(
      setDatasetNames(
        store,
        'n',
        { modelName: 'gpt2', hookName: '', tokenIds: { name: 'o.npy', ids: new Int32Array([1, 2]) } },
        loadModel,
      ),
    ).rejects.toThrow(/^o\.npy: token ids of a model other than the built-in stories260K need its tokenizer/);
  });
});
