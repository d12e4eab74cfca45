/**
 * The TF.js peer for `npm run bench:node` (bundled for Node by esbuild in scripts/bench-node.mjs, because TF.js's
 * CommonJS `main` lacks the gradients): the shared peer suite (e2e/harness/peer-bench.ts) on Node, TF.js-webgpu on
 * Dawn (./dawn-globals), the wasm backend's .wasm files read from node_modules (setWasmPaths), no CDN.
 */
import './dawn-globals';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { type PeerResult, tfjsSuite } from '../e2e/harness/peer-bench';
import type { SaeShape } from '../src/sae/types';

export type { PeerResult };

/**
 * Run the peer on `backend` at `shapes`. @param wasmDir absolute folder of the tfjs-backend-wasm .wasm files
 * @returns the results, or the error that stopped the backend
 */
export async function runPeer(
  backend: 'wasm' | 'webgpu',
  shapes: SaeShape[],
  rounds: number,
  wasmDir: string,
): Promise<PeerResult[] | { error: string }> {
  setWasmPaths(wasmDir.endsWith('/') ? wasmDir : `${wasmDir}/`);
  try {
    return await tfjsSuite(backend, shapes, rounds);
  } catch (e) {
    return { error: (e as Error).message };
  }
}
