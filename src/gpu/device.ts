/**
 * The one module that owns the WebGPU device.
 *
 * Everything GPU-side goes through a {@link Gpu}: it requests the adapter and device, is the only place
 * that listens to `device.lost` and `uncapturederror`, labels every object it creates, caches compute
 * pipelines, and owns the single readback path (staging buffer destroyed in `finally`).
 *
 * Works the same on the main thread and inside a dedicated/module Web Worker (`navigator.gpu` exists in
 * both). Imports no React.
 */

/** Thrown when WebGPU is missing, no adapter is found, or the device cannot be created. */
export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

/** Thrown (or reported through {@link Gpu.onError}) when the GPU reports a validation/OOM/internal error. */
export class GpuError extends Error {
  override name = 'GpuError';
}

/** A plain, cloneable summary of the adapter a {@link Gpu} runs on (safe to send across postMessage). */
export interface AdapterSummary {
  /** `GPUAdapterInfo.vendor`, e.g. "google" for SwiftShader, "nvidia". */
  vendor: string;
  /** `GPUAdapterInfo.architecture`, e.g. "swiftshader", "hopper". */
  architecture: string;
  /** `GPUAdapterInfo.device` (often empty in browsers). */
  device: string;
  /** `GPUAdapterInfo.description` (often empty in browsers). */
  description: string;
  /** True on a software/fallback adapter such as SwiftShader. */
  isFallbackAdapter: boolean;
  /** Adapter features, sorted. */
  features: string[];
  /**
   * `GPUAdapterInfo.subgroupMinSize` / `subgroupMaxSize` (invocations per subgroup; every subgroup kernel variant
   * must be right for any size in this range), when the adapter reports them.
   */
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  /** True when the device was created with the `subgroups` feature (src/gpu/kernels/subgroups.ts uses it). */
  subgroups?: boolean;
  /** The limits that matter for our kernels, as granted on the device. */
  limits: {
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupSizeX: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeWorkgroupsPerDimension: number;
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxStorageBuffersPerShaderStage: number;
  };
}

/** Options for {@link Gpu.create}. */
export interface GpuOptions {
  /** Passed to `requestAdapter`. Default "high-performance". */
  powerPreference?: GPUPowerPreference;
  /** Allow a fallback (software) adapter when no hardware adapter exists. Default true. */
  allowFallback?: boolean;
  /** A label prefix for the device. Default "sae-lab". */
  label?: string;
  /** Request the `subgroups` feature when the adapter has it. Default true. */
  subgroups?: boolean;
}

/** One WGSL shader source, imported from `shaders/*.wgsl` as text. */
export interface ShaderSource {
  /** A short name, used as the label of the shader module, e.g. "matmul". */
  name: string;
  /** WGSL source text. */
  code: string;
}

/** How a binding is declared in a compute shader; the host builds an explicit bind group layout from it. */
export type BindingKind = 'uniform' | 'storage' | 'read-only-storage';

/** A compute pipeline with its explicit bind group layout (group 0). */
export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  bindings: readonly BindingKind[];
  label: string;
}

type ErrorListener = (err: GpuError) => void;
type LostListener = (info: { reason: string; message: string }) => void;

