import { describe, expect, it } from 'vitest';
import { bytesSource } from './bytes';
import { encodeElems, type SafetensorsFixtureTensor, safetensorsBytes } from './fixtures';
import { inspectSource, missingChoices, resolveLayout } from './inspect';
import { defaultTensor, readSafetensorsHeader, safetensorsLayout } from './safetensors';

const t = (name: string, dtype: string, shape: number[], item = 4): SafetensorsFixtureTensor => ({
  name,
  dtype,
  shape,
  data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * item),
});
const read = (bytes: Uint8Array, name = 'a.safetensors') => readSafetensorsHeader(bytesSource(name, bytes));

describe('readSafetensorsHeader', () => {
  it('reads tensors and __metadata__, and picks the single importable tensor by default', async () => {
    const bytes = safetensorsBytes(
      [t('ids', 'I64', [5], 8), t('acts', 'BF16', [2, 3, 8], 2), t('scale', 'F32', [1])],
      { hook: 'blocks.2.hook_resid_post', model: 'gpt2' },
    );
    const h = await read(bytes);
    expect(h.metadata).toEqual({ hook: 'blocks.2.hook_resid_post', model: 'gpt2' });
    expect(h.tensors.map((x) => [x.name, x.importable])).toEqual([
      ['ids', false],
      ['acts', true],
      ['scale', false],
    ]);
    expect(defaultTensor(h)).toBe('acts');
    const l = safetensorsLayout(h, 'acts');
    expect(l).toMatchObject({
      nTokens: 6,
      dModel: 8,
      dtype: 'BF16',
      tensor: 'acts',
      dataBytes: 96,
      order: 'C',
    });
    expect(l.elem).toEqual({ kind: 'bf16', littleEndian: true });
    expect(l.dataOffset).toBe(h.dataStart + 40);
    expect(l.metadata?.model).toBe('gpt2');
  });

  it('asks when several float tensors fit, and imports the one picked', async () => {
    const bytes = safetensorsBytes([t('layer1', 'F32', [4, 16]), t('layer2', 'F16', [4, 16], 2)]);
    const ins = await inspectSource(bytesSource('two.safetensors', bytes));
    expect(ins.format).toBe('safetensors');
    expect(ins.format === 'safetensors' ? ins.defaultTensor : 'n/a').toBeUndefined();
    expect(missingChoices(ins)).toEqual(['tensor']);
    expect(() => resolveLayout(ins)).toThrow(
      /"two.safetensors": holds several tensors; pick one of: layer1, layer2/,
    );
    expect(missingChoices(ins, { tensor: 'layer2' })).toEqual([]);
    expect(resolveLayout(ins, { tensor: 'layer2' }).elem.kind).toBe('f16');
  });

  it('recognises a safetensors file without its extension by the JSON after the length', async () => {
    const ins = await inspectSource(bytesSource('dump', safetensorsBytes([t('x', 'F32', [2, 2])])));
    expect(ins.format).toBe('safetensors');
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /empty file/],
    ['file shorter than the length field', new Uint8Array(5), /truncated/],
    [
      'header length past end of file',
      (() => {
        const b = safetensorsBytes([t('x', 'F32', [2, 2])]);
        new DataView(b.buffer).setUint32(0, b.length, true);
        return b;
      })(),
      /header length \d+ runs past the end of the file/,
    ],
    [
      'header length over 2^32 (high word set)',
      (() => {
        const b = safetensorsBytes([t('x', 'F32', [2, 2])]);
        new DataView(b.buffer).setUint32(4, 1, true);
        return b;
      })(),
      /header length 42949\d+ runs past the end/,
    ],
    [
      'header that is not JSON',
      safetensorsBytes([], undefined, '{"x": {"dtype": "F32",'),
      /not valid UTF-8 JSON/,
    ],
    ['header that is a JSON array', safetensorsBytes([], undefined, '[1, 2, 3]'), /not an object/],
    [
      '__metadata__ with a number',
      safetensorsBytes([], undefined, '{"__metadata__": {"a": 1}}'),
      /__metadata__\["a"\] is not a string/,
    ],
    [
      'tensor without data_offsets',
      safetensorsBytes([], undefined, '{"x": {"dtype": "F32", "shape": [1, 1]}}'),
      /data_offsets is not \[begin, end\]/,
    ],
    [
      'data_offsets past the data buffer',
      safetensorsBytes([{ ...t('x', 'F32', [2, 2]), dataOffsets: [0, 32] }]),
      /"x" data_offsets \[0, 32\] are out of range \(the data buffer has 16 bytes\)/,
    ],
    [
      'data_offsets with begin > end',
      safetensorsBytes([{ ...t('x', 'F32', [1, 1]), dataOffsets: [4, 0] }, t('pad', 'F32', [1, 1])]),
      /out of range/,
    ],
    [
      'overlapping data_offsets',
      safetensorsBytes([
        { ...t('a', 'F32', [2, 2]), dataOffsets: [0, 16] },
        { ...t('b', 'F32', [2, 2]), dataOffsets: [8, 24] },
      ]),
      /tensors "a" \[0, 16\] and "b" \[8, 24\] have overlapping data_offsets/,
    ],
    [
      'byte size that disagrees with the shape',
      safetensorsBytes([{ ...t('x', 'F32', [3, 3]), data: new Uint8Array(32) }]),
      /"x" \(F32 \[3, 3\]\) needs 36 bytes but data_offsets \[0, 32\] span 32/,
    ],
  ];
  for (const [what, bytes, re] of bad) {
    it(`refuses: ${what}, naming the file`, async () => {
      await expect(read(bytes, 'bad.safetensors')).rejects.toThrow(re);
      await expect(read(bytes, 'bad.safetensors')).rejects.toThrow(/^"bad.safetensors": /);
    });
  }

  it('refuses an unsupported dtype, zero dims, and a file with no importable tensor', async () => {
    const h = await read(
      safetensorsBytes([t('ids', 'I64', [4, 2], 8), t('z', 'F32', [0, 4])]),
      'i.safetensors',
    );
    expect(() => safetensorsLayout(h, 'ids')).toThrow(
      /"i.safetensors": tensor "ids" has unsupported dtype I64/,
    );
    expect(() => safetensorsLayout(h, 'z')).toThrow(/tensor "z" shape \[0, 4\] has a zero dimension/);
    expect(() => safetensorsLayout(h, 'nope')).toThrow(/has no tensor "nope"/);
    await expect(
      inspectSource(bytesSource('i.safetensors', safetensorsBytes([t('ids', 'I64', [4, 2], 8)]))),
    ).rejects.toThrow(/"i.safetensors": has no importable tensor.*ids I64 \[4, 2\]/);
  });

  it('keeps F16 data little-endian and reads its values', async () => {
    const data = encodeElems([1, 2, 3, 4], 'f16');
    const h = await read(safetensorsBytes([{ name: 'x', dtype: 'F16', shape: [2, 2], data }]));
    expect(safetensorsLayout(h, 'x').elem).toEqual({ kind: 'f16', littleEndian: true });
  });
});
