/**
 * The lab worker's glue to the run library: one {@link RunRecorder} per run, with the dataset's reference.
 */
import { datasetStore } from '../data/store';
import type { CheckpointStore } from '../train/checkpoint';
import type { TrainEvent } from '../train/trainer';
import type { LabEventListener } from '../worker/api';
import { datasetRefOf } from './dataset-ref';
import { RunLibrary } from './library';
import { RunRecorder } from './recorder';

/**
 * A function that records one run's events, with `flushed()` resolving once every write queued so far is stored
 * and `onBehaviour` taking the run's final patched-CE point.
 * The dataset reference is taken from the stored manifest now (null when it has no fingerprint). A library failure
 * is reported to the UI as a 'library-error' event.
 */
export async function recorderFor(
  checkpoints: CheckpointStore,
  datasetId: string,
  listener: LabEventListener,
): Promise<((e: TrainEvent) => void) & Pick<RunRecorder, 'flushed' | 'onBehaviour'>> {
  const m = await datasetStore()
    .get(datasetId)
    .catch(() => undefined);
  const rec = new RunRecorder({
    library: new RunLibrary(checkpoints),
    checkpoints,
    dataset: m ? datasetRefOf(m) : null,
    onError: (message) => listener({ type: 'library-error', message }),
  });
  return Object.assign((e: TrainEvent) => rec.onEvent(e), {
    flushed: () => rec.flushed(),
    onBehaviour: (p: Parameters<RunRecorder['onBehaviour']>[0]) => rec.onBehaviour(p),
  });
}
