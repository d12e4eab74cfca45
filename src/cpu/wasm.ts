/**
 * The fast CPU engine's WebAssembly module (src/cpu/assembly/kernels.ts, compiled from AssemblyScript with SIMD at
 * build time by scripts/vite-asc.ts) and a bump allocator over its linear memory.
 *
 * Every array the kernels touch lives in the module's memory as a byte offset ("pointer"); {@link WasmArena.f32}
 * and {@link WasmArena.u32} give typed-array views of it. Views are re-made after each allocation because growing
 * a WebAssembly.Memory detaches the old ArrayBuffer (or, for a shared memory, leaves the old buffer at its old size).
 * With threads (src/cpu/threads.ts) the memory is shared and the kernels are split across a worker pool.
 */
import kernelsWasm, { shared as kernelsSharedWasm } from './assembly/kernels.ts?asc';
import { defaultCpuThreads, ThreadPool, threadedKernels } from './threads';

/** The kernels exported by the module (pointers are byte offsets; see src/cpu/assembly/kernels.ts for the math). */
export interface CpuKernels {
  /** C[M, N] = A[M, K]·B[K, N] + bias[N] (bias 0 = none). */
  matmul(a: number, b: number, bias: number, c: number, M: number, N: number, K: number): void;
  /** out[R, D] = x[R, D] − b_dec[D]. */
  centre(x: number, bDec: number, out: number, R: number, D: number): void;
  /** out[C, R] = in[R, C]ᵀ. */
  transpose(input: number, out: number, R: number, C: number): void;
  /** The part of transpose reading input rows [rStart, rEnd) (a thread's share). */
  transposeRows(input: number, out: number, R: number, C: number, rStart: number, rEnd: number): void;
  /** Row TopK of pre [R, S] into indices u32 [R, k], values f32 [R, k]; heap: 2·k u32 scratch. */
  topk(pre: number, R: number, S: number, k: number, idx: number, val: number, heap: number): void;
  /** x̂ [R, D] = Σ_j max(v, 0)·W_dec[i] + b_dec. */
  decode(
    idx: number,
    val: number,
    wDec: number,
    bDec: number,
    xHat: number,
    R: number,
    D: number,
    k: number,
  ): void;
  /** out = a − b over n floats. */
  sub(a: number, b: number, out: number, n: number): void;
  /** x ← x·a over n floats. */
  scale(x: number, a: number, n: number): void;
  /**
   * The sparse TopK backward over (row, slot) pairs, phase 1: gPre only (see the kernel's doc). The threaded
   * kernels split it across rows.
   */
  sparseGrad(
    diff: number,
    wDec: number,
    idx: number,
    val: number,
    gPre: number,
    R: number,
    D: number,
    k: number,
    scale: number,
  ): void;
  /**
   * The sparse backward, phase 2 (after phase 1): the scatter into columns [d0, d1) of ∂W_dec's accumulator and
   * ∂W_encᵀ; counts ≠ 0 also fire counts and ∂b_enc. The threaded kernels split [d0, d1) across threads.
   */
  sparseScatter(
    diff: number,
    xc: number,
    idx: number,
    val: number,
    gPre: number,
    fire: number,
    accDec: number,
    gWencT: number,
    gBenc: number,
    R: number,
    D: number,
    k: number,
    d0: number,
    d1: number,
    counts: number,
  ): void;
  /** One Adam step in place over n floats with the f32 coefficients of src/reference/adam.ts. */
  adam(
    p: number,
    m: number,
    v: number,
    g: number,
    n: number,
    lr: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    eps: number,
    bc1: number,
    bc2: number,
  ): void;
  /** Remove the component of each ∂W_dec row parallel to its W_dec row. */
  projectDecoderGrad(g: number, w: number, S: number, D: number): void;
  /** Rescale each W_dec row to unit norm. */
  normalizeRows(w: number, S: number, D: number): void;
}

const PAGE = 65536;
/** The module's own static data sits in the first page; the host allocates above it. */
const HEAP_BASE = PAGE;

/** The wasm32 maximum, the shared memory's declared maximum (scripts/vite-asc.mjs): 4 GiB, reserved only. */
const MAX_PAGES = 65536;

let modulePromise: Promise<WebAssembly.Module> | null = null;
let sharedModulePromise: Promise<WebAssembly.Module> | null = null;

