/**
 * Threads for the fast CPU engine: a small pool of workers that share the engine's WebAssembly memory (a shared
 * `WebAssembly.Memory` over a SharedArrayBuffer), each running its own instance of the same kernel module, and a
 * {@link CpuKernels} wrapper that splits each dense kernel call across the pool.
 *
 * Exactness: work is split only across independent outputs (rows of a matmul / TopK / decode / decoder row, element
 * ranges of Adam, column ranges of the sparse backward's scatter), and every output is computed by the same kernel
 * code in the same operation order as on one thread; so a threaded step is bit-identical to the single-threaded one
 * and to the oracle (src/cpu/threads.test.ts checks it over 50 steps at odd shapes).
 *
 * Dispatch: the caller (the lab worker, or Node's main thread) writes each worker's arguments into a shared control
 * block, bumps a generation counter and wakes the workers with Atomics.notify, runs its own share, then sleeps in
 * Atomics.wait until every worker has counted itself done. So a call stays synchronous, which needs a context where
 * Atomics.wait is allowed (a Worker or Node, never a page's main thread) — {@link defaultCpuThreads} checks that.
 * Workers: a Blob-URL Worker in a browser (allowed under COEP), worker_threads in Node (unref'd).
 */
import type { CpuKernels } from './wasm';

/** Largest pool the engine will start (threads beyond ~8 stop paying off at the lab's shapes). */
export const MAX_CPU_THREADS = 8;
/** Float64 argument slots per thread in the control block. */
const ARG_SLOTS = 16;
/** Int32 control words: generation, done count, kernel index, error flag. */
const CTRL_WORDS = 4;
/** How long the caller waits for a worker before declaring the pool dead (ms). */
const WORKER_TIMEOUT_MS = 60_000;

/** The kernels a worker may be asked to run (indices into this list travel through the control block). */
const KERNEL_NAMES = [
  'matmul',
  'centre',
  'transposeRows',
  'topk',
  'decode',
  'sub',
  'scale',
  'sparseGrad',
  'sparseScatter',
  'adam',
  'projectDecoderGrad',
  'normalizeRows',
] as const;
type KernelName = (typeof KERNEL_NAMES)[number];

/**
 * The worker's whole program (plain JS, no imports, so one source serves a Blob-URL Worker and an eval'd
 * worker_thread). `post` and `onInit` are bound by the two small prologues below.
 */
const WORKER_BODY = `
let ctrl, args, ex, names, id;
function loop() {
  let gen = 0; // the pool's first generation (not a fresh load: the caller may already have bumped it)
  for (;;) {
    Atomics.wait(ctrl, 0, gen);
    const g = Atomics.load(ctrl, 0);
    if (g === gen) continue;
    gen = g;
    try {
      const o = id * ${ARG_SLOTS};
      const n = args[o];
      if (n > 0) {
        const a = new Array(n);
        for (let i = 0; i < n; i++) a[i] = args[o + 1 + i];
        ex[names[Atomics.load(ctrl, 2)]](...a);
      }
    } catch (e) {
      Atomics.store(ctrl, 3, 1);
    }
    Atomics.add(ctrl, 1, 1);
    Atomics.notify(ctrl, 1);
  }
}
function onInit(d) {
  ctrl = new Int32Array(d.ctrl, 0, ${CTRL_WORDS});
  args = new Float64Array(d.args);
  id = d.id;
  names = d.names;
  WebAssembly.instantiate(d.module, { env: { memory: d.memory } }).then(
    (inst) => { ex = inst.exports; post({ ok: true }); loop(); },
    (e) => post({ ok: false, error: String(e && e.message || e) }),
  );
}
`;
const BROWSER_PROLOGUE = 'const post = (m) => self.postMessage(m); self.onmessage = (e) => onInit(e.data);';
const NODE_PROLOGUE =
  "const { parentPort } = require('node:worker_threads'); const post = (m) => parentPort.postMessage(m); parentPort.once('message', (d) => onInit(d));";

