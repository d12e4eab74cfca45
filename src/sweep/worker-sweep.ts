/**
 * The lab worker's sweep side (src/worker/lab-worker.ts spreads {@link sweepApi} into its LabApi): plan a grid
 * (memory plan and an ETA from a short probe of each run's shape), start it, pause / resume / stop it, and resume
 * an unfinished sweep after a reload. Each member is recorded in the run library by its own recorder (the worker's
 * `memberDeps`), so every SAE of a sweep is an ordinary run there; its final patched-CE point (when the dataset's
 * model is known) fills the library's CE-loss score.
 */
import { holdForRun } from '../data/dataset-lock';
import { datasetStore, openDataset } from '../data/store';
import type { BehaviourPoint } from '../lm/behaviour';
import { datasetRefOf } from '../runs/dataset-ref';
import { archSpec } from '../sae/archs';
import type { SaeParams } from '../sae/types';
import type { CheckpointStore } from '../train/checkpoint';
import type { TrainConfig } from '../train/config';
import type { TrainerDeps } from '../train/trainer';
import { errorText } from '../util/error-text';
import type { LabEvent, LabEventListener } from '../worker/api';
import { SharedEvaluator, withBehaviour } from '../worker/behaviour-tap';
import { expandGrid, type SweepGrid, sparsityValue } from './grid';
import { cpuLimits, gpuLimits, type MemoryLimits, planGroups, saeMemory } from './memory';
import { newSweepId, type SweepRunner as Runner, SweepRunner, type SweepSpec } from './runner';
import { isUnfinished, listSweeps, loadSweep, type SweepRecord, type SweepStatus, saveSweep } from './store';

/** What the page hears about a sweep. */
export type SweepEvent =
  /** An event of member `member` (its run's events, as a single run sends them). */
  | { type: 'member'; member: number; event: LabEvent }
  | { type: 'group'; group: number; members: number[] }
  | { type: 'sweep-status'; status: SweepStatus; record: SweepRecord };

/** Callback receiving {@link SweepEvent}s (pass it wrapped in `Comlink.proxy`). */
export type SweepListener = (e: SweepEvent) => void;

/** The plan shown before a sweep starts. */
export interface SweepPlan {
  ok: boolean;
  /** Runs in the grid. */
  size: number;
  /** One label per run, grid order. */
  labels: string[];
  /** The memory plan's line, or the refusal with its numbers. */
  message: string;
  /** Member indices per group (empty when refused). */
  groups: number[][];
  /** Estimated training time, ms (Σ probe ms/step × steps), null when refused. */
  etaMs: number | null;
  /** Engine the probe ran on. */
  engine: string;
}

/** The sweep part of the lab worker's API. */
export interface SweepApi {
  /**
   * Expand and check a grid on dataset `datasetId`: memory per SAE against the engine's limits (groups or a
   * refusal), and an ETA from a 3-step probe of each distinct shape.
   * @throws Error naming the grid entry for an invalid grid, or when a run is active.
   */
  planSweep(base: TrainConfig, grid: SweepGrid, datasetId: string): Promise<SweepPlan>;
  /**
   * Start a sweep; its events go to `onEvent`. Resolves once it is stored and its first group started.
   * @throws Error when a run or sweep is active, the grid is refused or invalid, or the dataset is missing.
   */
  startSweep(
    base: TrainConfig,
    grid: SweepGrid,
    datasetId: string,
    onEvent: SweepListener,
  ): Promise<SweepRecord>;
  /** Continue a stored unfinished sweep (after a reload or crash). @throws Error when busy or it is unknown. */
  resumeSweep(sweepId: string, onEvent: SweepListener): Promise<SweepRecord>;
  /** Pause every run of the active sweep; resolves once their checkpoints are saved. */
  pauseSweep(): Promise<void>;
  /** Continue the paused sweep. */
  continueSweep(): Promise<void>;
  /** Stop the active sweep (each run of its group ends with its summary; later groups do not start). */
  stopSweep(): Promise<void>;
  /** Stored sweeps, newest first. */
  listSweeps(): Promise<SweepRecord[]>;
}

