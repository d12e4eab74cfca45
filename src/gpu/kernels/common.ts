/**
 * Helpers shared by the kernel host wrappers: shape validation that names the limit hit, buffer-size checks,
 * and 2-D dispatch grids for 1-D work (so more than 65,535 workgroups fit; shaders linearise
 * `workgroup_id.y · num_workgroups.x + workgroup_id.x`).
 */
import { type Gpu, GpuError, type ShaderSource } from '../device';

/** @throws GpuError naming `kernel` and `name` when `v` is not a positive integer. */
export function positiveInt(kernel: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    throw new GpuError(`${kernel}: ${name} must be a positive integer, got ${v}`);
}

/**
 * @throws GpuError when a buffer of `elems` 4-byte elements would exceed the device's
 *   maxStorageBufferBindingSize (the message names the tensor, its size and the limit).
 */
export function fitsBinding(gpu: Gpu, kernel: string, what: string, elems: number): void {
  const bytes = elems * 4;
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  if (bytes > limit)
    throw new GpuError(
      `${kernel}: ${what} needs ${bytes} bytes, over this device's maxStorageBufferBindingSize (${limit})`,
    );
}

/** @throws GpuError when `buf` holds fewer than `elems` 4-byte elements. */
export function needBuffer(kernel: string, what: string, buf: GPUBuffer, elems: number): void {
  if (buf.size < elems * 4)
    throw new GpuError(`${kernel}: ${what} buffer "${buf.label}" has ${buf.size} bytes, needs ${elems * 4}`);
}

/**
 * {@link needBuffer} over a list of [what, buffer, f32/u32 elements] (a wrapper's bindings of one dispatch).
 * @throws GpuError naming the kernel and the first buffer that is too small.
 */
export function needBuffers(kernel: string, items: readonly (readonly [string, GPUBuffer, number])[]): void {
  for (const [what, buf, n] of items) needBuffer(kernel, what, buf, n);
}

/**
 * Storage buffers of a one-shot test call, labelled `<label>:<name>`: a typed array is uploaded, a number is the
 * size of a zeroed buffer in 4-byte elements. The caller destroys them (pass `Object.values(...)` to {@link oneShot}).
 */
export function storageSet<K extends string>(
  gpu: Gpu,
  label: string,
  items: Record<K, Float32Array | Uint32Array | number>,
): Record<K, GPUBuffer> {
  const out = {} as Record<K, GPUBuffer>;
  for (const name of Object.keys(items) as K[]) {
    const v = items[name];
    out[name] = gpu.storage(`${label}:${name}`, typeof v === 'number' ? v * 4 : v);
  }
  return out;
}

/**
 * A [x, y] grid of at least `workgroups` workgroups with x ≤ maxComputeWorkgroupsPerDimension.
 * @throws GpuError when even a square grid would not fit.
 */
export function grid1d(gpu: Gpu, kernel: string, workgroups: number): [number, number] {
  const max = gpu.device.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups <= max) return [Math.max(workgroups, 1), 1];
  const y = Math.ceil(workgroups / max);
  if (y > max)
    throw new GpuError(
      `${kernel}: ${workgroups} workgroups exceed ${max}² (maxComputeWorkgroupsPerDimension²)`,
    );
  return [Math.ceil(workgroups / y), y];
}

/** The smallest power of two ≥ n (n ≥ 1). */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

const bitsView = new DataView(new ArrayBuffer(4));

/** The u32 bit pattern of a float32 (for uniform structs mixing u32 and f32 fields). */
export function f32Bits(v: number): number {
  bitsView.setFloat32(0, v, true);
  return bitsView.getUint32(0, true);
}

/** Workgroup size for 1-D kernels: 256, clamped to the device's maxComputeInvocationsPerWorkgroup. */
export function wgSize(gpu: Gpu, preferred = 256): number {
  const max = Math.min(
    gpu.device.limits.maxComputeInvocationsPerWorkgroup,
    gpu.device.limits.maxComputeWorkgroupSizeX,
  );
  let w = 1;
  while (w * 2 <= Math.min(preferred, max)) w *= 2;
  return w;
}

/** Upload, run `record` in one pass, read back named f32/u32 outputs, and free every buffer (tests, self-checks). */
export async function oneShot<T>(
  gpu: Gpu,
  label: string,
  buffers: GPUBuffer[],
  record: (pass: GPUComputePassEncoder) => void,
  read: () => Promise<T>,
  cleanup: () => void = () => {},
): Promise<T> {
  try {
    await gpu.run(label, record);
    return await read();
  } finally {
    cleanup();
    for (const b of buffers) b.destroy();
  }
}

const shaderVariants = new Map<string, ShaderSource>();

/**
 * `shader` with some of its `const NAME: u32 = <n>u;` declarations rewritten (for constants that size arrays,
 * which WGSL `override`s cannot). The result is memoised per (name, values) and named `<name>[NAME=v,…]`, so
 * the pipeline cache keeps one module per variant.
 * @throws GpuError when a constant is not declared that way in the shader, or a value is not a positive integer.
 */
export function withConsts(shader: ShaderSource, consts: Record<string, number>): ShaderSource {
  const names = Object.keys(consts).sort();
  if (names.length === 0) return shader;
  const name = `${shader.name}[${names.map((n) => `${n}=${consts[n]}`).join(',')}]`;
  const key = `${name}#${shader.code.length}`;
  const hit = shaderVariants.get(key);
  if (hit) return hit;
  let code = shader.code;
  for (const n of names) {
    const v = consts[n];
    positiveInt(shader.name, n, v);
    const re = new RegExp(`^const ${n}: u32 = \\d+u;`, 'm');
    if (!re.test(code)) throw new GpuError(`${shader.name}: no "const ${n}: u32 = …u;" line to rewrite`);
    code = code.replace(re, `const ${n}: u32 = ${v}u;`);
  }
  const out = { name, code };
  shaderVariants.set(key, out);
  return out;
}