/** One started worker, whichever kind. */
interface PoolWorker {
  post(msg: unknown): void;
  onMessage(fn: (m: { ok: boolean; error?: string }) => void): void;
  onError(fn: (e: unknown) => void): void;
  terminate(): void;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

/**
 * A Node built-in module: process.getBuiltinModule (Node ≥ 20.16; works inside Vite's module runner, which a
 * dynamic import does not once the runner has closed), else a dynamic import.
 */
async function nodeBuiltin<T>(name: string): Promise<T> {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (get) return get(name) as T;
  return (await import(/* @vite-ignore */ name)) as T;
}

async function startWorker(): Promise<PoolWorker> {
  if (typeof Worker !== 'undefined' && !isNode) {
    const url = URL.createObjectURL(new Blob([WORKER_BODY, BROWSER_PROLOGUE], { type: 'text/javascript' }));
    const w = new Worker(url, { name: 'sae-lab cpu thread' });
    URL.revokeObjectURL(url);
    return {
      post: (m) => w.postMessage(m),
      onMessage: (fn) => w.addEventListener('message', (e) => fn(e.data)),
      onError: (fn) => w.addEventListener('error', fn),
      terminate: () => w.terminate(),
    };
  }
  const wt = await nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads');
  const w = new wt.Worker(WORKER_BODY + NODE_PROLOGUE, { eval: true, name: 'sae-lab cpu thread' });
  w.unref();
  return {
    post: (m) => w.postMessage(m),
    onMessage: (fn) => w.on('message', fn),
    onError: (fn) => w.on('error', fn),
    terminate: () => void w.terminate(),
  };
}

/**
 * How many threads the fast CPU engine uses here by default: 1 unless SharedArrayBuffer exists, the page is
 * cross-origin isolated (browsers) and Atomics.wait is allowed (a Worker, or Node); then the core count, at most
 * {@link MAX_CPU_THREADS}.
 */
export async function defaultCpuThreads(): Promise<number> {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return 1;
  if (isNode) {
    const os = await nodeBuiltin<typeof import('node:os')>('node:os');
    return Math.max(1, Math.min(MAX_CPU_THREADS, os.availableParallelism()));
  }
  const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown };
  if (g.crossOriginIsolated !== true || g.document !== undefined) return 1;
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  return Math.max(1, Math.min(MAX_CPU_THREADS, cores));
}

/**
 * A pool of `size − 1` workers plus the calling thread, over one shared wasm memory. Create with
 * {@link ThreadPool.create}; {@link ThreadPool.destroy} ends the workers.
 */
export class ThreadPool {
  /** Threads taking part in each call, the caller included. */
  readonly size: number;
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: PoolWorker[];
  private readonly own: CpuKernels;

  private constructor(
    size: number,
    ctrl: Int32Array,
    args: Float64Array,
    workers: PoolWorker[],
    own: CpuKernels,
  ) {
    this.size = size;
    this.ctrl = ctrl;
    this.args = args;
    this.workers = workers;
    this.own = own;
  }

