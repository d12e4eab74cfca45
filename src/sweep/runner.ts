/**
 * The sweep runner: the runs of a sweep, group by group (src/sweep/memory.ts), each group's runs trained at the
 * same time by ordinary {@link Trainer}s that take their batches from ONE {@link SharedBatchStream}. Every run
 * is therefore exactly its single run (same trainer, same config, same batches in the same order): same checkpoints,
 * same events, same metric history bit for bit — which is what makes each SAE of a sweep a normal run of the
 * library (recorded, exported, compared and shared like any other).
 *
 * Life cycle: pause / resume / stop act on every run of the current group (each saves its checkpoint on pause, as
 * a single run does); a stopped sweep starts no further group. {@link SweepRunner.run} is also how a sweep resumes
 * after a reload or crash: a member whose checkpoint is done or stopped is skipped, one with a running or paused
 * checkpoint continues from it, one without any starts fresh.
 */
import type { DatasetSource } from '../data/types';
import type { SaeEngine } from '../sae/types';
import type { RunStatus, RunSummary, TrainEvent, TrainerDeps } from '../train/trainer';
import { Trainer } from '../train/trainer';
import { type CoalescerOptions, GpuGroupCoalescer, type GpuSweepStages } from './gpu-coalesce';
import type { SweepGrid } from './grid';
import { SharedBatchStream, type StreamStats } from './stream';

/** A sweep as stored and shared: its grid, its runs (with their run ids) and its groups. Plain data. */
export interface SweepSpec {
  /** Stable id, e.g. "sweep-m1x2-abc". */
  id: string;
  /** Display name. */
  name: string;
  /** ms since the epoch. */
  createdAt: number;
  datasetId: string;
  datasetName: string;
  grid: SweepGrid;
  /** One entry per SAE, in grid order: its run id in the library and its validated config. */
  members: { runId: string; config: import('../train/config').TrainConfig }[];
  /** Member indices trained together, group after group (src/sweep/memory.ts planGroups). */
  groups: number[][];
}

/** Per-stage wall time of a sweep, ms (the bench's breakdown). */
export interface SweepStages extends StreamStats {
  /** Time inside the engines' training steps, summed over the SAEs. */
  stepMs: number;
  /** Time inside the engines' held-out evaluations, summed over the SAEs. */
  evalMs: number;
  /** Wall time of the whole sweep (all groups). */
  wallMs: number;
  /**
   * GPU engine only (absent on the CPU engine): the groups' shared uploads and submissions, summed over the groups
   * (src/sweep/gpu-coalesce.ts): `uploads` training batches uploaded, each feeding `memberSteps / uploads` SAEs on
   * average; `submissions` of which `evalSubmissions` were held-out chunks; stepMs and evalMs above are then the
   * groups' (one call for all members), not summed per SAE.
   */
  gpu?: GpuSweepStages;
}

/** What the runner needs from its host: the trainer's deps minus the per-run parts, and per-member events. */
export interface SweepDeps extends Omit<TrainerDeps, 'onEvent' | 'batches'> {
  /** GPU engine groups: the step coalescer's options (tests shorten its fallback). */
  coalesce?: CoalescerOptions;
  /** Events of member `member` (its trainer's events, unchanged). Must not throw. */
  onEvent(member: number, e: TrainEvent): void;
  /** A group starts (0-based), with its member indices. */
  onGroup?(group: number, members: number[]): void;
}

/** Runs a {@link SweepSpec}. One instance per sweep session (start or resume). */
export class SweepRunner {
  readonly spec: SweepSpec;
  private readonly source: DatasetSource;
  private readonly deps: SweepDeps;
  private readonly now: () => number;
  private trainers: Trainer[] = [];
  private pauseRequested = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;
  private running = false;
  private readonly stageTotals: SweepStages = {
    batchesRead: 0,
    batchesServed: 0,
    heldOutRead: 0,
    heldOutServed: 0,
    readMs: 0,
    stepMs: 0,
    evalMs: 0,
    wallMs: 0,
  };
  private streams: SharedBatchStream[] = [];
  /** Each group's GPU coalescing (stages only when its members shared steps). */
  private coalescers: GpuGroupCoalescer[] = [];
  /** The current group's stream. */
  private stream: SharedBatchStream | null = null;

  constructor(spec: SweepSpec, source: DatasetSource, deps: SweepDeps) {
    if (source.manifest.id !== spec.datasetId) {
      throw new Error(
        `Sweep "${spec.name}" trains on dataset "${spec.datasetName}"; "${source.manifest.name}" does not match.`,
      );
    }
    this.spec = spec;
    this.source = source;
    this.deps = deps;
    this.now = deps.now ?? (() => performance.now());
  }

  /** True while a group trains or waits paused. */
  get active(): boolean {
    return this.running;
  }

  /** Per-stage times so far (the stream's reads of every group, engine step and eval time). */
  get stages(): SweepStages {
    const s = { ...this.stageTotals };
    for (const st of this.streams) {
      s.batchesRead += st.stats.batchesRead;
      s.batchesServed += st.stats.batchesServed;
      s.heldOutRead += st.stats.heldOutRead;
      s.heldOutServed += st.stats.heldOutServed;
      s.readMs += st.stats.readMs;
    }
    for (const c of this.coalescers) {
      const g = c.stages;
      if (!g) continue;
      s.stepMs += g.stepMs;
      s.evalMs += g.evalMs;
      s.gpu = s.gpu ? sumStages(s.gpu, g) : { ...g };
    }
    return s;
  }

  /** Status of the sweep's current group as one word. */
  get status(): RunStatus {
    if (this.trainers.some((t) => t.currentStatus === 'paused') || (this.pauseRequested && this.running))
      return 'paused';
    if (this.running) return 'running';
    return this.stopRequested ? 'stopped' : 'done';
  }

