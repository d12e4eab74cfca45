/**
 * Which training engine runs in the lab worker: the WGSL engine (src/gpu/sae-engine.ts) on a real GPU adapter, the
 * fast CPU engine (src/cpu/sae-engine.ts, WebAssembly SIMD) on a software adapter or without WebGPU. Both implement
 * the same SaeEngine contract, so results, UI and checkpoints are the same either way.
 *
 * Decided once at start-up from a probe of at most {@link PROBE_TIMEOUT_MS}: the adapter request (and its info).
 * Software adapters are slower than the CPU engine by 10× or more on every shape we measured (issue 17's table:
 * SwiftShader 531 ms/step vs the wasm engine's ~25 ms at 64/512/8/1024), so they run the CPU engine. The user can
 * override with the URL parameter `?engine=gpu|cpu` or the control in the GPU details.
 */
import type { AdapterSummary } from '../gpu/device';

/** The two engines. */
export type EngineKind = 'gpu' | 'cpu';
/** The user's choice: an engine, or 'auto' (the probe decides). */
export type EngineOverride = EngineKind | 'auto';

/** Longest the start-up probe may take before the CPU engine is used. */
export const PROBE_TIMEOUT_MS = 1000;

/** The decision, shown in the GPU details. */
export interface EngineChoice {
  /** The engine that trains. */
  engine: EngineKind;
  /** False when the chosen engine cannot run (the GPU was forced but WebGPU is unavailable). */
  available: boolean;
  /** Why, in one sentence for the user. */
  reason: string;
  /** What the user asked for. */
  override: EngineOverride;
  /** The probe's adapter (null without one). */
  adapter: AdapterSummary | null;
  /** Milliseconds the probe took. */
  probeMs: number;
}

/** Label of each engine in the UI. */
export const ENGINE_LABEL: Readonly<Record<EngineKind, string>> = {
  gpu: 'GPU (WebGPU, WGSL kernels)',
  cpu: 'CPU (WebAssembly SIMD)',
};

/** Names of software WebGPU implementations, matched in the adapter's vendor / architecture / device / description. */
const SOFTWARE_ADAPTER = /swiftshader|lavapipe|llvmpipe|\bwarp\b|microsoft basic render/i;

/**
 * The name of the software implementation behind an adapter, or null for a hardware adapter:
 * `isFallbackAdapter`, or a known software rasteriser (SwiftShader, lavapipe / llvmpipe, WARP) in its info.
 */
export function softwareAdapterName(a: AdapterSummary): string | null {
  const text = [a.vendor, a.architecture, a.device, a.description].join(' ');
  const m = SOFTWARE_ADAPTER.exec(text);
  if (m) return m[0];
  return a.isFallbackAdapter ? 'a fallback adapter' : null;
}

/** The override named by a URL query string (`?engine=gpu|cpu|auto`); 'auto' when absent or unknown. */
export function engineOverrideFromSearch(search: string): EngineOverride {
  const v = new URLSearchParams(search).get('engine');
  return v === 'gpu' || v === 'cpu' ? v : 'auto';
}

/**
 * Decide the engine from the probe's result.
 * @param probe the adapter, or the error that stopped the probe (no WebGPU, no adapter, timeout)
 */
export function chooseEngine(
  probe: { adapter: AdapterSummary } | { error: string },
  override: EngineOverride,
  probeMs: number,
): EngineChoice {
  const adapter = 'adapter' in probe ? probe.adapter : null;
  const base = { override, adapter, probeMs };
  if (override === 'cpu') return { ...base, engine: 'cpu', available: true, reason: 'chosen by the user.' };
  if (!adapter) {
    const error = 'error' in probe ? probe.error : 'no adapter';
    if (override === 'gpu')
      return { ...base, engine: 'gpu', available: false, reason: `the GPU was requested, but ${error}` };
    return { ...base, engine: 'cpu', available: true, reason: `WebGPU is unavailable (${error}).` };
  }
  if (override === 'gpu') return { ...base, engine: 'gpu', available: true, reason: 'chosen by the user.' };
  const software = softwareAdapterName(adapter);
  if (software)
    return {
      ...base,
      engine: 'cpu',
      available: true,
      reason: `the WebGPU adapter is a software one (${software}), slower than the CPU engine.`,
    };
  return { ...base, engine: 'gpu', available: true, reason: 'a hardware WebGPU adapter was found.' };
}

/**
 * Run `probe` for at most `timeoutMs`; resolve to its adapter, or to the error (or timeout) that stopped it.
 */
export async function probeAdapter(
  probe: () => Promise<AdapterSummary>,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<{ adapter: AdapterSummary } | { error: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ error: string }>((resolve) => {
    timer = setTimeout(() => resolve({ error: `no WebGPU adapter within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([
      probe().then(
        (adapter) => ({ adapter }),
        (e: Error) => ({ error: e.message }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
