/**
 * Side-effect module of the Node bench: installs the WebGPU globals of Dawn (the npm `webgpu` package) and
 * `navigator.gpu`, so that src/gpu/device.ts and TF.js's webgpu backend (which registers itself only when
 * `navigator.gpu` exists at import) see a WebGPU implementation. Import it before either.
 */
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
