/**
 * Feature recovery of the finished run when its dataset is synthetic (has ground truth): asked of the worker
 * (src/worker/lab-worker.ts `featureRecovery`, formula in src/sae/metrics.ts) whenever a new summary arrives.
 */
import { create } from 'zustand';
import type { RunRecovery } from '../worker/api';
import { labWorker } from '../worker/client';
import { useLab } from './lab-store';

export interface RecoveryState {
  /** Recovery of the last summarised run, null when there is none or its data has no ground truth. */
  recovery: RunRecovery | null;
}

/** The recovery store (fed by a subscription to the lab store; call {@link followRecovery} once). */
export const useRecovery = create<RecoveryState>()(() => ({ recovery: null }));

let following = false;
/** Start fetching the recovery of every summarised run on synthetic data. Idempotent. */
export function followRecovery(): void {
  if (following) return;
  following = true;
  useLab.subscribe((s, prev) => {
    if (s.summary === prev.summary) return;
    const summary = s.summary;
    if (!summary) {
      useRecovery.setState({ recovery: null });
      return;
    }
    const dataset = s.datasets.find((d) => d.id === s.run?.datasetId);
    if (!dataset?.synthetic) {
      useRecovery.setState({ recovery: null });
      return;
    }
    labWorker()
      .featureRecovery(summary.runId)
      .then((recovery) => {
        if (useLab.getState().summary?.runId === summary.runId) useRecovery.setState({ recovery });
      })
      .catch(() => useRecovery.setState({ recovery: null }));
  });
}
