import { describe, expect, it } from 'vitest';
import { bytesSource } from './bytes';
import { encodeElems, npyBytes } from './fixtures';
import { parsePyLiteral, readNpyHeader } from './npy';

const f32 = (n: number) =>
  encodeElems(
    Array.from({ length: n }, (_, i) => i),
    'f32',
  );
const header = (bytes: Uint8Array, name = 'x.npy') => readNpyHeader(bytesSource(name, bytes));

describe('parsePyLiteral', () => {
  it('reads the dict numpy writes, Python 2 longs, 1-tuples and trailing commas', () => {
    expect(parsePyLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (10L, 64L), }")).toEqual({
      descr: '<f4',
      fortran_order: false,
      shape: [10, 64],
    });
    expect(parsePyLiteral('{"a": (5,), "b": [True, None, -3]}')).toEqual({ a: [5], b: [true, null, -3] });
  });
  it('names the position of a syntax error', () => {
    expect(() => parsePyLiteral("{'a': 1")).toThrow(/position 7/);
    expect(() => parsePyLiteral("{'a': 1} x")).toThrow(/unexpected text/);
  });
});

describe('readNpyHeader', () => {
  it('reads v1.0, v2.0 and v3.0 headers of 2-D float32 data', async () => {
    for (const version of [1, 2, 3]) {
      const bytes = npyBytes({ descr: '<f4', shape: [3, 5], data: f32(15), version });
      const l = await header(bytes);
      expect(l).toMatchObject({ nTokens: 3, dModel: 5, order: 'C', dtype: '<f4', dataBytes: 60 });
      expect(l.elem).toEqual({ kind: 'f32', littleEndian: true });
      expect(l.dataOffset % 64).toBe(0);
      expect(l.dataOffset + 60).toBe(bytes.length);
    }
  });

  it('maps >f4, <f2, >f2, <f8 and flattens 3-D [batch, seq, d_model]', async () => {
    const cases: [string, object, number][] = [
      ['>f4', { kind: 'f32', littleEndian: false }, 4],
      ['<f2', { kind: 'f16', littleEndian: true }, 2],
      ['>f2', { kind: 'f16', littleEndian: false }, 2],
      ['<f8', { kind: 'f64', littleEndian: true }, 8],
    ];
    for (const [descr, elem, size] of cases) {
      const l = await header(npyBytes({ descr, shape: [2, 3, 7], data: new Uint8Array(42 * size) }));
      expect(l.elem).toEqual(elem);
      expect([l.nTokens, l.dModel]).toEqual([6, 7]);
      if (descr === '<f8') expect(l.note).toMatch(/rounded to float32/);
    }
  });

  it('accepts 2-D fortran_order and refuses 3-D fortran_order with a fix', async () => {
    const l = await header(npyBytes({ descr: '<f4', shape: [4, 3], data: f32(12), fortranOrder: true }));
    expect(l.order).toBe('F');
    await expect(
      header(npyBytes({ descr: '<f4', shape: [2, 2, 3], data: f32(12), fortranOrder: true }), 'f3.npy'),
    ).rejects.toThrow(/"f3.npy": fortran_order arrays are supported only in 2-D.*ascontiguousarray/);
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /empty file/],
    [
      'bad magic',
      npyBytes({ descr: '<f4', shape: [1, 1], data: f32(1), magic: [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58] }),
      /bad magic/,
    ],
    ['not a .npy at all', new TextEncoder().encode('hello world, this is text'), /bad magic/],
    [
      'unsupported version',
      npyBytes({ descr: '<f4', shape: [1, 1], data: f32(1), version: 4 }),
      /unsupported .npy version 4.0/,
    ],
    [
      'header that is not a dict literal',
      npyBytes({ descr: '', shape: [], data: f32(1), headerText: "{'descr': '<f4', 'shape': (1" }),
      /not a valid Python dict literal/,
    ],
    [
      'header that is a list, not a dict',
      npyBytes({ descr: '', shape: [], data: f32(1), headerText: '[1, 2]' }),
      /header is not a dict/,
    ],
    [
      'header without shape',
      npyBytes({
        descr: '',
        shape: [],
        data: f32(1),
        headerText: "{'descr': '<f4', 'fortran_order': False}",
      }),
      /no 'shape' key/,
    ],
    [
      'unsupported dtype <i8',
      npyBytes({ descr: '<i8', shape: [1, 1], data: new Uint8Array(8) }),
      /unsupported dtype '<i8'/,
    ],
    [
      'unsupported dtype <f16 (float128)',
      npyBytes({ descr: '<f16', shape: [1, 1], data: new Uint8Array(16) }),
      /unsupported dtype '<f16'/,
    ],
    [
      'structured dtype',
      npyBytes({
        descr: '',
        shape: [],
        data: f32(1),
        headerText: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
      }),
      /unsupported dtype/,
    ],
    ['zero dim', npyBytes({ descr: '<f4', shape: [0, 64], data: new Uint8Array(0) }), /zero dimension/],
    [
      'negative dim',
      npyBytes({ descr: '<f4', shape: [-2, 4], data: new Uint8Array(0) }),
      /negative dimension/,
    ],
    ['1-D array', npyBytes({ descr: '<f4', shape: [8], data: f32(8) }), /1 dimension\(s\)/],
    ['4-D array', npyBytes({ descr: '<f4', shape: [1, 1, 1, 2], data: f32(2) }), /4 dimension\(s\)/],
    [
      'truncated data',
      npyBytes({ descr: '<f4', shape: [10, 4], data: f32(39) }),
      /truncated data.*160 bytes.*156 bytes/,
    ],
    [
      'trailing bytes',
      npyBytes({ descr: '<f4', shape: [2, 2], data: f32(5) }),
      /4 unexpected bytes after the data/,
    ],
  ];
  for (const [what, bytes, re] of bad) {
    it(`refuses: ${what}, naming the file`, async () => {
      await expect(header(bytes, 'bad.npy')).rejects.toThrow(re);
      await expect(header(bytes, 'bad.npy')).rejects.toThrow(/^"bad.npy": /);
    });
  }

  it('refuses a header length past the end of the file', async () => {
    const bytes = npyBytes({ descr: '<f4', shape: [1, 1], data: f32(1) });
    const cut = bytes.slice(0, 40); // preamble says 118 header bytes
    await expect(header(cut, 'cut.npy')).rejects.toThrow(
      /"cut.npy": bad header: header length 118 runs past the end/,
    );
  });
});