  /**
   * Start `size − 1` workers, each instantiating `module` on `memory`.
   * @param own the caller's instance of the same module on the same memory
   * @throws Error when a worker cannot start or instantiate the module (the started ones are ended)
   */
  static async create(
    size: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    own: CpuKernels,
  ): Promise<ThreadPool> {
    const ctrlBuf = new SharedArrayBuffer(CTRL_WORDS * 4);
    const argsBuf = new SharedArrayBuffer(size * ARG_SLOTS * 8);
    const workers: PoolWorker[] = [];
    try {
      await Promise.all(
        Array.from({ length: size - 1 }, async (_, i) => {
          const w = await startWorker();
          workers.push(w);
          await new Promise<void>((resolve, reject) => {
            w.onMessage((m) =>
              m.ok ? resolve() : reject(new Error(`CPU engine thread ${i + 1}: ${m.error ?? 'failed'}`)),
            );
            w.onError((e) => reject(new Error(`CPU engine thread ${i + 1} failed to start: ${String(e)}`)));
            w.post({ ctrl: ctrlBuf, args: argsBuf, id: i + 1, names: KERNEL_NAMES, module, memory });
          });
        }),
      );
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    return new ThreadPool(size, new Int32Array(ctrlBuf), new Float64Array(argsBuf), workers, own);
  }

  /**
   * Run kernel `name` once per thread, thread t with `parts[t]` (parts[0] runs on the caller; an empty list skips
   * that thread), and return when all are done.
   * @throws Error when a worker's kernel trapped or a worker stopped answering
   */
  run(name: KernelName, parts: number[][]): void {
    const { ctrl, args } = this;
    for (let t = 1; t < this.size; t++) {
      const a = parts[t] ?? [];
      const o = t * ARG_SLOTS;
      args[o] = a.length;
      for (let i = 0; i < a.length; i++) args[o + 1 + i] = a[i];
    }
    Atomics.store(ctrl, 2, KERNEL_NAMES.indexOf(name));
    Atomics.store(ctrl, 1, 0);
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    const mine = parts[0] ?? [];
    if (mine.length > 0) (this.own[name as keyof CpuKernels] as (...a: number[]) => void)(...mine);
    const workers = this.size - 1;
    const start = Date.now();
    for (let done = Atomics.load(ctrl, 1); done < workers; done = Atomics.load(ctrl, 1)) {
      if (
        Atomics.wait(ctrl, 1, done, WORKER_TIMEOUT_MS) === 'timed-out' &&
        Date.now() - start >= WORKER_TIMEOUT_MS
      ) {
        throw new Error(
          `CPU engine: a worker thread did not finish ${name} within ${WORKER_TIMEOUT_MS / 1000} s`,
        );
      }
    }
    if (Atomics.exchange(ctrl, 3, 0) !== 0)
      throw new Error(`CPU engine: a worker thread's ${name} kernel trapped`);
  }

  /** End the workers (the pool is unusable afterwards). */
  destroy(): void {
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}

/**
 * Split [0, n) into `parts` contiguous ranges whose starts are multiples of `align` (the last takes the rest).
 * @returns [start, end) per part; trailing parts may be empty
 */
export function splitRange(n: number, parts: number, align = 4): [number, number][] {
  const chunk = Math.ceil(n / parts / align) * align;
  const out: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const s = Math.min(n, t * chunk);
    out.push([s, Math.min(n, s + chunk)]);
  }
  return out;
}

/**
 * {@link CpuKernels} that split each dense call across `pool` (same signatures, bit-identical results).
 * topk's heap scratch must hold 2·k u32 per thread (pool.size × 2·k). centre, sub and scale are cheap and stay on
 * the caller; transpose splits over input rows.
 */
export function threadedKernels(k: CpuKernels, pool: ThreadPool): CpuKernels {
  const T = pool.size;
  const rowsOf = (n: number) => splitRange(n, T);
  const skip = (a: number, b: number, args: number[]) => (b > a ? args : []);
  return {
    ...k,
    matmul: (a, b, bias, c, M, N, K) =>
      pool.run(
        'matmul',
        rowsOf(M).map(([m0, m1]) => skip(m0, m1, [a + m0 * K * 4, b, bias, c + m0 * N * 4, m1 - m0, N, K])),
      ),
    transpose: (input, out, R, C) =>
      pool.run(
        'transposeRows',
        rowsOf(R).map(([r0, r1]) => skip(r0, r1, [input, out, R, C, r0, r1])),
      ),
    topk: (pre, R, S, kk, idx, val, heap) =>
      pool.run(
        'topk',
        rowsOf(R).map(([r0, r1], t) =>
          skip(r0, r1, [
            pre + r0 * S * 4,
            r1 - r0,
            S,
            kk,
            idx + r0 * kk * 4,
            val + r0 * kk * 4,
            heap + t * 8 * kk,
          ]),
        ),
      ),
    decode: (idx, val, wDec, bDec, xHat, R, D, kk) =>
      pool.run(
        'decode',
        rowsOf(R).map(([r0, r1]) =>
          skip(r0, r1, [idx + r0 * kk * 4, val + r0 * kk * 4, wDec, bDec, xHat + r0 * D * 4, r1 - r0, D, kk]),
        ),
      ),
    sparseBackward: (diff, xc, wDec, idx, val, gPre, fire, accDec, gWencT, gBenc, R, D, kk, scale) => {
      pool.run(
        'sparseGrad',
        rowsOf(R).map(([r0, r1]) =>
          skip(r0, r1, [
            diff + r0 * D * 4,
            wDec,
            idx + r0 * kk * 4,
            val + r0 * kk * 4,
            gPre + r0 * kk * 4,
            r1 - r0,
            D,
            kk,
            scale,
          ]),
        ),
      );
      // Thread 0 also counts fires and sums ∂b_enc (so it runs even when its column range is empty).
      pool.run(
        'sparseScatter',
        splitRange(D, T).map(([d0, d1], t) =>
          t === 0 || d1 > d0
            ? [diff, xc, idx, val, gPre, fire, accDec, gWencT, gBenc, R, D, kk, d0, d1, t === 0 ? 1 : 0]
            : [],
        ),
      );
    },
    adam: (p, m, v, g, n, ...coef) =>
      pool.run(
        'adam',
        splitRange(n, T).map(([i0, i1]) =>
          skip(i0, i1, [p + i0 * 4, m + i0 * 4, v + i0 * 4, g + i0 * 4, i1 - i0, ...coef]),
        ),
      ),
    projectDecoderGrad: (g, w, S, D) =>
      pool.run(
        'projectDecoderGrad',
        rowsOf(S).map(([s0, s1]) => skip(s0, s1, [g + s0 * D * 4, w + s0 * D * 4, s1 - s0, D])),
      ),
    normalizeRows: (w, S, D) =>
      pool.run(
        'normalizeRows',
        rowsOf(S).map(([s0, s1]) => skip(s0, s1, [w + s0 * D * 4, s1 - s0, D])),
      ),
  };
}
