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
 * Dispatch: the caller (the lab worker, or Node's main thread) cuts a call into parts (PARTS_PER_THREAD per
 * thread), writes their arguments into a shared block, bumps a generation counter and wakes the workers with
 * Atomics.notify; every thread, the caller included, claims parts one at a time (compare-and-swap) until none is
 * left, and the caller sleeps in Atomics.wait until every part is done. A worker that wakes late (a busy machine)
 * finds nothing left rather than holding the call up. So a call stays synchronous, which needs a context where
 * Atomics.wait is allowed (a Worker or Node, never a page's main thread) — {@link defaultCpuThreads} checks that.
 * Workers: a Blob-URL Worker in a browser (allowed under COEP), worker_threads in Node (unref'd).
 */
import type { CpuKernels } from './wasm';

/** Largest pool the engine will start (threads beyond ~8 stop paying off at the lab's shapes). */
export const MAX_CPU_THREADS = 8;
/** Float64 argument slots per part in the argument block. */
const ARG_SLOTS = 16;
/** Parts one call is cut into per thread (smaller parts balance the load when a thread is descheduled). */
export const PARTS_PER_THREAD = 4;
/** Most parts of one call (the argument block's size). */
const MAX_PARTS = MAX_CPU_THREADS * PARTS_PER_THREAD;
/**
 * Int32 control words: 0 generation (bumped to wake the workers), 1 parts done, 2 kernel index, 3 error flag,
 * 4 next part to claim, 5 end of this call's parts. Part indices grow across calls (a call's parts are
 * [start, end)); a part is claimed by compare-and-swap on word 4 only while it is below word 5, so a thread that
 * wakes late finds nothing to claim, and the caller never waits for a sleeping worker — it claims the rest itself.
 */
const CTRL_WORDS = 6;
/** Claim the next part: its index, or −1 when every part of the current call is claimed (shared with workers). */
const CLAIM_SOURCE = `function claim(ctrl) {
  for (;;) {
    const c = Atomics.load(ctrl, 4);
    if (c >= Atomics.load(ctrl, 5)) return -1;
    if (Atomics.compareExchange(ctrl, 4, c, c + 1) === c) return c;
  }
}`;
/** Restart the part indices before they near the int32 limit. */
const PART_INDEX_WRAP = 1 << 30;
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
let ctrl, args, ex, names;
function runPart(i) {
  const o = (i % ${MAX_PARTS}) * ${ARG_SLOTS};
  const n = args[o];
  const a = new Array(n);
  for (let j = 0; j < n; j++) a[j] = args[o + 1 + j];
  ex[names[Atomics.load(ctrl, 2)]](...a);
}
${CLAIM_SOURCE}
function loop() {
  let gen = 0; // the pool's first generation (not a fresh load: the caller may already have bumped it)
  for (;;) {
    Atomics.wait(ctrl, 0, gen);
    gen = Atomics.load(ctrl, 0);
    for (let i = claim(ctrl); i >= 0; i = claim(ctrl)) {
      try { runPart(i); } catch (e) { Atomics.store(ctrl, 3, 1); }
      Atomics.add(ctrl, 1, 1);
      Atomics.notify(ctrl, 1);
    }
  }
}
function onInit(d) {
  ctrl = new Int32Array(d.ctrl, 0, ${CTRL_WORDS});
  args = new Float64Array(d.args);
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

/** The caller's copy of the workers' claim (CLAIM_SOURCE). @returns the part index, or −1 when none is left */
function claim(ctrl: Int32Array): number {
  for (;;) {
    const c = Atomics.load(ctrl, 4);
    if (c >= Atomics.load(ctrl, 5)) return -1;
    if (Atomics.compareExchange(ctrl, 4, c, c + 1) === c) return c;
  }
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
    const argsBuf = new SharedArrayBuffer(MAX_PARTS * ARG_SLOTS * 8);
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
            w.post({ ctrl: ctrlBuf, args: argsBuf, names: KERNEL_NAMES, module, memory });
          });
        }),
      );
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    return new ThreadPool(size, new Int32Array(ctrlBuf), new Float64Array(argsBuf), workers, own);
  }

  /** Parts a call is cut into (topk's heap scratch needs 2·k u32 per part). */
  get parts(): number {
    return this.size * PARTS_PER_THREAD;
  }

  /**
   * Run kernel `name` once per part (`parts[i]` its arguments; empty lists are dropped), on whichever thread claims
   * each part first, the caller included, and return when all parts are done. Parts must touch disjoint outputs.
   * @throws Error when a worker's kernel trapped, a part stalled, or more than {@link parts} parts are given
   */
  run(name: KernelName, parts: number[][]): void {
    const { ctrl, args } = this;
    const work = parts.filter((a) => a.length > 0);
    const n = work.length;
    if (n === 0) return;
    if (n > MAX_PARTS) throw new Error(`CPU engine: ${name} cut into ${n} parts, over ${MAX_PARTS}`);
    // Every part of the previous call is claimed and done, so word 4 = word 5 and no one can claim now.
    let start = Atomics.load(ctrl, 4);
    if (start > PART_INDEX_WRAP) {
      Atomics.store(ctrl, 5, 0);
      Atomics.store(ctrl, 4, 0);
      start = 0;
    }
    for (let i = 0; i < n; i++) {
      const a = work[i];
      const o = ((start + i) % MAX_PARTS) * ARG_SLOTS;
      args[o] = a.length;
      for (let j = 0; j < a.length; j++) args[o + 1 + j] = a[j];
    }
    Atomics.store(ctrl, 2, KERNEL_NAMES.indexOf(name));
    Atomics.store(ctrl, 1, 0);
    Atomics.store(ctrl, 5, start + n); // publishes the parts
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    const fn = this.own[name as keyof CpuKernels] as (...a: number[]) => void;
    for (let i = claim(ctrl); i >= 0; i = claim(ctrl)) {
      fn(...work[i - start]);
      Atomics.add(ctrl, 1, 1);
    }
    const t0 = Date.now();
    for (let done = Atomics.load(ctrl, 1); done < n; done = Atomics.load(ctrl, 1)) {
      Atomics.wait(ctrl, 1, done, 1000);
      if (Date.now() - t0 >= WORKER_TIMEOUT_MS)
        throw new Error(
          `CPU engine: a worker thread did not finish ${name} within ${WORKER_TIMEOUT_MS / 1000} s`,
        );
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
 * topk's heap scratch must hold 2·k u32 per part (pool.parts × 2·k). centre, sub and scale are cheap and stay on
 * the caller; transpose splits over input rows.
 */
export function threadedKernels(k: CpuKernels, pool: ThreadPool): CpuKernels {
  const T = pool.parts;
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
    sparseGrad: (diff, wDec, idx, val, gPre, R, D, kk, scale) =>
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
      ),
    // One column range per thread (each range walks every pair, so more ranges would only repeat that walk); range
    // 0 also counts fires and sums ∂b_enc when asked (so it runs even when its column range is empty).
    sparseScatter: (diff, xc, idx, val, gPre, fire, accDec, gWencT, gBenc, R, D, kk, d0, d1, counts) =>
      pool.run(
        'sparseScatter',
        splitRange(d1 - d0, pool.size).map(([c0, c1], t) =>
          (t === 0 && counts !== 0) || c1 > c0
            ? [
                diff,
                xc,
                idx,
                val,
                gPre,
                fire,
                accDec,
                gWencT,
                gBenc,
                R,
                D,
                kk,
                d0 + c0,
                d0 + c1,
                t === 0 ? counts : 0,
              ]
            : [],
        ),
      ),
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