/** Round `n` up to a multiple of `m`. */
export function alignTo(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Summarise an adapter + device into a cloneable {@link AdapterSummary}. */
export function summariseAdapter(adapter: GPUAdapter, device: GPUDevice): AdapterSummary {
  const info = adapter.info;
  const l = device.limits;
  const sg = info as unknown as { subgroupMinSize?: number; subgroupMaxSize?: number } | undefined;
  return {
    ...(sg?.subgroupMinSize
      ? { subgroupMinSize: sg.subgroupMinSize, subgroupMaxSize: sg.subgroupMaxSize }
      : {}),
    subgroups: Boolean(device.features?.has('subgroups')),
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    // `isFallbackAdapter` moved from the adapter to the info object; read both.
    isFallbackAdapter: Boolean(
      (info as unknown as { isFallbackAdapter?: boolean })?.isFallbackAdapter ??
        (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    ),
    features: [...adapter.features].sort(),
    limits: {
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  };
}

/** A one-line human description of an adapter, e.g. "google swiftshader (fallback)". */
export function describeAdapter(a: AdapterSummary): string {
  const name =
    [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unknown adapter';
  return a.isFallbackAdapter ? `${name} (fallback)` : name;
}

/** Most bind groups {@link Gpu.bindGroup} keeps (a training step binds a few dozen; sweeps multiply that). */
export const BIND_GROUP_CACHE_MAX = 4096;

/**
 * Owner of one GPUDevice. Create with {@link Gpu.create}; one per thread that computes (the trainer worker).
 */
export class Gpu {
  readonly device: GPUDevice;
  readonly adapter: AdapterSummary;
  /** Set once the device is lost; every later call fails fast with this reason. */
  lostReason: string | null = null;
  private readonly errorListeners = new Set<ErrorListener>();
  private readonly lostListeners = new Set<LostListener>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  /** Bind groups by layout + buffer identities (see {@link bindGroup}); Map order = least recently used first. */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private bindGroupsMade = 0;
  private readonly labelPrefix: string;

  private constructor(device: GPUDevice, adapter: AdapterSummary, labelPrefix: string) {
    this.device = device;
    this.adapter = adapter;
    this.labelPrefix = labelPrefix;
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      const err = new GpuError(`${e.constructor?.name ?? 'GPUError'}: ${e.message}`);
      if (this.errorListeners.size === 0) console.error('[sae-lab gpu]', err.message);
      for (const l of this.errorListeners) l(err);
    });
    void device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
      for (const l of this.lostListeners) l({ reason: String(info.reason), message: info.message });
    });
  }

  /**
   * Request an adapter and a device with the adapter's maximum buffer limits.
   * @throws WebGpuUnavailableError when `navigator.gpu` is missing, no adapter is returned, or
   *   `requestDevice` fails. The message says what to do in Chrome.
   */
  static async create(opts: GpuOptions = {}): Promise<Gpu> {
    const nav = (globalThis as { navigator?: Navigator }).navigator;
    if (!nav?.gpu) {
      throw new WebGpuUnavailableError(
        'WebGPU is not available in this browser context (navigator.gpu is missing). Use a recent Chrome or Edge ' +
          'over https or http://localhost; on Linux start Chrome with --enable-unsafe-webgpu.',
      );
    }
    let adapter = await nav.gpu.requestAdapter({
      powerPreference: opts.powerPreference ?? 'high-performance',
    });
    if (!adapter && opts.allowFallback !== false) {
      adapter = await nav.gpu.requestAdapter({ forceFallbackAdapter: true });
    }
    if (!adapter) {
      throw new WebGpuUnavailableError(
        'No WebGPU adapter was found. Check chrome://gpu; on Linux start Chrome with --enable-unsafe-webgpu ' +
          '(and --enable-features=Vulkan), or update your GPU driver.',
      );
    }
    const a = adapter.limits;
    const requiredLimits: Record<string, number> = {
      maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
      maxBufferSize: a.maxBufferSize,
      maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
    };
    const label = opts.label ?? 'sae-lab';
    // Subgroups (issue 17): requested when the adapter has the feature and WGSL has the subgroup_id builtins the
    // subgroup kernel variants use (src/gpu/kernels/subgroups.ts); nothing else changes when it is missing.
    const subgroups =
      opts.subgroups !== false &&
      adapter.features.has('subgroups') &&
      Boolean(nav.gpu.wgslLanguageFeatures?.has('subgroup_id'));
    const requiredFeatures: GPUFeatureName[] = subgroups ? ['subgroups' as GPUFeatureName] : [];
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ label: `${label}:device`, requiredLimits, requiredFeatures });
    } catch (e) {
      throw new WebGpuUnavailableError(
        `The WebGPU adapter refused to create a device: ${(e as Error).message}`,
      );
    }
    return new Gpu(device, summariseAdapter(adapter, device), label);
  }

  /** Subscribe to uncaptured GPU errors. Returns an unsubscribe function. */
  onError(listener: ErrorListener): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Subscribe to device loss. Returns an unsubscribe function. */
  onLost(listener: LostListener): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Label helper: every GPU object is named `<prefix>:<label>`. */
  label(name: string): string {
    return `${this.labelPrefix}:${name}`;
  }

  private assertAlive(): void {
    if (this.lostReason) throw new GpuError(`The GPU device was lost (${this.lostReason}).`);
  }

  /**
   * Create a labelled buffer. The size is rounded up to 16 bytes (WebGPU needs 4; 16 keeps vec4 access safe).
   * @param data optional initial contents, written with `mappedAtCreation`.
   * @throws GpuError if the device is lost or the size exceeds `maxBufferSize`.
   */
  createBuffer(
    label: string,
    byteSize: number,
    usage: GPUBufferUsageFlags,
    data?: ArrayBufferView,
  ): GPUBuffer {
    this.assertAlive();
    const size = Math.max(16, alignTo(byteSize, 16));
    if (size > this.device.limits.maxBufferSize) {
      throw new GpuError(
        `Buffer "${label}" needs ${size} bytes, over this device's maxBufferSize (${this.device.limits.maxBufferSize}).`,
      );
    }
    const buffer = this.device.createBuffer({
      label: this.label(label),
      size,
      usage,
      mappedAtCreation: data !== undefined,
    });
    if (data !== undefined) {
      new Uint8Array(buffer.getMappedRange()).set(
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      );
      buffer.unmap();
    }
    return buffer;
  }

  /**
   * A storage buffer (STORAGE | COPY_SRC | COPY_DST), optionally filled from `data`.
   * Size in bytes; `data` may be any typed array (f32, u32, i32).
   */
  storage(label: string, byteSizeOrData: number | ArrayBufferView): GPUBuffer {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    return typeof byteSizeOrData === 'number'
      ? this.createBuffer(label, byteSizeOrData, usage)
      : this.createBuffer(label, byteSizeOrData.byteLength, usage, byteSizeOrData);
  }

  /** A uniform buffer (UNIFORM | COPY_DST) holding `data`. */
  uniform(label: string, data: ArrayBufferView): GPUBuffer {
    return this.createBuffer(label, data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, data);
  }

  /** Write `data` into `buffer` at byte `offset` (queue.writeBuffer). */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
    this.assertAlive();
    this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /**
   * Read `byteLength` bytes of `buffer` from `offset` back to the CPU through a staging buffer that is
   * destroyed in `finally`, whatever happens. `buffer` needs COPY_SRC usage.
   * @throws GpuError if the device is lost or the map fails.
   */
  async read(buffer: GPUBuffer, byteLength = buffer.size, offset = 0): Promise<ArrayBuffer> {
    this.assertAlive();
    const size = alignTo(byteLength, 4);
    const staging = this.device.createBuffer({
      label: this.label(`readback(${buffer.label})`),
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const enc = this.device.createCommandEncoder({ label: this.label('readback') });
      enc.copyBufferToBuffer(buffer, offset, staging, 0, size);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange().slice(0, byteLength);
    } catch (e) {
      throw new GpuError(`Readback of "${buffer.label}" failed: ${(e as Error).message}`);
    } finally {
      staging.destroy();
    }
  }

  /** Read a buffer as Float32Array of `length` elements. */
  async readF32(buffer: GPUBuffer, length: number, offsetElems = 0): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, length * 4, offsetElems * 4));
  }

  /** Read a buffer as Uint32Array of `length` elements. */
  async readU32(buffer: GPUBuffer, length: number, offsetElems = 0): Promise<Uint32Array> {
    return new Uint32Array(await this.read(buffer, length * 4, offsetElems * 4));
  }

  /** Read a buffer as Int32Array of `length` elements. */
  async readI32(buffer: GPUBuffer, length: number, offsetElems = 0): Promise<Int32Array> {
    return new Int32Array(await this.read(buffer, length * 4, offsetElems * 4));
  }

  /** The explicit bind group layout for a list of binding kinds (cached). */
  bindGroupLayout(bindings: readonly BindingKind[]): GPUBindGroupLayout {
    const key = bindings.join(',');
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        label: this.label(`bgl(${key})`),
        entries: bindings.map((type, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type },
        })),
      });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  /**
   * A compute pipeline for `shader`'s `entryPoint`, with `override` constants, compiled once and cached.
   * Cache key: shader name + a hash of its code + entry point + sorted override constants + binding kinds.
   * The layout is explicit (binding i of group 0 has kind `bindings[i]`), never 'auto'.
   */
  pipeline(
    shader: ShaderSource,
    entryPoint: string,
    bindings: readonly BindingKind[],
    constants: Record<string, number> = {},
  ): CachedPipeline {
    this.assertAlive();
    const constKey = Object.keys(constants)
      .sort()
      .map((k) => `${k}=${constants[k]}`)
      .join(',');
    const key = `${shader.name}#${hashString(shader.code)}:${entryPoint}{${constKey}}[${bindings.join(',')}]`;
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const modKey = `${shader.name}#${hashString(shader.code)}`;
    let module = this.modules.get(modKey);
    if (!module) {
      module = this.device.createShaderModule({
        label: this.label(`shader(${shader.name})`),
        code: shader.code,
      });
      this.modules.set(modKey, module);
    }
    const layout = this.bindGroupLayout(bindings);
    const label = this.label(`pipeline(${shader.name}.${entryPoint}{${constKey}})`);
    const pipeline = this.device.createComputePipeline({
      label,
      layout: this.device.createPipelineLayout({ label: `${label}:layout`, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint, constants },
    });
    const cached: CachedPipeline = { pipeline, layout, bindings, label };
    this.pipelines.set(key, cached);
    return cached;
  }

  /** Number of cached pipelines (for tests of the cache). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Bind `buffers` (in binding order, whole buffers) to a pipeline's layout. Cached: the same layout with the same
   * buffer objects returns the same GPUBindGroup (so a step's dispatches create none after the first step), up to
   * {@link BIND_GROUP_CACHE_MAX} groups, least recently used dropped first. A buffer's identity is the object, so
   * a destroyed buffer's groups are never returned again (a new buffer is a new key); they age out.
   * @throws GpuError if the count does not match the pipeline's bindings.
   */
  bindGroup(p: CachedPipeline, buffers: readonly GPUBuffer[], label = p.label): GPUBindGroup {
    if (buffers.length !== p.bindings.length) {
      throw new GpuError(`${p.label} expects ${p.bindings.length} bindings, got ${buffers.length}.`);
    }
    const ids = buffers.map((b) => {
      let id = this.bufferIds.get(b);
      if (id === undefined) {
        id = this.nextBufferId++;
        this.bufferIds.set(b, id);
      }
      return id;
    });
    const key = `${p.bindings.join(',')}|${ids.join(',')}`;
    const hit = this.bindGroups.get(key);
    if (hit) {
      this.bindGroups.delete(key);
      this.bindGroups.set(key, hit);
      return hit;
    }
    const group = this.device.createBindGroup({
      label: `${label}:bg`,
      layout: p.layout,
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    this.bindGroupsMade++;
    this.bindGroups.set(key, group);
    if (this.bindGroups.size > BIND_GROUP_CACHE_MAX) {
      this.bindGroups.delete(this.bindGroups.keys().next().value as string);
    }
    return group;
  }

  /** Bind groups created so far (cache misses of {@link bindGroup}; for tests and the bench). */
  get bindGroupsCreated(): number {
    return this.bindGroupsMade;
  }

  /**
   * Record one dispatch of `p` with `buffers` into `pass` (a compute pass of an encoder the caller owns).
   * @param workgroups [x, y, z] workgroup counts, each checked against maxComputeWorkgroupsPerDimension.
   * @throws GpuError when a workgroup count exceeds the device limit.
   */
  dispatch(
    pass: GPUComputePassEncoder,
    p: CachedPipeline,
    buffers: readonly GPUBuffer[],
    workgroups: readonly [number, number?, number?],
  ): void {
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    const [x, y = 1, z = 1] = workgroups;
    for (const n of [x, y, z]) {
      if (n > max)
        throw new GpuError(`${p.label}: ${n} workgroups in one dimension exceeds the limit ${max}.`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, this.bindGroup(p, buffers));
    pass.dispatchWorkgroups(x, y, z);
  }

  /**
   * Convenience: encode `record` into one compute pass, submit it, and wait for the queue to finish.
   * Pushes a validation error scope, so a malformed dispatch rejects here instead of surfacing later.
   * @throws GpuError on a validation error inside `record`.
   */
  async run(label: string, record: (pass: GPUComputePassEncoder) => void): Promise<void> {
    this.assertAlive();
    this.device.pushErrorScope('validation');
    const enc = this.device.createCommandEncoder({ label: this.label(label) });
    const pass = enc.beginComputePass({ label: this.label(`${label}:pass`) });
    record(pass);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    const err = await this.device.popErrorScope();
    if (err) throw new GpuError(`${label}: ${err.message}`);
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Destroy the device. The Gpu is unusable afterwards. */
  destroy(): void {
    this.device.destroy();
  }
}

/** FNV-1a 32-bit hash of a string, hex; used in pipeline cache keys. */
export function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
