import { describe, expect, it } from 'vitest';
import { bytesSource } from './bytes';
import { inspectSource, missingChoices, resolveLayout } from './inspect';
import { rawDtypeFromName, rawLayout } from './raw';

describe('raw files', () => {
  it('takes the dtype from .f32/.f16/.bf16 and asks for it on .bin', async () => {
    expect(rawDtypeFromName('acts.F16')).toBe('f16');
    expect(rawDtypeFromName('acts.bf16')).toBe('bf16');
    expect(rawDtypeFromName('acts.bin')).toBeUndefined();
    const f16 = await inspectSource(bytesSource('a.f16', new Uint8Array(24)));
    expect(missingChoices(f16)).toEqual(['dModel']);
    const bin = await inspectSource(bytesSource('a.bin', new Uint8Array(24)));
    expect(missingChoices(bin)).toEqual(['dModel', 'dtype']);
    expect(() => resolveLayout(bin, { dModel: 3 })).toThrow(/"a.bin": is a raw .bin file: choose its dtype/);
    expect(resolveLayout(bin, { dModel: 3, dtype: 'bf16' })).toMatchObject({
      nTokens: 4,
      dModel: 3,
      dtype: 'bf16',
    });
    expect(resolveLayout(f16, { dModel: 6 })).toMatchObject({
      nTokens: 2,
      dModel: 6,
      shape: [2, 6],
      dataOffset: 0,
    });
  });

  it('refuses an empty file, a bad d_model and a size that is not a multiple of d_model × item size', async () => {
    await expect(inspectSource(bytesSource('e.f32', new Uint8Array(0)))).rejects.toThrow(
      /"e.f32": empty file/,
    );
    expect(() => rawLayout('e.f32', 0, { dModel: 4, dtype: 'f32' })).toThrow(/empty file/);
    expect(() => rawLayout('a.f32', 64, { dModel: 0, dtype: 'f32' })).toThrow(
      /"a.f32": d_model must be a positive integer, got 0/,
    );
    expect(() => rawLayout('a.f32', 64, { dModel: 2.5, dtype: 'f32' })).toThrow(/positive integer/);
    expect(() => rawLayout('a.bin', 64, { dModel: 4, dtype: 'i8' })).toThrow(/unsupported raw dtype "i8"/);
    expect(() => rawLayout('a.f32', 100, { dModel: 3, dtype: 'f32' })).toThrow(
      /"a.f32": size 100 bytes is not a multiple of d_model × item size = 3 × 4 = 12 bytes/,
    );
  });

  it('refuses an unrecognised file type', async () => {
    await expect(inspectSource(bytesSource('notes.txt', new TextEncoder().encode('hello')))).rejects.toThrow(
      /"notes.txt": unrecognised file type ".txt"/,
    );
  });
});
