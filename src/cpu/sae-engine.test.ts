/**
 * The fast CPU engine (WasmCpuSaeEngine) against the oracle (CpuSaeEngine) at odd shapes, every architecture, over
 * 50 steps, on one thread and on three (threads split work across independent outputs only): the kernels sum in the
 * oracle's float32 order, so parameters, Adam state and step sums must agree bit for bit; the test names the first
 * differing index when they do not.
 */
import { describe, expect, it } from 'vitest';
import { CpuSaeEngine } from '../reference/sae-engine';
import { initSaeParams } from '../sae/init';
import type { SaeParams, SaeShape, StepHyper } from '../sae/types';
import { Rng } from '../util/rng';
import { WasmCpuSaeEngine } from './sae-engine';
import { WasmArena } from './wasm';

const hyper: StepHyper = {
  lr: 3e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  deadWindowSteps: 4,
  sparsityCoeff: 0.5,
  auxkDeadWindowSteps: 3,
};

/** Sparse synthetic data [rows, D]: each row a nonnegative mix of 3 of 20 fixed directions plus noise. */
function synthetic(rows: number, dModel: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const dirs = new Rng(seed + 1000).normalArray(20 * dModel);
  const x = new Float32Array(rows * dModel);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 3; c++) {
      const i = rng.int(20);
      const a = rng.uniform(0.5, 2);
      for (let d = 0; d < dModel; d++) x[r * dModel + d] += a * dirs[i * dModel + d];
    }
    for (let d = 0; d < dModel; d++) x[r * dModel + d] += 0.1 * rng.normal() + 0.3;
  }
  return x;
}

