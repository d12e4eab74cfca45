/**
 * Host wrappers of the language model's WGSL kernels (one per shader, each with a CPU twin in
 * src/lm/forward-cpu.ts): rmsnorm, rope, attention, swiglu, residual-add, log-softmax (+ per-token CE), kl.
 * Each `create…` builds a kernel of fixed shape (a uniform buffer of its sizes) that records one dispatch into a
 * compute pass; `destroy()` frees the uniform. Shapes use the legend of src/lm/forward-cpu.ts.
 */
import attentionWgsl from '../../../shaders/attention.wgsl?raw';
import klWgsl from '../../../shaders/kl.wgsl?raw';
import logSoftmaxWgsl from '../../../shaders/log-softmax.wgsl?raw';
import residualAddWgsl from '../../../shaders/residual-add.wgsl?raw';
import rmsnormWgsl from '../../../shaders/rmsnorm.wgsl?raw';
import ropeWgsl from '../../../shaders/rope.wgsl?raw';
import swigluWgsl from '../../../shaders/swiglu.wgsl?raw';
import { type Gpu, GpuError } from '../../gpu/device';

/** Invocations per workgroup of every kernel here (a power of two, within SwiftShader's 256). */
export const LM_WG = 64;
/** Largest head size the attention kernel takes (its per-invocation accumulator). */
export const MAX_HEAD_SIZE = 256;
/** Workgroups per grid row before wrapping to a second dimension (maxComputeWorkgroupsPerDimension ≥ 65535). */
const ROW = 65535;

/** A kernel of fixed shape. */
export interface LmKernel<B extends GPUBuffer[]> {
  /** Record the dispatch into `pass`. @throws GpuError when a buffer is too small. */
  encode(pass: GPUComputePassEncoder, ...bufs: B): void;
  destroy(): void;
}

/** Grid of n workgroups as [x, y] with x ≤ 65535. */
function grid(n: number): [number, number] {
  return n <= ROW ? [n, 1] : [ROW, Math.ceil(n / ROW)];
}

function checkDims(label: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1)
      throw new GpuError(`${label}: ${k} must be a positive integer, got ${v}`);
  }
}

function need(label: string, buf: GPUBuffer, elems: number, what: string): void {
  if (buf.size < elems * 4)
    throw new GpuError(`${label}: ${what} "${buf.label}" has ${buf.size} bytes, needs ${elems * 4}`);
}

/** RMSNorm of x [T, D] with gain g [D] into y [T, D] (shaders/rmsnorm.wgsl). */
export function createRmsnorm(
  gpu: Gpu,
  T: number,
  D: number,
  label = 'rmsnorm',
): LmKernel<[GPUBuffer, GPUBuffer, GPUBuffer]> {
  checkDims(label, { T, D });
  const pipe = gpu.pipeline(
    { name: 'rmsnorm', code: rmsnormWgsl },
    'rmsnorm',
    ['uniform', 'read-only-storage', 'read-only-storage', 'storage'],
    { WG: LM_WG },
  );
  const u = gpu.uniform(`${label}:params`, new Uint32Array([T, D, 0, 0]));
  return {
    encode(pass, x, g, y) {
      need(label, x, T * D, 'x');
      need(label, g, D, 'g');
      need(label, y, T * D, 'y');
      gpu.dispatch(pass, pipe, [u, x, g, y], grid(T));
    },
    destroy: () => u.destroy(),
  };
}

/**
 * RoPE in place on x [T, width] with heads of size hs, from tables cos/sin [seq_len, hs/2] (shaders/rope.wgsl;
 * tables from {@link ropeTables}).
 */
export function createRope(
  gpu: Gpu,
  T: number,
  width: number,
  hs: number,
  label = 'rope',
): LmKernel<[GPUBuffer, GPUBuffer, GPUBuffer]> {
  checkDims(label, { T, width, hs });
  if (hs % 2 !== 0 || width % hs !== 0)
    throw new GpuError(`${label}: width ${width} must be a multiple of an even hs ${hs}`);
  const pipe = gpu.pipeline(
    { name: 'rope', code: ropeWgsl },
    'rope',
    ['uniform', 'storage', 'read-only-storage', 'read-only-storage'],
    { WG: LM_WG },
  );
  const u = gpu.uniform(`${label}:params`, new Uint32Array([T, width, hs, 0]));
  return {
    encode(pass, x, cos, sin) {
      need(label, x, T * width, 'x');
      need(label, cos, (T * hs) / 2, 'cos table');
      need(label, sin, (T * hs) / 2, 'sin table');
      gpu.dispatch(pass, pipe, [u, x, cos, sin], grid(Math.ceil((T * width) / 2 / LM_WG)));
    },
    destroy: () => u.destroy(),
  };
}

