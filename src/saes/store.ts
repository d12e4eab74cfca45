/**
 * An imported SAE as a run of the run library (src/runs/library.ts): a 'done' run marked `imported`, with no
 * curves, whose weights are a checkpoint (src/train/checkpoint.ts) in exactly the layout of a trained run's final
 * checkpoint (params in `state.params`, zero Adam moments, t = 0, scale 1 — the weights act on raw activations).
 * Every run-based view (open, export, compare, report, the feature dashboard) then reads it like a trained run.
 *
 * "Evaluate on dataset" scores it with the metric definitions of trained runs (src/sae/metrics.ts) on the same
 * held-out split (the last `heldOutFraction` of the rows; FINAL_SAMPLE_TOKENS of them at most) and records the
 * summary in the library. Everything is validated before the first write, so a refused file or dataset leaves
 * both stores as they were.
 */
import { ImportError } from '../data/errors';
import type { DatasetSource } from '../data/types';
import { datasetRefOf } from '../runs/dataset-ref';
import {
  approxBytes,
  emptyHistory,
  type ImportedRun,
  newRunMeta,
  type RunLibrary,
  type RunMeta,
} from '../runs/library';
import { archSpec } from '../sae/archs';
import { evalMetrics } from '../sae/metrics';
import type { SaeEngine, SaeParams, SaeShape, SaeState } from '../sae/types';
import { MAX_K } from '../sae/validate';
import { Batcher } from '../train/batcher';
import type { Checkpoint, CheckpointStore } from '../train/checkpoint';
import { collapseCapabilities, collapseChecks } from '../train/collapse';
import { DEFAULT_CONFIG, engineShape, type TrainConfig } from '../train/config';
import { decoderRowNorms, sortedFiringRates } from '../train/diagnostics';
import { FINAL_SAMPLE_TOKENS, type RunInfo, type RunSummary } from '../train/trainer';
import { type ImportedSae, readSaeFiles, SAE_FORMAT_LABEL, type SaeFile } from './readers';

/** Where imported runs are written. */
export interface SaeStoreDeps {
  library: Pick<RunLibrary, 'put' | 'get' | 'meta'>;
  checkpoints: CheckpointStore;
  /** Clock (ms since the epoch); default Date.now. */
  now?: () => number;
  /** Run id; default `import-<time>-<random>`. */
  newId?: () => string;
}

/** Adapter label of an imported run (it was trained elsewhere). */
export const IMPORTED_ADAPTER = 'imported (trained elsewhere)';

/** The config of an imported SAE: the defaults with its architecture, d_sae and k; no normalisation. */
export function importedConfig(sae: Pick<ImportedSae, 'architecture' | 'dSae' | 'k'>): TrainConfig {
  return { ...DEFAULT_CONFIG, architecture: sae.architecture, dSae: sae.dSae, k: sae.k, normalize: false };
}

function zerosLike(p: SaeParams): SaeParams {
  const out: SaeParams = {
    wEnc: new Float32Array(p.wEnc.length),
    wDec: new Float32Array(p.wDec.length),
    bEnc: new Float32Array(p.bEnc.length),
    bDec: new Float32Array(p.bDec.length),
  };
  if (p.threshold) out.threshold = new Float32Array(p.threshold.length);
  return out;
}

/**
 * Store an SAE read by src/saes/readers.ts as a run: checkpoint first, then the library entry (the checkpoint is
 * removed again when the library write fails, so a failure leaves nothing behind).
 * @throws ImportError when k exceeds the TopK kernels' limit; the stores' errors otherwise.
 */
