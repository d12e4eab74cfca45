/**
 * The encoder's tiles (shaders/encoder.wgsl override constants WG_X, WG_Y, BK): the candidates the start-up autotune
 * (./encoder-tune.ts) tries, the limits check, and the per-adapter cache of its pick (in memory for this realm, and
 * in localStorage where there is one). createEncoder (./encoder.ts) uses {@link encoderTileFor}: the tuned tile when
 * this adapter has one, else the default 16×16 invocations × BK 16. No shader imports here (Node tests read it).
 */
import type { AdapterSummary, Gpu } from '../device';

/** One tile: workgroup WG_X × WG_Y invocations (each a 4 × 4 register block) and the d-slice BK. */
export interface EncoderTile {
  wgX: number;
  wgY: number;
  bk: number;
}

/** The tile used before (or without) a tune. */
export const DEFAULT_ENCODER_TILE: Readonly<EncoderTile> = { wgX: 16, wgY: 16, bk: 16 };

/** Tiles the autotune tries (those over the device's limits are skipped). */
export const ENCODER_TILE_CANDIDATES: readonly Readonly<EncoderTile>[] = [
  DEFAULT_ENCODER_TILE,
  { wgX: 16, wgY: 16, bk: 8 },
  { wgX: 16, wgY: 16, bk: 32 },
  { wgX: 8, wgY: 8, bk: 16 },
  { wgX: 32, wgY: 8, bk: 16 },
];

/** Register block per invocation (RM = RN = 4 in the shader). */
const REG = 4;

/** The tile `t` fits these limits: invocations, workgroup size X, and workgroup memory ((BM + BN)·BK floats). */
export function tileFits(t: EncoderTile, limits: AdapterSummary['limits']): boolean {
  const bytes = (t.wgY * REG + t.wgX * REG) * t.bk * 4;
  return (
    t.wgX * t.wgY <= limits.maxComputeInvocationsPerWorkgroup &&
    t.wgX <= limits.maxComputeWorkgroupSizeX &&
    bytes <= limits.maxComputeWorkgroupStorageSize
  );
}

/** The cache key of an adapter: its identity strings, fallback flag and the limits the tiles depend on. */
export function adapterKey(a: AdapterSummary): string {
  const l = a.limits;
  return [
    a.vendor,
    a.architecture,
    a.device,
    a.description,
    a.isFallbackAdapter ? 'fallback' : 'hw',
    l.maxComputeInvocationsPerWorkgroup,
    l.maxComputeWorkgroupStorageSize,
  ].join('|');
}

const memo = new Map<string, EncoderTile>();
const STORAGE_PREFIX = 'sae-lab:encoder-tile:';

/** True when this adapter key has a tile cached (memory or localStorage). */
export function hasTunedTile(key: string): boolean {
  return memo.has(key) || !!storage()?.getItem(STORAGE_PREFIX + key);
}

/** Cache `tile` as this adapter key's pick (memory, and localStorage where allowed). */
export function storeTunedTile(key: string, tile: EncoderTile): void {
  memo.set(key, { ...tile });
  try {
    storage()?.setItem(STORAGE_PREFIX + key, JSON.stringify(tile));
  } catch {
    // storage full or denied: the in-memory cache still holds it
  }
}

function storage(): Storage | null {
  try {
    return (globalThis as { localStorage?: Storage }).localStorage ?? null;
  } catch {
    return null;
  }
}

/** The tile createEncoder uses on `gpu`: this adapter's tuned tile if one is cached, else the default. */
export function encoderTileFor(gpu: Gpu): EncoderTile {
  const key = adapterKey(gpu.adapter);
  const hit = memo.get(key);
  if (hit) return hit;
  const stored = storage()?.getItem(STORAGE_PREFIX + key);
  if (stored) {
    try {
      const t = JSON.parse(stored) as EncoderTile;
      if (ENCODER_TILE_CANDIDATES.some((c) => c.wgX === t.wgX && c.wgY === t.wgY && c.bk === t.bk)) {
        if (tileFits(t, gpu.adapter.limits)) {
          memo.set(key, t);
          return t;
        }
      }
    } catch {
      // a malformed entry: ignore it (the next tune overwrites it)
    }
  }
  return { ...DEFAULT_ENCODER_TILE };
}

/** Forget every cached tile (tests). */
export function clearEncoderTileCache(): void {
  memo.clear();
}