/** cos and sin tables [seqLen, hs/2] of the RoPE angles p · 10000^(−2i/hs), computed in float64, stored as f32. */
export function ropeTables(seqLen: number, hs: number): { cos: Float32Array; sin: Float32Array } {
  const half = hs / 2;
  const cos = new Float32Array(seqLen * half);
  const sin = new Float32Array(seqLen * half);
  for (let p = 0; p < seqLen; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * (1 / 10000 ** ((2 * i) / hs));
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** Causal GQA attention q [T, Hq·hs], k, v [T, Hkv·hs] → out [T, Hq·hs] (shaders/attention.wgsl). */
export function createAttention(
  gpu: Gpu,
  T: number,
  nHeads: number,
  nKvHeads: number,
  hs: number,
  label = 'attention',
): LmKernel<[GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer]> {
  checkDims(label, { T, nHeads, nKvHeads, hs });
  if (nHeads % nKvHeads !== 0)
    throw new GpuError(`${label}: n_heads ${nHeads} is not a multiple of n_kv_heads ${nKvHeads}`);
  if (hs > MAX_HEAD_SIZE)
    throw new GpuError(`${label}: head size ${hs} exceeds the kernel's limit ${MAX_HEAD_SIZE}`);
  const pipe = gpu.pipeline(
    { name: 'attention', code: attentionWgsl },
    'attention',
    ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
    { WG: LM_WG },
  );
  const u = gpu.uniform(`${label}:params`, new Uint32Array([T, nHeads, nKvHeads, hs]));
  return {
    encode(pass, q, k, v, out) {
      need(label, q, T * nHeads * hs, 'q');
      need(label, k, T * nKvHeads * hs, 'k');
      need(label, v, T * nKvHeads * hs, 'v');
      need(label, out, T * nHeads * hs, 'out');
      gpu.dispatch(pass, pipe, [u, q, k, v, out], grid(Math.ceil((T * nHeads) / LM_WG)));
    },
    destroy: () => u.destroy(),
  };
}

/** y = silu(a) ⊙ b over n elements (shaders/swiglu.wgsl). */
export function createSwiglu(
  gpu: Gpu,
  n: number,
  label = 'swiglu',
): LmKernel<[GPUBuffer, GPUBuffer, GPUBuffer]> {
  checkDims(label, { n });
  const pipe = gpu.pipeline(
    { name: 'swiglu', code: swigluWgsl },
    'swiglu',
    ['uniform', 'read-only-storage', 'read-only-storage', 'storage'],
    { WG: LM_WG },
  );
  const u = gpu.uniform(`${label}:params`, new Uint32Array([n, 0, 0, 0]));
  return {
    encode(pass, a, b, y) {
      for (const [buf, w] of [
        [a, 'a'],
        [b, 'b'],
        [y, 'y'],
      ] as const)
        need(label, buf, n, w);
      gpu.dispatch(pass, pipe, [u, a, b, y], grid(Math.ceil(n / LM_WG)));
    },
    destroy: () => u.destroy(),
  };
}

/** x ← x + y over n elements (shaders/residual-add.wgsl). */
export function createResidualAdd(
  gpu: Gpu,
  n: number,
  label = 'residual-add',
): LmKernel<[GPUBuffer, GPUBuffer]> {
  checkDims(label, { n });
  const pipe = gpu.pipeline(
    { name: 'residual-add', code: residualAddWgsl },
    'residual_add',
    ['uniform', 'storage', 'read-only-storage'],
    { WG: LM_WG },
  );
  const u = gpu.uniform(`${label}:params`, new Uint32Array([n, 0, 0, 0]));
  return {
    encode(pass, x, y) {
      need(label, x, n, 'x');
      need(label, y, n, 'y');
      gpu.dispatch(pass, pipe, [u, x, y], grid(Math.ceil(n / LM_WG)));
    },
    destroy: () => u.destroy(),
  };
}

/**
 * Log-softmax in place on logits [T, V] and the next-token CE ce [T] against targets [T] (u32: token t+1; ce of the
 * last row is 0) (shaders/log-softmax.wgsl).
 */
export function createLogSoftmax(
  gpu: Gpu,
  T: number,
  V: number,
  label = 'log-softmax',
): LmKernel<[GPUBuffer, GPUBuffer, GPUBuffer]> {
  checkDims(label, { T, V });
  const pipe = gpu.pipeline(
    { name: 'log-softmax', code: logSoftmaxWgsl },
    'log_softmax',
    ['uniform', 'storage', 'read-only-storage', 'storage'],
    { WG: LM_WG },
  );
  const u = gpu.uniform(`${label}:params`, new Uint32Array([T, V, 0, 0]));
  return {
    encode(pass, logits, targets, ce) {
      need(label, logits, T * V, 'logits');
      need(label, targets, T, 'targets');
      need(label, ce, T, 'ce');
      gpu.dispatch(pass, pipe, [u, logits, targets, ce], grid(T));
    },
    destroy: () => u.destroy(),
  };
}

/** KL(P ‖ Q) per row of log-prob tables logp, logq [T, V] into out [T] (shaders/kl.wgsl). */
export function createKl(
  gpu: Gpu,
  T: number,
  V: number,
  label = 'kl',
): LmKernel<[GPUBuffer, GPUBuffer, GPUBuffer]> {
  checkDims(label, { T, V });
  const pipe = gpu.pipeline(
    { name: 'kl', code: klWgsl },
    'kl',
    ['uniform', 'read-only-storage', 'read-only-storage', 'storage'],
    { WG: LM_WG },
  );
  const u = gpu.uniform(`${label}:params`, new Uint32Array([T, V, 0, 0]));
  return {
    encode(pass, logp, logq, out) {
      need(label, logp, T * V, 'logp');
      need(label, logq, T * V, 'logq');
      need(label, out, T, 'out');
      gpu.dispatch(pass, pipe, [u, logp, logq, out], grid(T));
    },
    destroy: () => u.destroy(),
  };
}
