/**
 * The lab worker's glue for imported SAEs (src/worker/lab-worker.ts calls these two functions): import files into
 * the run library and evaluate an imported run on a stored dataset — held-out metrics with the worker's engine,
 * then patched CE through the same behaviour evaluator as trained runs (src/worker/behaviour-tap.ts) when the
 * dataset's model and hook are known; its CE-loss score goes into the run's meta.
 */
import { openDataset } from '../data/store';
import { RunLibrary, type RunMeta } from '../runs/library';
import type { SaeEngine, SaeParams, SaeShape } from '../sae/types';
import type { CheckpointStore } from '../train/checkpoint';
import type { RunSummary } from '../train/trainer';
import type { LabEventListener } from '../worker/api';
import { withBehaviour } from '../worker/behaviour-tap';
import type { SaeFile } from './readers';
import { evaluateImportedRun, importedMessage, importSaeFiles } from './store';

/**
 * Read `files` (format recognised from the names) and store the SAE as a run.
 * @returns the run's meta and a one-line success message
 * @throws ImportError naming the file and the problem (nothing stored)
 */
export async function importSaeInLab(
  files: SaeFile[],
  checkpoints: CheckpointStore,
): Promise<{ meta: RunMeta; message: string }> {
  const meta = await importSaeFiles(files, { library: new RunLibrary(checkpoints), checkpoints });
  return { meta, message: importedMessage(meta) };
}

/**
 * Evaluate imported run `runId` on stored dataset `datasetId` and record the result; when the dataset's model is
 * known, the final patched-CE point follows on `onEvent` (a 'behaviour' event) and is recorded as the run's
 * CE-loss score, or a 'behaviour-error' event says why it failed.
 * @throws ImportError when d_in ≠ the dataset's d_model; Error when the dataset or run is missing.
 */
export async function evaluateImportedInLab(
  runId: string,
  datasetId: string,
  checkpoints: CheckpointStore,
  createEngine: (shape: SaeShape, params: SaeParams) => Promise<SaeEngine>,
  onEvent?: LabEventListener,
): Promise<RunSummary> {
  const source = await openDataset(datasetId);
  const library = new RunLibrary(checkpoints);
  const r = await evaluateImportedRun(runId, source, { library, checkpoints, createEngine });
  const recordCe: LabEventListener = (e) => {
    if (e.type === 'behaviour' && e.point.final) {
      const v = e.point.metrics.ceLossScore.value;
      void library
        .meta(runId)
        .then((m) => m && library.put({ ...m, ceLossScore: Number.isFinite(v) ? v : null }))
        .then(() => onEvent?.(e));
      return;
    }
    onEvent?.(e);
  };
  const tap = withBehaviour(recordCe, source.manifest, async () => r.params);
  tap({ type: 'started', run: r.info });
  tap({ type: 'summary', summary: r.summary });
  return r.summary;
}

/**
 * The model and hook names an imported run's files gave (cfg.json `model_name` / `hook_name`), as export metadata
 * (src/export/saelens.ts reads these keys), so that exporting it again keeps them; undefined for other runs.
 */
export async function importedExportNames(
  runId: string,
  checkpoints: CheckpointStore,
): Promise<Record<string, string> | undefined> {
  const im = (await new RunLibrary(checkpoints).meta(runId).catch(() => undefined))?.imported;
  if (!im) return undefined;
  const out: Record<string, string> = {};
  if (im.modelName) out.model_name = im.modelName;
  if (im.hookName) out.hook_name = im.hookName;
  return out;
}