/** What the sweep side needs from the lab worker. */
export interface SweepHost {
  /** True while a single run is active. */
  busy(): boolean;
  /**
   * The worker's deps for one run recorded in the library (engine factory, checkpoints, the recorder in onEvent;
   * `record.onBehaviour` takes the run's final patched-CE point).
   */
  memberDeps(
    listener: LabEventListener,
    datasetId: string,
  ): Promise<TrainerDeps & { record: { onBehaviour(p: BehaviourPoint): void; flushed(): Promise<void> } }>;
  checkpoints: CheckpointStore;
  /** Engine the worker trains on and, on the GPU, its granted limits. */
  limits(): Promise<MemoryLimits>;
  /** ms per step of a config (the worker's probeStepMs). */
  probeStepMs(config: TrainConfig, dModel: number): Promise<{ msPerStep: number; engine: string }>;
}

/** Short label of a run: "TopK d_sae 512 k 8 lr 0.001". */
function label(c: TrainConfig): string {
  const v = sparsityValue(c);
  const axis = archSpec(c.architecture).sparsityCoefficient ? 'λ' : 'k';
  return `${archSpec(c.architecture).label} d_sae ${c.dSae} ${v === null ? '' : `${axis} ${v} `}lr ${c.lr}`;
}

let active: {
  runner: Runner;
  record: SweepRecord;
  done: Promise<void>;
  /** Store the record with `status` and tell the page. */
  setStatus(status: SweepStatus): Promise<void>;
} | null = null;

/** True while a sweep trains or waits paused in this worker. */
export function sweepBusy(): boolean {
  return active?.runner.active ?? false;
}