export async function storeImportedSae(sae: ImportedSae, deps: SaeStoreDeps): Promise<RunMeta> {
  if (archSpec(sae.architecture).collapse.fixedK && sae.k > MAX_K)
    throw new ImportError(sae.files[0], `k = ${sae.k} exceeds the lab's TopK limit of ${MAX_K}`);
  const now = (deps.now ?? Date.now)();
  const id = deps.newId?.() ?? `import-${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const config = importedConfig(sae);
  const shape = engineShape(config, sae.dModel, sae.dSae);
  const state: SaeState = {
    params: sae.params,
    adamM: zerosLike(sae.params),
    adamV: zerosLike(sae.params),
    t: 0,
    stepsSinceFired: new Uint32Array(sae.dSae),
  };
  const cp: Checkpoint = {
    meta: {
      runId: id,
      datasetId: '',
      datasetName: '',
      config,
      dModel: sae.dModel,
      dSae: sae.dSae,
      step: 0,
      totalSteps: 0,
      tokens: 0,
      wallMs: 0,
      status: 'done',
      savedAt: now,
      adapter: IMPORTED_ADAPTER,
      scale: 1,
      lastEval: null,
    },
    data: { state, history: emptyHistory() },
  };
  const info: RunInfo = {
    runId: id,
    datasetId: '',
    datasetName: '',
    config,
    shape,
    deadWindowSteps: 1,
    scale: 1,
    startStep: 0,
    totalSteps: 0,
    trainRows: 0,
    heldOutRows: 0,
    adapter: IMPORTED_ADAPTER,
  };
  const imported: ImportedRun = {
    format: sae.format,
    files: sae.files,
    modelName: sae.modelName,
    hookName: sae.hookName,
    notes: sae.notes,
  };
  const meta = newRunMeta({
    id,
    name: sae.name.slice(0, 200),
    createdAt: now,
    finishedAt: now,
    status: 'done',
    config,
    info,
    dataset: null,
    steps: 0,
    totalSteps: 0,
    weightsBytes: approxBytes(cp.data.state) + approxBytes(cp.meta),
    imported,
  });
  await deps.checkpoints.save(cp);
  try {
    await deps.library.put(meta, { history: emptyHistory(), summary: null });
  } catch (e) {
    await deps.checkpoints.remove(id).catch(() => {});
    throw e;
  }
  return meta;
}

/**
 * Read dropped / picked files (format recognised from the names) and store the SAE as a run.
 * @throws ImportError naming the file and the problem; nothing is written then.
 */
export async function importSaeFiles(files: SaeFile[], deps: SaeStoreDeps): Promise<RunMeta> {
  return storeImportedSae(await readSaeFiles(files), deps);
}

/** The result of evaluating an imported SAE on a dataset. */
export interface ImportedEvaluation {
  meta: RunMeta;
  summary: RunSummary;
  /** The run's info with the dataset's split (for the patched-CE evaluator). */
  info: RunInfo;
  params: SaeParams;
}

/**
 * Held-out metrics of imported run `runId` on `source`, recorded in the library (meta scalars, summary, dataset
 * reference) and in the checkpoint's meta (dataset id and name, so run-based views find the dataset).
 * @param createEngine makes an engine of the shape holding the params (the worker's GPU or CPU engine)
 * @throws ImportError when the SAE's d_in differs from the dataset's d_model (naming the SAE's file); Error when
 *   the run is not an imported run or its checkpoint is gone. Nothing is written when it throws before evaluating.
 */
export async function evaluateImportedRun(
  runId: string,
  source: DatasetSource,
  deps: SaeStoreDeps & { createEngine: (shape: SaeShape, params: SaeParams) => Promise<SaeEngine> },
): Promise<ImportedEvaluation> {
  const rec = await deps.library.get(runId);
  if (!rec?.meta.imported) throw new Error(`Run "${runId}" is not an imported SAE.`);
  const cp = await deps.checkpoints.load(runId);
  if (!cp) throw new Error(`The weights of "${rec.meta.name}" are gone (no checkpoint).`);
  const m = source.manifest;
  const dIn = cp.meta.dModel;
  if (m.dModel !== dIn)
    throw new ImportError(
      rec.meta.imported.files[0] ?? rec.meta.name,
      `d_in = ${dIn} but dataset "${m.name}" has d_model = ${m.dModel}; evaluate it on activations of width ${dIn}`,
    );
  const config: TrainConfig = { ...DEFAULT_CONFIG, ...cp.meta.config, normalize: false };
  const shape = engineShape(config, dIn, cp.meta.dSae);
  const batcher = new Batcher({
    source,
    batchSize: 1,
    heldOutFraction: config.heldOutFraction,
    seed: config.seed,
    normalize: false,
  });
  const sample = await batcher.heldOut(Math.max(config.evalTokens, FINAL_SAMPLE_TOKENS));
  const params = cp.data.state.params;
  const engine = await deps.createEngine(shape, params);
  let stats: Awaited<ReturnType<SaeEngine['evaluate']>>;
  try {
    stats = await engine.evaluate(sample.x, sample.rows);
  } finally {
    engine.destroy();
  }
  const heldOut = evalMetrics(stats, dIn);
  const meanThreshold = params.threshold
    ? params.threshold.reduce((a, b) => a + b, 0) / params.threshold.length
    : null;
  const summary: RunSummary = {
    runId,
    steps: 0,
    totalSteps: 0,
    stoppedEarly: false,
    wallMs: 0,
    tokens: 0,
    tokensPerSec: 0,
    dModel: dIn,
    dSae: shape.dSae,
    k: shape.k,
    architecture: config.architecture,
    meanThreshold,
    lastTrain: null,
    heldOut,
    sampleTokens: sample.rows,
    deadInWindow: 0,
    deadWindowSteps: 0,
    deadWindowTokens: 0,
    deadInSample: Math.round(heldOut.deadFraction * shape.dSae),
    firingRates: sortedFiringRates(stats.fireCounts, sample.rows),
    decoderRowNorms: decoderRowNorms(params.wDec, shape.dSae, dIn),
    scale: 1,
    warnings: collapseChecks(
      {
        l0: heldOut.l0,
        deadFraction: heldOut.deadFraction,
        explainedVariance: heldOut.explainedVariance,
        k: shape.k,
        meanThreshold,
      },
      collapseCapabilities(config.architecture),
    ),
  };
  const info: RunInfo = {
    ...rec.meta.info,
    datasetId: m.id,
    datasetName: m.name,
    trainRows: batcher.trainRows,
    heldOutRows: batcher.heldOutRows,
  };
  const meta: RunMeta = {
    ...rec.meta,
    info,
    dataset: datasetRefOf(m),
    heldOutEv: heldOut.explainedVariance,
    fvu: heldOut.fvu,
    l0: heldOut.l0,
    deadFraction: heldOut.deadFraction,
    ceLossScore: null,
  };
  await deps.checkpoints.save({
    meta: { ...cp.meta, datasetId: m.id, datasetName: m.name, lastEval: { step: 0, ...heldOut } },
    data: cp.data,
  });
  await deps.library.put(meta, { history: rec.data.history, summary });
  return { meta, summary, info, params };
}

/** One line for the page after an import: what was read and as which architecture. */
export function importedMessage(meta: RunMeta): string {
  const im = meta.imported;
  const fmt = im ? (SAE_FORMAT_LABEL[im.format as keyof typeof SAE_FORMAT_LABEL] ?? im.format) : '';
  const notes = im?.notes.length ? ` (${im.notes.join('; ')})` : '';
  return (
    `Imported "${meta.name}": ${fmt} SAE read as ${archSpec(meta.config.architecture).label}, ` +
    `d_in ${meta.info.shape.dModel}, d_sae ${meta.info.shape.dSae}${notes}. Evaluate it on a dataset of d_model ` +
    `${meta.info.shape.dModel}.`
  );
}