  /** Pause every run of the current group after its step; resolves once their pause checkpoints are saved. */
  async pause(): Promise<void> {
    this.pauseRequested = true;
    // A run waiting for a slower one (lockstep) must reach its own pause.
    this.stream?.setLockstep(false);
    await Promise.all(this.trainers.map((t) => t.pause()));
  }

  /** Continue a paused sweep. */
  resume(): void {
    this.pauseRequested = false;
    this.stream?.setLockstep(true);
    for (const t of this.trainers) t.resume();
    this.wake?.();
  }

  /** End every run of the current group after its step (each then evaluates and records its summary); no later group starts. */
  stop(): void {
    this.stopRequested = true;
    this.stream?.setLockstep(false);
    for (const t of this.trainers) t.stop();
    this.wake?.();
  }

  /** The trainers of the current group (their info and status). */
  get current(): readonly Trainer[] {
    return this.trainers;
  }

  /** Time the engine's step and evaluate calls into the stage totals. */
  private timed(engine: SaeEngine): SaeEngine {
    const step = engine.step.bind(engine);
    const evaluate = engine.evaluate.bind(engine);
    engine.step = async (x, hyper, readStats) => {
      const t0 = this.now();
      try {
        return await step(x, hyper, readStats);
      } finally {
        this.stageTotals.stepMs += this.now() - t0;
      }
    };
    engine.evaluate = async (x, rows) => {
      const t0 = this.now();
      try {
        return await evaluate(x, rows);
      } finally {
        this.stageTotals.evalMs += this.now() - t0;
      }
    };
    return engine;
  }

  /**
   * Train every group, in order, to its end (or until stopped). Members already done or stopped (checkpoint
   * status) are skipped; members with a running or paused checkpoint resume from it.
   * @returns each member's summary (null: skipped, not reached, or ended in an error — its events said which)
   * @throws Error when the sweep is already running, or a run cannot be set up (engine, dataset)
   */
  async run(): Promise<(RunSummary | null)[]> {
    if (this.running) throw new Error(`Sweep "${this.spec.name}" is already running.`);
    this.running = true;
    const t0 = this.now();
    const out: (RunSummary | null)[] = this.spec.members.map(() => null);
    try {
      for (let g = 0; g < this.spec.groups.length && !this.stopRequested; g++) {
        while (this.pauseRequested && !this.stopRequested) {
          await new Promise<void>((res) => {
            this.wake = res;
          });
          this.wake = null;
        }
        if (this.stopRequested) break;
        const members = this.spec.groups[g];
        this.deps.onGroup?.(g, members);
        const summaries = await this.runGroup(members);
        members.forEach((m, j) => {
          out[m] = summaries[j];
        });
      }
    } finally {
      this.running = false;
      this.stageTotals.wallMs += this.now() - t0;
    }
    return out;
  }

  private async runGroup(members: number[]): Promise<(RunSummary | null)[]> {
    const views: { close(): void }[] = [];
    let stream: SharedBatchStream | null = null;
    const trainers: { member: number; trainer: Trainer }[] = [];
    // GPU engines: one upload and one submission per step for the group (other engines are used as they are).
    const coalesce = new GpuGroupCoalescer(this.deps.coalesce);
    this.coalescers.push(coalesce);
    try {
      for (const member of members) {
        const { runId, config } = this.spec.members[member];
        const cp = await this.deps.checkpoints.load(runId);
        if (cp && (cp.meta.status === 'done' || cp.meta.status === 'stopped')) continue;
        const deps: TrainerDeps = {
          ...this.deps,
          createEngine: async (shape, init) => {
            const engine = await this.deps.createEngine(shape, init);
            return coalesce.wrap(member, engine) ?? this.timed(engine);
          },
          onEvent: (e) => {
            coalesce.onEvent(member, e);
            this.deps.onEvent(member, e);
          },
          batches: (options) => {
            stream ??= new SharedBatchStream(options, this.now);
            if (!stream.matches(options)) {
              throw new Error(
                `Sweep "${this.spec.name}": run ${member + 1} cuts different batches (batch size, seed, split or scaling differ from the sweep's).`,
              );
            }
            const v = stream.view();
            views.push(v);
            return v;
          },
        };
        const trainer = cp
          ? await Trainer.resume(cp, this.source, deps)
          : await Trainer.start(config, this.source, deps, runId);
        trainers.push({ member, trainer });
      }
      if (stream) {
        const st: SharedBatchStream = stream;
        this.streams.push(st);
        this.stream = st;
        if (this.pauseRequested || this.stopRequested) st.setLockstep(false);
      }
      this.trainers = trainers.map((t) => t.trainer);
      if (this.pauseRequested) for (const t of this.trainers) void t.pause();
      if (this.stopRequested) for (const t of this.trainers) t.stop();
      const results = await Promise.all(
        trainers.map(({ trainer }, j) => trainer.run().finally(() => views[j]?.close())),
      );
      return members.map((m) => {
        const j = trainers.findIndex((t) => t.member === m);
        return j >= 0 ? results[j] : null;
      });
    } finally {
      for (const { trainer } of trainers) trainer.dispose();
      coalesce.destroy();
      this.trainers = [];
      this.stream = null;
    }
  }
}

/** Field-wise sum of two groups' GPU stages. */
function sumStages(a: GpuSweepStages, b: GpuSweepStages): GpuSweepStages {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof GpuSweepStages)[]) out[k] += b[k];
  return out;
}

/** A new sweep id (time + random suffix). */
export function newSweepId(): string {
  return `sweep-${Date.now().toString(36)}-${Math.floor(Math.random() * 2 ** 32).toString(36)}`;
}
