/**
 * Deleting a run's weights without leaving the run library inconsistent: a run the library holds keeps its weights in
 * its checkpoint (src/runs/library.ts), so deleting only the checkpoint would leave the library's run with stale or
 * missing weights. Used by the "Resumable runs" list and the interrupted-run banner's Discard.
 */
import type { CheckpointStore } from '../train/checkpoint';
import type { RunLibrary } from './library';

/**
 * Delete run `runId`'s checkpoint consistently: through the run library (its history, summary and weights) when the
 * library holds the run, otherwise the checkpoint alone.
 * @returns what was deleted: 'run' (library record and weights) or 'checkpoint'
 * @throws what the stores throw (IndexedDB errors); nothing is deleted from the library before its own delete runs.
 */
export async function deleteRunWeights(
  library: Pick<RunLibrary, 'meta' | 'delete'>,
  checkpoints: Pick<CheckpointStore, 'remove'>,
  runId: string,
): Promise<'run' | 'checkpoint'> {
  if (await library.meta(runId)) {
    await library.delete(runId);
    return 'run';
  }
  await checkpoints.remove(runId);
  return 'checkpoint';
}