/** First index where a and b differ (bitwise, NaN-aware), or −1. */
function firstMismatch(a: Float32Array | Uint32Array, b: Float32Array | Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectSameParams(got: SaeParams, want: SaeParams, what: string): void {
  for (const key of ['wEnc', 'wDec', 'bEnc', 'bDec', 'threshold'] as const) {
    const g = got[key];
    const w = want[key];
    if (!w) {
      expect(g, `${what}.${key}`).toBeUndefined();
      continue;
    }
    const i = firstMismatch(g as Float32Array, w);
    expect(i, `${what}.${key}: first mismatch at ${i}: got ${g?.[i]}, want ${w[i]}`).toBe(-1);
  }
}

const cases: { name: string; shape: SaeShape }[] = [
  { name: 'TopK', shape: { dModel: 13, dSae: 37, k: 5, batchSize: 23 } },
  { name: 'TopK + AuxK', shape: { dModel: 9, dSae: 41, k: 3, batchSize: 19, arch: { auxk: true, kAux: 6 } } },
  {
    name: 'BatchTopK',
    shape: { dModel: 11, dSae: 29, k: 3, batchSize: 17, arch: { architecture: 'batchtopk' } },
  },
  {
    name: 'BatchTopK dense (> 256 kept per token)',
    // 512 of 600 kept: a token keeps more than 256 on (almost) every step.
    shape: { dModel: 7, dSae: 300, k: 256, batchSize: 2, arch: { architecture: 'batchtopk', auxk: true } },
  },
  {
    name: 'JumpReLU',
    shape: { dModel: 10, dSae: 33, k: 1, batchSize: 21, arch: { architecture: 'jumprelu', bandwidth: 0.05 } },
  },
  { name: 'ReLU + L1', shape: { dModel: 15, dSae: 27, k: 1, batchSize: 14, arch: { architecture: 'relu' } } },
  {
    // The wasm Matryoshka path (src/cpu/matryoshka-step.ts): BatchTopK's slots and the prefix backward.
    name: 'Matryoshka BatchTopK + AuxK',
    shape: {
      dModel: 11,
      dSae: 37,
      k: 4,
      batchSize: 17,
      arch: { architecture: 'matryoshka', auxk: true, kAux: 5 },
    },
  },
  {
    name: 'Matryoshka BatchTopK, user-set prefix widths 0.2, 0.45, 0.7, 1',
    shape: {
      dModel: 9,
      dSae: 31,
      k: 3,
      batchSize: 13,
      arch: { architecture: 'matryoshka', matryoshkaWidths: [0.2, 0.45, 0.7, 1] },
    },
  },
  {
    name: 'Matryoshka BatchTopK, > 256 kept per token',
    shape: { dModel: 7, dSae: 300, k: 256, batchSize: 2, arch: { architecture: 'matryoshka' } },
  },
];

describe('WasmCpuSaeEngine matches the oracle bit for bit over 50 steps', () => {
  // 1 thread, and 3 threads (odd splits of every kernel; src/cpu/threads.ts) on a shared memory.
  for (const threads of [1, 3])
    for (const { name, shape } of cases) {
      it(`${name}, ${threads} thread${threads > 1 ? 's' : ''}`, async () => {
        const steps = 50;
        const n = shape.batchSize * shape.dModel;
        const data = synthetic(shape.batchSize * steps, shape.dModel, 5);
        const init = initSaeParams(shape, 11, data.subarray(0, n));
        const oracle = new CpuSaeEngine(shape, init);
        const fast = await WasmCpuSaeEngine.create(shape, init, { threads });
        expect(fast.threads).toBe(threads);
        // Every registry step path runs on the wasm kernels (none through the oracle's step-path object).
        expect(fast.path.selection).not.toBe('oracle');
        for (let i = 0; i < steps; i++) {
          const x = data.subarray(i * n, (i + 1) * n);
          const want = oracle.stepSync(x, hyper);
          const got = await fast.step(x, hyper);
          expect(got, `step ${i} stats`).toEqual(want);
        }
        const want = await oracle.getState();
        const got = await fast.getState();
        expect(got.t).toBe(steps);
        expectSameParams(got.params, want.params, 'params');
        expectSameParams(got.adamM, want.adamM, 'adamM');
        expectSameParams(got.adamV, want.adamV, 'adamV');
        expect(firstMismatch(got.stepsSinceFired, want.stepsSinceFired)).toBe(-1);
        // Evaluation over more rows than a batch (chunked, ragged last chunk).
        const held = synthetic(shape.batchSize * 2 + 3, shape.dModel, 9);
        const rows = shape.batchSize * 2 + 3;
        expect(await fast.evaluate(held, rows)).toEqual(await oracle.evaluate(held, rows));
        fast.destroy();
      });
    }

  it('resumes from the oracle state (setState) and continues identically', async () => {
    const shape: SaeShape = { dModel: 6, dSae: 19, k: 2, batchSize: 9, arch: { architecture: 'jumprelu' } };
    const n = shape.batchSize * shape.dModel;
    const data = synthetic(shape.batchSize * 6, shape.dModel, 3);
    const oracle = new CpuSaeEngine(shape, initSaeParams(shape, 2, data.subarray(0, n)));
    for (let i = 0; i < 3; i++) oracle.stepSync(data.subarray(i * n, (i + 1) * n), hyper);
    const fast = await WasmCpuSaeEngine.create(shape, initSaeParams(shape, 99));
    await fast.setState(await oracle.getState());
    for (let i = 3; i < 6; i++) {
      const x = data.subarray(i * n, (i + 1) * n);
      expect(await fast.step(x, hyper)).toEqual(oracle.stepSync(x, hyper));
    }
    expectSameParams((await fast.getState()).params, (await oracle.getState()).params, 'params');
    const bad = await oracle.getState();
    bad.params.wEnc = new Float32Array(3);
    await expect(fast.setState(bad)).rejects.toThrow(/W_enc|wEnc/);
  });

  it('raises the sticky non-finite flag at the same step as the oracle, and setState clears it', async () => {
    const shape: SaeShape = { dModel: 7, dSae: 23, k: 3, batchSize: 11 };
    const n = shape.batchSize * shape.dModel;
    const data = synthetic(shape.batchSize * 4, shape.dModel, 4);
    const init = initSaeParams(shape, 5, data.subarray(0, n));
    const oracle = new CpuSaeEngine(shape, init);
    const fast = await WasmCpuSaeEngine.create(shape, init);
    const x0 = data.subarray(0, n);
    expect((await fast.step(x0, hyper)).nonFinite).toBe(false);
    oracle.stepSync(x0, hyper);
    const poisoned = await oracle.getState();
    poisoned.params.wEnc[0] = Number.NaN;
    await oracle.setState(poisoned);
    await fast.setState(poisoned);
    for (let i = 1; i < 4; i++) {
      const x = data.subarray(i * n, (i + 1) * n);
      const want = oracle.stepSync(x, hyper);
      const got = await fast.step(x, hyper);
      expect(want.nonFinite, `oracle step ${i}`).toBe(true);
      expect(got.nonFinite, `wasm step ${i}`).toBe(true);
    }
    await fast.setState(await new CpuSaeEngine(shape, init).getState());
    expect((await fast.step(x0, hyper)).nonFinite).toBe(false);
  });
});

describe('wasm kernels', () => {
  it('matmul equals the plain f32 loop at odd sizes (4-row, 8/4/1-column tails, panels)', async () => {
    const a = await WasmArena.create();
    const rng = new Rng(4);
    for (const [M, N, K] of [
      [1, 1, 1],
      [7, 67, 5],
      [9, 130, 3],
      [4, 8, 16],
    ]) {
      const A = rng.normalArray(M * K);
      const B = rng.normalArray(K * N);
      const bias = rng.normalArray(N);
      const pa = a.alloc(M * K);
      const pb = a.alloc(K * N);
      const pbias = a.alloc(N);
      const pc = a.alloc(M * N);
      a.f32(pa, M * K).set(A);
      a.f32(pb, K * N).set(B);
      a.f32(pbias, N).set(bias);
      a.k.matmul(pa, pb, pbias, pc, M, N, K);
      const want = new Float32Array(M * N);
      const f = Math.fround;
      for (let m = 0; m < M; m++)
        for (let nn = 0; nn < N; nn++) {
          let acc = 0;
          for (let k = 0; k < K; k++) acc = f(acc + f(A[m * K + k] * B[k * N + nn]));
          want[m * N + nn] = f(acc + bias[nn]);
        }
      const i = firstMismatch(a.f32(pc, M * N), want);
      expect(i, `matmul ${M}×${N}×${K}: first mismatch at ${i}`).toBe(-1);
    }
  });

  it('rejects a bad shape with the engine name', async () => {
    const bad: SaeShape = { dModel: 4, dSae: 8, k: 9, batchSize: 2 };
    await expect(WasmCpuSaeEngine.create(bad, initSaeParams({ ...bad, k: 1 }, 1))).rejects.toThrow(
      /WasmCpuSaeEngine/,
    );
  });
});
