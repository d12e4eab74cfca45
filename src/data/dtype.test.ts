import { describe, expect, it } from 'vitest';
import { decodeToF32, type ElemFormat } from './dtype';
import { encodeElems } from './fixtures';

const LE = (kind: ElemFormat['kind']): ElemFormat => ({ kind, littleEndian: true });
const BE = (kind: ElemFormat['kind']): ElemFormat => ({ kind, littleEndian: false });

function decode(bytes: Uint8Array, f: ElemFormat): number[] {
  const out = new Float32Array(bytes.length / { f32: 4, f16: 2, bf16: 2, f64: 8 }[f.kind]);
  decodeToF32(bytes, f, out);
  return Array.from(out);
}

describe('decodeToF32', () => {
  it('float16: hand-written bit patterns, both byte orders', () => {
    // 0x3c00 = 1, 0xc000 = -2, 0x3800 = 0.5, 0x7bff = 65504 (max), 0x0001 = 2^-24 (smallest subnormal),
    // 0x7c00 = +Inf, 0x8000 = -0.
    const bits = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x8000];
    const want = [1, -2, 0.5, 65504, 2 ** -24, Number.POSITIVE_INFINITY, -0];
    const le = new Uint8Array(bits.flatMap((b) => [b & 0xff, b >> 8]));
    const be = new Uint8Array(bits.flatMap((b) => [b >> 8, b & 0xff]));
    expect(decode(le, LE('f16'))).toEqual(want);
    expect(decode(be, BE('f16'))).toEqual(want);
    const nan = decode(new Uint8Array([0x00, 0x7e]), LE('f16'));
    expect(Number.isNaN(nan[0])).toBe(true);
  });

  it('bfloat16 is the top half of a float32 (hand-written bits)', () => {
    // 0x3f80 = 1, 0xc040 = -3, 0x4049 = 3.140625, 0x0001 = smallest bf16 subnormal = 2^-133, 0xff80 = -Inf
    const bits = [0x3f80, 0xc040, 0x4049, 0x0001, 0xff80];
    const want = [1, -3, 3.140625, 2 ** -133, Number.NEGATIVE_INFINITY];
    const le = new Uint8Array(bits.flatMap((b) => [b & 0xff, b >> 8]));
    const be = new Uint8Array(bits.flatMap((b) => [b >> 8, b & 0xff]));
    expect(decode(le, LE('bf16'))).toEqual(want);
    expect(decode(be, BE('bf16'))).toEqual(want);
  });

  it('float32 both byte orders, and float64 rounded to float32', () => {
    const v = [0, -1.5, 3.25e-20, 1e30, Math.PI].map(Math.fround);
    expect(decode(encodeElems(v, 'f32', true), LE('f32'))).toEqual(v);
    expect(decode(encodeElems(v, 'f32', false), BE('f32'))).toEqual(v);
    const d = [Math.PI, -1e-3, 1e300];
    expect(decode(encodeElems(d, 'f64', true), LE('f64'))).toEqual([
      Math.fround(Math.PI),
      Math.fround(-1e-3),
      Infinity,
    ]);
    expect(decode(encodeElems(d, 'f64', false), BE('f64'))[0]).toBe(Math.fround(Math.PI));
  });

  it('decodes every finite positive f16 bit pattern to its IEEE value (every 97th)', () => {
    // Formula of binary16: subnormal m·2^-24, normal 2^(e-15)·(1 + m/1024).
    const bits: number[] = [];
    const want: number[] = [];
    for (let b = 0; b < 0x7c00; b += 97) {
      const e = b >> 10;
      const m = b & 0x3ff;
      bits.push(b);
      want.push(e === 0 ? m * 2 ** -24 : 2 ** (e - 15) * (1 + m / 1024));
    }
    const le = new Uint8Array(bits.flatMap((b) => [b & 0xff, b >> 8]));
    expect(decode(le, LE('f16'))).toEqual(want);
    expect(decode(encodeElems(want, 'f16'), LE('f16'))).toEqual(want);
  });

  it('scatters with a stride and accepts unaligned input', () => {
    const bytes = encodeElems([1, 2, 3], 'f32');
    const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
    unaligned.set(bytes);
    expect(() => decodeToF32(unaligned, LE('f32'), new Float32Array(7), 1, 3)).toThrow(RangeError);
    const out2 = new Float32Array(8);
    decodeToF32(unaligned, LE('f32'), out2, 1, 3);
    expect(Array.from(out2)).toEqual([0, 1, 0, 0, 2, 0, 0, 3]);
    const half = encodeElems([0.5, -4], 'f16');
    const h2 = new Uint8Array(half.length + 1).subarray(1);
    h2.set(half);
    expect(decode(h2, LE('f16'))).toEqual([0.5, -4]);
  });

  it('throws RangeError for a partial element or a short output', () => {
    expect(() => decodeToF32(new Uint8Array(3), LE('f32'), new Float32Array(1))).toThrow(RangeError);
    expect(() => decodeToF32(new Uint8Array(8), LE('f32'), new Float32Array(1))).toThrow(RangeError);
  });
});
