/**
 * Start-up autotune of the encoder's tile (./encoder-tiles.ts): time each candidate tile that fits the device's
 * limits on a short probe, keep the fastest, and cache it per adapter key so later starts skip the probe.
 * The tile never changes the results: every pre-activation still sums its products in increasing d (see the
 * shader's header), and every candidate keeps the encoder's GPU-vs-CPU test at odd shapes (e2e/kernels.spec.ts).
 */
import type { Gpu } from '../device';
import { createEncoder, type EncoderVariant } from './encoder';
import {
  adapterKey,
  DEFAULT_ENCODER_TILE,
  ENCODER_TILE_CANDIDATES,
  type EncoderTile,
  encoderTileFor,
  hasTunedTile,
  storeTunedTile,
  tileFits,
  tileName,
} from './encoder-tiles';

/** What {@link autotuneEncoderTile} found. */
export interface EncoderTuneResult {
  adapterKey: string;
  tile: EncoderTile;
  /** True when the tile came from the cache (no probe ran). */
  cached: boolean;
  /** Median ms of one encoder dispatch (submit + wait) per candidate tried, by tile name (tileName) → ms. */
  candidatesMs: Record<string, number>;
  /** Wall ms the tune took. */
  wallMs: number;
}

/** Options of {@link autotuneEncoderTile}. */
export interface EncoderTuneOptions {
  /** Probe shape (default 1,024 × 256 → 2,048 on a hardware adapter, 64 × 64 → 256 on a fallback one). */
  probe?: { rows: number; dModel: number; dSae: number };
  /** Timed dispatches per candidate after one warm-up (default 3). */
  reps?: number;
  /** Stop trying further candidates after this many ms (default 1,000). */
  budgetMs?: number;
  /** Ignore the cache and tune again. */
  force?: boolean;
  /** Encoder entry point to time (default the adapter's default variant). */
  variant?: EncoderVariant;
}

/**
 * Pick the fastest encoder tile for this adapter (cached per {@link adapterKey}); createEncoder uses it from then
 * on. The default tile is always timed first, so a budget cut never loses it.
 * @throws GpuError when a probe dispatch fails (the cache is left as it was)
 */
export async function autotuneEncoderTile(
  gpu: Gpu,
  opts: EncoderTuneOptions = {},
): Promise<EncoderTuneResult> {
  const key = adapterKey(gpu.adapter);
  const t0 = performance.now();
  if (!opts.force && hasTunedTile(key)) {
    return { adapterKey: key, tile: encoderTileFor(gpu), cached: true, candidatesMs: {}, wallMs: 0 };
  }
  const probe =
    opts.probe ??
    (gpu.adapter.isFallbackAdapter
      ? { rows: 64, dModel: 64, dSae: 256 }
      : { rows: 1024, dModel: 256, dSae: 2048 });
  const reps = opts.reps ?? 3;
  const budget = opts.budgetMs ?? 1000;
  const { rows: R, dModel: D, dSae: S } = probe;
  const bufs = {
    x: gpu.storage('tune:x', R * D * 4),
    wEnc: gpu.storage('tune:w_enc', D * S * 4),
    bEnc: gpu.storage('tune:b_enc', S * 4),
    bDec: gpu.storage('tune:b_dec', D * 4),
    pre: gpu.storage('tune:pre', R * S * 4),
  };
  const candidatesMs: Record<string, number> = {};
  let best: EncoderTile = { ...DEFAULT_ENCODER_TILE };
  let bestMs = Number.POSITIVE_INFINITY;
  try {
    for (const tile of ENCODER_TILE_CANDIDATES) {
      if (!tileFits(tile, gpu.adapter.limits)) continue;
      if (performance.now() - t0 > budget && bestMs < Number.POSITIVE_INFINITY) break;
      const enc = createEncoder(gpu, probe, 'tune:encoder', opts.variant, tile);
      try {
        const samples: number[] = [];
        for (let i = 0; i <= reps; i++) {
          const s = performance.now();
          await gpu.run('tune:encoder', (pass) => enc.encode(pass, bufs));
          if (i > 0) samples.push(performance.now() - s);
        }
        samples.sort((a, b) => a - b);
        const ms = samples[samples.length >> 1];
        candidatesMs[tileName(tile)] = Number(ms.toPrecision(4));
        if (ms < bestMs) {
          bestMs = ms;
          best = { ...tile };
        }
      } finally {
        enc.destroy();
      }
    }
  } finally {
    for (const b of Object.values(bufs)) b.destroy();
  }
  storeTunedTile(key, best);
  return { adapterKey: key, tile: best, cached: false, candidatesMs, wallMs: performance.now() - t0 };
}
