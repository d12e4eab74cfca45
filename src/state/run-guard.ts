/**
 * What keeps a run from being lost silently, on the page side (no React):
 *   - a `beforeunload` warning while a run is running, paused or starting;
 *   - the last step each run reached, kept in localStorage, so a run interrupted by a reload, a crash or a closed
 *     tab can be reported as "interrupted at step N (checkpoint at M)";
 *   - which checkpointed runs are interrupted: saved as 'running' or 'paused' and not alive in any page (their
 *     run lock, src/data/dataset-lock.ts, is free);
 *   - a BroadcastChannel on which each tab says when it trains, so a second tab that starts training is told it
 *     shares the GPU.
 */

import { liveRunIds } from '../data/dataset-lock';
import { isSweepRunId } from '../sweep/store';
import type { CheckpointMeta } from '../train/checkpoint';

/** Channel of run announcements between tabs. */
export const RUNS_CHANNEL = 'sae-lab-runs';

/** A run another tab announced. */
export interface OtherTabRun {
  tabId: string;
  runId: string;
  datasetName: string;
}

type RunMessage =
  | { type: 'active'; tabId: string; runId: string; datasetName: string }
  | { type: 'ended'; tabId: string }
  | { type: 'hello'; tabId: string };

/** This page's id on the runs channel. */
export const TAB_ID = Math.floor(Math.random() * 2 ** 32).toString(36);

let channel: BroadcastChannel | null = null;
let mine: { runId: string; datasetName: string } | null = null;

/**
 * Join the runs channel: `onChange` receives the runs other tabs are training now (latest state per tab).
 * Call once per page.
 */
export function joinRunsChannel(onChange: (runs: OtherTabRun[]) => void): void {
  if (typeof BroadcastChannel === 'undefined' || channel) return;
  const others = new Map<string, OtherTabRun>();
  channel = new BroadcastChannel(RUNS_CHANNEL);
  channel.onmessage = (e: MessageEvent<RunMessage>) => {
    const m = e.data;
    if (m.type === 'hello') {
      if (mine) channel?.postMessage({ type: 'active', tabId: TAB_ID, ...mine } satisfies RunMessage);
      return;
    }
    if (m.type === 'active')
      others.set(m.tabId, { tabId: m.tabId, runId: m.runId, datasetName: m.datasetName });
    else others.delete(m.tabId);
    onChange([...others.values()]);
  };
  channel.postMessage({ type: 'hello', tabId: TAB_ID } satisfies RunMessage);
}

/** Tell other tabs this tab trains run `runId` now (null = no longer). */
export function announceRun(run: { runId: string; datasetName: string } | null): void {
  mine = run;
  channel?.postMessage(
    (run ? { type: 'active', tabId: TAB_ID, ...run } : { type: 'ended', tabId: TAB_ID }) satisfies RunMessage,
  );
}

let unloadGuard: ((e: BeforeUnloadEvent) => void) | null = null;

/** Warn before the page unloads while `active` (a run would lose its steps since the last checkpoint). */
export function guardUnload(active: boolean): void {
  if (typeof window === 'undefined') return;
  if (active && !unloadGuard) {
    unloadGuard = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      // Older browsers show a prompt only when returnValue is set.
      e.returnValue = 'A run is training; leaving loses the steps since its last checkpoint.';
    };
    window.addEventListener('beforeunload', unloadGuard);
  } else if (!active && unloadGuard) {
    window.removeEventListener('beforeunload', unloadGuard);
    unloadGuard = null;
  }
}

const PROGRESS_KEY = 'sae-lab-run-progress';
let lastWrite = 0;

/** Remember that run `runId` reached `step` (written at most twice a second; `force` writes now). */
export function recordProgress(runId: string, step: number, force = false): void {
  const now = Date.now();
  if (!force && now - lastWrite < 500) return;
  lastWrite = now;
  try {
    const all = JSON.parse(localStorage.getItem(PROGRESS_KEY) ?? '{}') as Record<string, number>;
    all[runId] = step;
    localStorage.setItem(PROGRESS_KEY, JSON.stringify(all));
  } catch {
    // Without localStorage the banner falls back to the checkpoint's step.
  }
}

/** The last step run `runId` was seen at, or null. */
export function lastProgress(runId: string): number | null {
  try {
    const all = JSON.parse(localStorage.getItem(PROGRESS_KEY) ?? '{}') as Record<string, number>;
    return typeof all[runId] === 'number' ? all[runId] : null;
  } catch {
    return null;
  }
}

/** Forget a run's progress (after Discard). */
export function forgetProgress(runId: string): void {
  try {
    const all = JSON.parse(localStorage.getItem(PROGRESS_KEY) ?? '{}') as Record<string, number>;
    delete all[runId];
    localStorage.setItem(PROGRESS_KEY, JSON.stringify(all));
  } catch {
    // nothing to forget
  }
}

/** An interrupted run as the banner shows it. */
export interface InterruptedRun {
  meta: CheckpointMeta;
  /** Last step the run was seen at (≥ the checkpoint's step). */
  lastStep: number;
}

/**
 * The most recent interrupted run among `checkpoints`: saved 'running' or 'paused', not alive in any page, and not
 * `exceptRunId` (this page's own run). null when none.
 */
export async function findInterrupted(
  checkpoints: CheckpointMeta[],
  exceptRunId: string | null,
): Promise<InterruptedRun | null> {
  const live = await liveRunIds().catch(() => new Set<string>());
  const c = checkpoints
    .filter((m) => (m.status === 'running' || m.status === 'paused') && m.runId !== exceptRunId)
    .filter((m) => !live.has(m.runId))
    // A sweep's runs are resumed with their sweep (src/sweep/store.ts), not one by one.
    .filter((m) => !isSweepRunId(m.runId))
    .sort((a, b) => b.savedAt - a.savedAt)[0];
  if (!c) return null;
  return { meta: c, lastStep: Math.max(c.step, lastProgress(c.runId) ?? c.step) };
}