/** The sweep API over the worker's `host`. */
export function sweepApi(host: SweepHost): SweepApi {
  const plan = async (base: TrainConfig, grid: SweepGrid, datasetId: string, probe: boolean) => {
    const m = (await openDataset(datasetId)).manifest;
    const members = expandGrid(base, grid, { dModel: m.dModel, nTokens: m.nTokens });
    const labels = members.map((x) => label(x.config));
    const mem = members.map((x) => saeMemory(x.config, m.dModel, x.config.dSae ?? 0));
    const limits = await host.limits();
    const p = planGroups(mem, labels, limits);
    let etaMs: number | null = null;
    let engine = limits.engine;
    if (p.ok && probe) {
      etaMs = 0;
      const cache = new Map<string, number>();
      for (const x of members) {
        const c = x.config;
        const key = `${c.architecture}/${c.dSae}/${c.k}/${c.batchSize}/${c.auxk}`;
        let ms = cache.get(key);
        if (ms === undefined) {
          const r = await host.probeStepMs(c, m.dModel);
          ms = r.msPerStep;
          engine = r.engine as typeof engine;
          cache.set(key, ms);
        }
        etaMs += ms * c.steps;
      }
    }
    return { m, members, labels, p, etaMs, engine };
  };

  const launch = async (record: SweepRecord, onEvent: SweepListener): Promise<SweepRecord> => {
    const source = await openDataset(record.datasetId).catch(() => {
      throw new Error(
        `the sweep's dataset "${record.datasetName}" is no longer in this browser (deleted?); import it again to resume`,
      );
    });
    // One recorder (and one CE tap) per member: every SAE is a run of the library. The taps share ONE language-
    // model Worker, held while the sweep lives (released after the last member's final point).
    const lm = new SharedEvaluator();
    lm.hold();
    const perMember = await Promise.all(
      record.members.map(async ({ runId }, member) => {
        const toPage: LabEventListener = (event) => onEvent({ type: 'member', member, event });
        let deps: Awaited<ReturnType<SweepHost['memberDeps']>> | null = null;
        const finalParams = async (): Promise<SaeParams> => {
          const cp = await host.checkpoints.load(runId);
          if (!cp) throw new Error(`no checkpoint of run ${runId} for its patched-CE evaluation`);
          return cp.data.state.params;
        };
        // Only the final patched-CE point (live points for N runs would crowd the language model's worker).
        const tapped = withBehaviour(
          (e) => {
            if (e.type === 'behaviour') deps?.record.onBehaviour(e.point);
            toPage(e);
          },
          source.manifest,
          finalParams,
          () => lm.lease(),
        );
        deps = await host.memberDeps((e) => (e.type === 'eval' ? toPage(e) : tapped(e)), record.datasetId);
        return deps;
      }),
    );
    const base = perMember[0];
    const runner = new SweepRunner(record, source, {
      createEngine: base.createEngine,
      checkpoints: host.checkpoints,
      adapter: base.adapter,
      onEvent: (member, e) => perMember[member].onEvent(e),
      onGroup: (group, members) => onEvent({ type: 'group', group, members }),
    });
    const setStatus = async (status: SweepStatus, error?: string) => {
      record.status = status;
      record.stages = runner.stages;
      if (error) record.error = error;
      await saveSweep(record);
      onEvent({ type: 'sweep-status', status, record: { ...record } });
    };
    await setStatus('running');
    // The dataset stays locked while the sweep lives (src/data/dataset-lock.ts), as for a single run.
    let release: () => void = () => {};
    await holdForRun(
      record.datasetId,
      record.datasetName,
      record.id,
      new Promise<void>((res) => {
        release = res;
      }),
    );
    const done = runner
      .run()
      .then(() => setStatus(runner.status === 'stopped' ? 'stopped' : 'done'))
      .catch((e) => setStatus('error', errorText(e)))
      .finally(async () => {
        release();
        // A member's summary reaches its CE tap once the library holds it (the worker's deps): let go of the shared
        // language model after that, so every member's final point uses the one Worker.
        await Promise.all(perMember.map((d) => d.record.flushed())).catch(() => undefined);
        lm.release();
      });
    active = { runner, record, done, setStatus };
    return { ...record };
  };

  const guard = () => {
    if (host.busy()) throw new Error('A run is active: stop it before starting a sweep.');
    if (sweepBusy()) throw new Error('A sweep is already active: stop it before starting another.');
  };

  return {
    async planSweep(base, grid, datasetId) {
      guard();
      const r = await plan(base, grid, datasetId, true);
      return {
        ok: r.p.ok,
        size: r.members.length,
        labels: r.labels,
        message: r.p.message,
        groups: r.p.ok ? r.p.groups : [],
        etaMs: r.etaMs,
        engine: r.engine,
      };
    },

    async startSweep(base, grid, datasetId, onEvent) {
      guard();
      const r = await plan(base, grid, datasetId, false);
      if (!r.p.ok) throw new Error(r.p.message);
      const id = newSweepId();
      const stored = await datasetStore()
        .get(datasetId)
        .catch(() => undefined);
      const spec: SweepSpec = {
        id,
        name: `sweep ${r.members.length} × ${r.m.name} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
        createdAt: Date.now(),
        datasetId,
        datasetName: r.m.name,
        grid,
        members: r.members.map((x, i) => ({ runId: `${id}-${i}`, config: x.config })),
        groups: r.p.groups,
      };
      const record: SweepRecord = {
        ...spec,
        status: 'running',
        planMessage: r.p.message,
        dataset: stored ? datasetRefOf(stored) : null,
        stages: null,
      };
      return launch(record, onEvent);
    },

    async resumeSweep(sweepId, onEvent) {
      guard();
      const record = await loadSweep(sweepId);
      if (!record) throw new Error(`No stored sweep "${sweepId}".`);
      if (!isUnfinished(record))
        throw new Error(`Sweep "${record.name}" is ${record.status}; nothing to resume.`);
      return launch(record, onEvent);
    },

    async pauseSweep() {
      if (!active) return;
      await active.runner.pause();
      // The page's Resume button follows the sweep's status event.
      await active.setStatus('paused');
    },

    async continueSweep() {
      if (!active) return;
      active.runner.resume();
      await active.setStatus('running');
    },

    async stopSweep() {
      if (!active) return;
      active.runner.stop();
      await active.done;
    },

    listSweeps,
  };
}

/** Limits of the engine in use: the GPU adapter's granted buffer limits, or the CPU engine's. */
export function limitsFor(
  engine: 'gpu' | 'cpu',
  gpu?: { maxBufferSize: number; maxStorageBufferBindingSize: number },
) {
  return engine === 'gpu' && gpu ? gpuLimits(gpu) : cpuLimits();
}
