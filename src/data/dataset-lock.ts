/**
 * Datasets in use are locked: a run holds a shared Web Lock (navigator.locks) on its dataset for its whole life
 * (and an exclusive lock named after the run, so another page can tell a live run from an interrupted one);
 * deleting a dataset or adding files to it takes the dataset's lock exclusively and refuses at once when a run
 * holds it: "dataset X is being used by a run (…)". Where the Web Locks API is missing, nothing is locked.
 */

/** Lock name of dataset `id`. */
export function datasetLockName(id: string): string {
  return `sae-lab-dataset-use:${id}`;
}

/** Lock name of run `runId` (held exclusively while the run lives in some page). */
export function runLockName(runId: string): string {
  return `sae-lab-run:${runId}`;
}

function locks(): LockManager | undefined {
  return (globalThis.navigator as Navigator | undefined)?.locks;
}

/** Thrown when a dataset cannot be changed because a run uses it. */
export class DatasetInUseError extends Error {
  constructor(name: string) {
    super(
      `dataset "${name}" is being used by a run (in this or another tab); stop that run, or wait for it to end`,
    );
    this.name = 'DatasetInUseError';
  }
}

/**
 * Hold the locks of a run on `datasetId` until `until` settles. Resolves once both are held.
 * @throws DatasetInUseError when the dataset is being changed (deleted, files added) right now.
 */
export async function holdForRun(
  datasetId: string,
  datasetName: string,
  runId: string,
  until: Promise<unknown>,
): Promise<void> {
  const lm = locks();
  if (!lm) return;
  const settled = until.then(
    () => undefined,
    () => undefined,
  );
  await new Promise<void>((resolve, reject) => {
    void lm
      .request(datasetLockName(datasetId), { mode: 'shared', ifAvailable: true }, (lock) => {
        if (!lock) {
          reject(new Error(`dataset "${datasetName}" is being changed (deleted or extended) in another tab`));
          return undefined;
        }
        void lm.request(runLockName(runId), { mode: 'exclusive' }, () => {
          resolve();
          return settled;
        });
        return settled;
      })
      .catch(reject);
  });
}

/**
 * Run `fn` while holding dataset `id`'s lock exclusively (no run can start on it meanwhile).
 * @throws DatasetInUseError at once when a run holds the dataset.
 */
export async function withDatasetExclusive<T>(id: string, name: string, fn: () => Promise<T>): Promise<T> {
  const lm = locks();
  if (!lm) return fn();
  return lm.request(datasetLockName(id), { mode: 'exclusive', ifAvailable: true }, async (lock) => {
    if (!lock) throw new DatasetInUseError(name);
    return fn();
  }) as Promise<T>;
}

/** Run ids whose run lock is held right now (by any page of this origin); empty without Web Locks. */
export async function liveRunIds(): Promise<Set<string>> {
  const lm = locks();
  if (!lm) return new Set();
  const q = await lm.query();
  const prefix = runLockName('');
  return new Set(
    (q.held ?? []).flatMap((l) => (l.name?.startsWith(prefix) ? [l.name.slice(prefix.length)] : [])),
  );
}
