import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deflateSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../sae/arch';
import { DEFAULT_CONFIG, LIMITS, type TrainConfig } from '../train/config';
import type { DatasetRef } from './dataset-ref';
import { decodeShareFragment, encodeShareFragment, MAX_LINK_CHARS, ShareLinkError, shareUrl } from './share';
import { APP_VERSION } from './version';

const FILE_REF: DatasetRef = {
  kind: 'file',
  name: 'acts.layer6.npy',
  nTokens: 81790,
  dModel: 64,
  dtype: 'f32',
  fingerprint: 'ab'.repeat(32),
};

/** A config with every number at an awkward full-precision value: the longest a link carries. */
function longestConfig(architecture: TrainConfig['architecture']): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    architecture,
    dSae: LIMITS.maxDSae - 1,
    expansionFactor: 1023.123456789012,
    k: 255,
    batchSize: LIMITS.maxBatchSize - 1,
    steps: LIMITS.maxSteps - 1,
    lr: 0.000123456789012345,
    warmupSteps: 1_234_567,
    decay: 'linear',
    decayFraction: 0.123456789012345,
    beta1: 0.912345678901234,
    beta2: 0.998765432109876,
    eps: 1.23456789012345e-9,
    seed: 2 ** 32 - 1,
    deadWindowTokens: Number.MAX_SAFE_INTEGER,
    evalInterval: 9_999_999,
    evalTokens: (1 << 24) - 1,
    heldOutFraction: 0.123456789012345,
    normalize: false,
    checkpointIntervalSec: 86_399.123456789,
    l0Coefficient: 0.312345678901234,
    l1Coefficient: 1.23456789012345,
    sparsityWarmupSteps: 9_876_543,
    bandwidth: 0.0123456789012345,
    thresholdInit: 0.00123456789012345,
    thresholdLrScale: 31.2345678901234,
    thresholdEmaRate: 0.0512345678901234,
    auxk: true,
    kAux: 255,
    auxkAlpha: 0.0312345678901234,
    auxkDeadWindowTokens: Number.MAX_SAFE_INTEGER - 1,
    matryoshkaWidths: [
      0.0123456789012345, 0.123456789012345, 0.234567890123456, 0.345678901234567, 0.456789012345678,
      0.567890123456789, 0.678901234567891, 1,
    ],
  };
}

/** Build a fragment from raw JSON (to forge links the app would never write). */
function forge(json: unknown, format = 1): string {
  const bytes = deflateSync(strToU8(JSON.stringify(json)));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return `run=${format}.${btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

describe('share links', () => {
  it('round-trips the config and dataset of every architecture (default and longest configs), under 2,000 characters', () => {
    let longest = 0;
    for (const architecture of ARCHITECTURES) {
      for (const config of [{ ...DEFAULT_CONFIG, architecture, seed: 7 }, longestConfig(architecture)]) {
        for (const dataset of [FILE_REF, { kind: 'demo', id: 'demo-stories260K-resid_post-2' } as const]) {
          const url = shareUrl('http://127.0.0.1:4317/#old', { config, dataset });
          expect(url.startsWith('http://127.0.0.1:4317/#run=1.')).toBe(true);
          longest = Math.max(longest, url.length);
          const back = decodeShareFragment(new URL(url).hash);
          expect(back.config).toEqual(config);
          expect(back.dataset).toEqual(dataset);
          expect(back.appVersion).toBe(APP_VERSION);
        }
      }
    }
    // Printed for the notes: the longest link this test builds.
    console.log(`[share] longest link: ${longest} characters`);
    expect(longest).toBeLessThan(2000);
  });

  it('keeps APP_VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8'));
    expect(APP_VERSION).toBe(pkg.version);
  });

  it('refuses tampered, truncated, oversized and future-version links with a message', () => {
    const good = encodeShareFragment({ config: { ...DEFAULT_CONFIG }, dataset: FILE_REF });
    const payload = { v: 1, app: APP_VERSION, c: { ...DEFAULT_CONFIG }, d: FILE_REF };
    const cases: [string, string, RegExp][] = [
      ['bad base64', 'run=1.@@@!!', /base64url/],
      ['truncated', good.slice(0, good.length - 12), /damaged or truncated/],
      ['no data', 'run=1.', /truncated/],
      ['future version', good.replace('run=1.', 'run=2.'), /newer SAE Lab/],
      ['wrong inner version', forge({ ...payload, v: 3 }), /"v"/],
      ['out-of-range value', forge({ ...payload, c: { ...payload.c, k: 100000 } }), /"c\.k"/],
      ['extra field', forge({ ...payload, extra: 1 }), /invalid value/],
      ['extra config field', forge({ ...payload, c: { ...payload.c, evil: true } }), /"c\.evil"/],
      ['100 kB link', `run=1.${'A'.repeat(100_000)}`, /at most 4000/],
      [
        'script in a string field',
        forge({ ...payload, d: { ...FILE_REF, name: '<script>alert(1)</script>' } }),
        /"d\.name"/,
      ],
      [
        'script as architecture',
        forge({ ...payload, c: { ...payload.c, architecture: '<img onerror=x>' } }),
        /"c\.architecture"/,
      ],
      ['cross-field rule', forge({ ...payload, c: { ...payload.c, dSae: 8, k: 32 } }), /k:/],
      ['not a link', 'foo=bar', /does not start with run=/],
      ['zip bomb', forge({ ...payload, pad: 'x'.repeat(200_000) }), /expands beyond/],
    ];
    for (const [what, frag, re] of cases) {
      let err: unknown = null;
      try {
        decodeShareFragment(frag);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(ShareLinkError);
      expect((err as Error).message, what).toMatch(re);
    }
    expect(MAX_LINK_CHARS).toBeLessThan(100_000);
  });
});
