/**
 * The bench's `peer` suite in the browser (e2e/harness/bench.ts): TF.js webgpu (the same adapter as our WGSL
 * engine) and TF.js wasm running the shared peer step and matmul (e2e/harness/peer-bench.ts) at the step shapes, in
 * the same run and context as the other suites. The wasm backend's binaries come from node_modules through Vite
 * (`?url` assets of the build; no CDN). Loaded by a dynamic import, so TF.js stays out of the harness's main chunk.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { SaeShape } from '../../src/sae/types';
import { type PeerResult, tfjsSuite } from './peer-bench';

/**
 * TF.js on each backend at `shapes`, medians of `rounds` timed calls after a warm-up.
 * @returns per backend: its results, or the error that stopped it (the other backend still runs)
 */
export async function peerSuite(
  shapes: SaeShape[],
  rounds: number,
  backends: ('webgpu' | 'wasm')[] = ['webgpu', 'wasm'],
): Promise<Record<string, PeerResult[] | { error: string }>> {
  setWasmPaths({
    'tfjs-backend-wasm.wasm': new URL(wasmPlain, location.href).href,
    'tfjs-backend-wasm-simd.wasm': new URL(wasmSimd, location.href).href,
    'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreadedSimd, location.href).href,
  });
  const out: Record<string, PeerResult[] | { error: string }> = {};
  for (const backend of backends) {
    try {
      out[`tfjs_${backend}`] = await tfjsSuite(backend, shapes, rounds);
    } catch (e) {
      out[`tfjs_${backend}`] = { error: (e as Error).message };
    }
  }
  return out;
}