/** Compile the kernel module once per realm. @throws when the runtime lacks WebAssembly SIMD. */
function kernelModule(): Promise<WebAssembly.Module> {
  modulePromise ??= WebAssembly.compile(kernelsWasm as Uint8Array<ArrayBuffer>);
  return modulePromise;
}

/** The same kernels for a shared memory (threads). @throws when the runtime lacks wasm SIMD or threads. */
function sharedKernelModule(): Promise<WebAssembly.Module> {
  sharedModulePromise ??= WebAssembly.compile(kernelsSharedWasm as Uint8Array<ArrayBuffer>);
  return sharedModulePromise;
}

/** Options of {@link WasmArena.create}. */
export interface WasmArenaOptions {
  /**
   * Threads for the dense kernels, the caller included (default {@link defaultCpuThreads}: the core count where
   * SharedArrayBuffer and Atomics.wait are allowed, else 1). 1 = one plain instance, no workers.
   */
  threads?: number;
}

/** A wasm instance with its own memory and a bump allocator (freed all at once by dropping the arena). */
export class WasmArena {
  readonly memory: WebAssembly.Memory;
  /** The kernels (split across the thread pool when there is one; same results either way). */
  readonly k: CpuKernels;
  /** Threads the kernels run on, the caller included (1: no pool). */
  readonly threads: number;
  /** Parts each threaded kernel call is cut into (1 without a pool); topk's heap needs 2·k u32 per part. */
  readonly parts: number;
  private readonly pool: ThreadPool | null;
  private top = HEAP_BASE;

  private constructor(memory: WebAssembly.Memory, k: CpuKernels, pool: ThreadPool | null) {
    this.memory = memory;
    this.k = pool ? threadedKernels(k, pool) : k;
    this.pool = pool;
    this.threads = pool?.size ?? 1;
    this.parts = pool?.parts ?? 1;
  }

  /**
   * Instantiate the kernels on a fresh memory (shared, with a worker pool, when `threads` > 1).
   * @throws when WebAssembly SIMD is not supported, or (only when `threads` was given) a thread cannot start;
   *   with the default thread count a failed pool falls back to one thread
   */
  static async create(options: WasmArenaOptions = {}): Promise<WasmArena> {
    const threads = Math.max(1, Math.floor(options.threads ?? (await defaultCpuThreads())));
    if (threads > 1) {
      try {
        const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
        const module = await sharedKernelModule();
        const instance = await WebAssembly.instantiate(module, { env: { memory } });
        const own = instance.exports as unknown as CpuKernels;
        return new WasmArena(memory, own, await ThreadPool.create(threads, module, memory, own));
      } catch (e) {
        // Asked for explicitly: say why it failed. By default: run on one thread (same results, slower).
        if (options.threads !== undefined) throw e;
        console.warn(`[sae-lab cpu] threads unavailable, running on one: ${(e as Error).message}`);
      }
    }
    const memory = new WebAssembly.Memory({ initial: 2 });
    const instance = await WebAssembly.instantiate(await kernelModule(), { env: { memory } });
    return new WasmArena(memory, instance.exports as unknown as CpuKernels, null);
  }

  /** End the thread pool's workers (the arena's kernels are unusable afterwards). */
  destroy(): void {
    this.pool?.destroy();
  }

  /**
   * Reserve `count` 4-byte elements, 16-byte aligned, zero-filled. @returns the byte offset
   * @throws RangeError when the memory cannot grow that far (wasm32: 4 GiB).
   */
  alloc(count: number): number {
    const ptr = this.top;
    const bytes = Math.ceil((count * 4) / 16) * 16;
    const end = ptr + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new RangeError(
          `CPU engine: cannot grow WebAssembly memory to ${(end / 2 ** 20).toFixed(0)} MiB (${(e as Error).message})`,
        );
      }
    }
    this.top = end;
    return ptr;
  }

  /** Float32 view of `count` elements at byte offset `ptr` (invalid after the next alloc). */
  f32(ptr: number, count: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, count);
  }

  /** Uint32 view of `count` elements at byte offset `ptr` (invalid after the next alloc). */
  u32(ptr: number, count: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, count);
  }

  /** Bytes in use. */
  get usedBytes(): number {
    return this.top;
  }
}
