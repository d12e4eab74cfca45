/**
 * The encoder's tiles (override constants WG_X, WG_Y, BK; register block RM × RN; scalar or vec4 shader): the candidates the start-up autotune
 * (./encoder-tune.ts) tries, the limits check, and the per-adapter cache of its pick (in memory for this realm, and
 * in localStorage where there is one). createEncoder (./encoder.ts) uses {@link encoderTileFor}: the tuned tile when
 * this adapter has one, else {@link DEFAULT_ENCODER_TILE}. No shader imports here (Node tests read it).
 */
import type { AdapterSummary, Gpu } from '../device';

/**
 * One tile: workgroup WG_X × WG_Y invocations, each computing an RM × RN register block of outputs, and the
 * d-slice BK. vec4: use shaders/encoder-vec4.wgsl (vec4<f32> loads and stores; RN and BK multiples of 4) when the
 * shape allows it (d_model and d_sae multiples of 4), else the scalar shader with the same tile.
 */
export interface EncoderTile {
  wgX: number;
  wgY: number;
  bk: number;
  /** Rows per invocation (4 or 8; default 4). */
  rm?: number;
  /** Latents per invocation (4 or 8; default 4). */
  rn?: number;
  /** vec4 loads (default false). */
  vec4?: boolean;
}

/**
 * The tile used before (or without) a tune: vec4, 8 × 8 invocations × 8 × 8 outputs each, BK 16. On SwiftShader
 * (`npm run bench -- gemm`, one run) it was 2–4× faster than the scalar 16 × 16 × (4 × 4) tile, the earlier default.
 */
export const DEFAULT_ENCODER_TILE: Readonly<EncoderTile> = {
  wgX: 8,
  wgY: 8,
  bk: 16,
  rm: 8,
  rn: 8,
  vec4: true,
};

/** The vec4 tiles the autotune tries: 4×4 up to 8×8 outputs per invocation (shaders/encoder-vec4.wgsl). */
export const ENCODER_VEC4_CANDIDATES: readonly Readonly<EncoderTile>[] = [
  DEFAULT_ENCODER_TILE,
  { wgX: 16, wgY: 16, bk: 16, rm: 4, rn: 4, vec4: true },
  { wgX: 16, wgY: 16, bk: 8, rm: 8, rn: 8, vec4: true },
  { wgX: 16, wgY: 8, bk: 16, rm: 8, rn: 4, vec4: true },
  { wgX: 8, wgY: 16, bk: 16, rm: 4, rn: 8, vec4: true },
];

/**
 * Tiles the autotune tries, in order (those over the device's limits are skipped): the vec4 tiles (the default
 * first), then the scalar shader's 4 × 4 tiles (16 × 16 / 16 was the default before the vec4 shader).
 */
export const ENCODER_TILE_CANDIDATES: readonly Readonly<EncoderTile>[] = [
  ...ENCODER_VEC4_CANDIDATES,
  { wgX: 16, wgY: 16, bk: 16 },
  { wgX: 16, wgY: 16, bk: 8 },
  { wgX: 16, wgY: 16, bk: 32 },
  { wgX: 8, wgY: 8, bk: 16 },
  { wgX: 32, wgY: 8, bk: 16 },
];

/** The tile's register block, rows × latents per invocation (defaults 4 × 4). */
export function tileRegs(t: EncoderTile): { rm: number; rn: number } {
  return { rm: t.rm ?? 4, rn: t.rn ?? 4 };
}

/** A short name of a tile, "WG_XxWG_Y/BK" plus " RMxRN" when not 4×4 and " vec4" (autotune reports, tests). */
export function tileName(t: EncoderTile): string {
  const { rm, rn } = tileRegs(t);
  return `${t.wgX}x${t.wgY}/${t.bk}${rm !== 4 || rn !== 4 ? ` ${rm}x${rn}` : ''}${t.vec4 ? ' vec4' : ''}`;
}

/** True when two tiles are the same (missing fields read as their defaults). */
export function sameTile(a: EncoderTile, b: EncoderTile): boolean {
  return tileName(a) === tileName(b);
}

/** The tile `t` fits these limits: invocations, workgroup size X, and workgroup memory ((BM + BN)·BK floats). */
export function tileFits(t: EncoderTile, limits: AdapterSummary['limits']): boolean {
  const { rm, rn } = tileRegs(t);
  const bytes = (t.wgY * rm + t.wgX * rn) * t.bk * 4;
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
      if (ENCODER_TILE_CANDIDATES.some((c) => sameTile(c, t))) {
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
