/**
 * What browser tests may read, on `window.__saeLab` (no global type: cast where you read it): per-chart point counts and draw counts (updated when a
 * chart draws), and a snapshot of the run status. Tests use this and data-testid attributes, never internals.
 */

import { createStore, keys } from 'idb-keyval';
import { useLab } from '../state/lab-store';
import { metricBuffers } from '../state/metric-buffers';
import { runLibrary } from '../state/runs-store';
import type { TrainField } from '../train/history';
import { labWorker, terminateLabWorkerForTest } from '../worker/client';

/** Counters of one chart. */
export interface ChartStats {
  /** Points in the chart's first series at the last draw. */
  points: number;
  /** setData calls so far. */
  draws: number;
  /** Largest step drawn so far. */
  lastStep: number;
  /** Most points drawn while the run was 'running' and before its last step (points seen DURING the run). */
  pointsWhileRunning: number;
}

/** The hook object. */
export interface SaeLabHook {
  charts: Record<string, ChartStats>;
  /** Status, step and total steps of the current run. */
  run(): { status: string; step: number | null; totalSteps: number | null; runId: string | null };
  /** Destroy the worker's GPUDevice, as a driver reset would (exercises the device-lost banner). */
  loseDevice(): Promise<void>;
  /** Inject a fault into the next run (src/worker/api.ts FaultForTest). */
  injectFault(kind: 'nan' | 'collapse', atStep: number): Promise<void>;
  /** Terminate the lab worker mid-run, as a crash would (the worker-crash fault). */
  terminateWorker(): void;
  /** The values of one training-history field the charts hold (sampled steps, oldest first). */
  trainSeries(field: TrainField): number[];
  /** Every IndexedDB key of the run library and of the checkpoint store (tests check that delete frees them). */
  runKeys(): Promise<{ runs: string[]; checkpoints: string[] }>;
}

/**
 * The page's hook, installed on first use. `__saeLab` is shared with the dataset store's hook
 * (src/data/test-hook.ts, member `store`), so members are added to the existing object, never replaced.
 */
export function saeLabHook(): SaeLabHook {
  const g = globalThis as unknown as { __saeLab?: Partial<SaeLabHook> & Record<string, unknown> };
  const hook = g.__saeLab ?? {};
  g.__saeLab = hook;
  hook.charts ??= {};
  hook.run ??= () => {
    const s = useLab.getState();
    return {
      status: s.status,
      step: s.progress?.step ?? null,
      totalSteps: s.run?.totalSteps ?? null,
      runId: s.run?.runId ?? null,
    };
  };
  hook.loseDevice ??= () => labWorker().loseDeviceForTest();
  hook.injectFault ??= (kind, atStep) => labWorker().injectFaultForTest({ kind, atStep });
  hook.terminateWorker ??= () => terminateLabWorkerForTest();
  hook.trainSeries ??= (field) => Array.from(metricBuffers.train.column(field));
  hook.runKeys ??= async () => ({
    runs: await runLibrary().allKeys(),
    checkpoints: (await keys(createStore('sae-lab-checkpoints', 'runs'))).map(String),
  });
  return hook as SaeLabHook;
}

/** Record one draw of chart `id` with `points` points, the last at step `lastStep`. */
export function recordDraw(id: string, points: number, lastStep: number): void {
  const hook = saeLabHook();
  let c = hook.charts[id];
  if (!c) {
    c = { points: 0, draws: 0, lastStep: 0, pointsWhileRunning: 0 };
    hook.charts[id] = c;
  }
  c.points = points;
  c.draws++;
  c.lastStep = Math.max(c.lastStep, lastStep);
  const r = hook.run();
  if (r.status === 'running' && r.totalSteps !== null && lastStep < r.totalSteps) {
    c.pointsWhileRunning = Math.max(c.pointsWhileRunning, points);
  }
}
