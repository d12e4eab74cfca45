/**
 * The app's sweep on the GPU engine: the runs of a sweep group are ordinary {@link Trainer}s, each calling its own
 * engine's `step` and `evaluate`, yet every batch must be uploaded once and fed to all the group's SAEs in one
 * submission (src/sweep/gpu-group.ts). This module sits between the two: each member's trainer gets a stand-in
 * engine ({@link coalescedEngine}: the SaeEngine interface, everything but step / evaluate delegated to the real
 * engine); a step on a stand-in registers a request, and a {@link StepCoalescer} submits ONE group step for all
 * pending requests on the same batch array (the SharedBatchStream hands the same Float32Array object to every view
 * for batch i, so requests are grouped by identity), then resolves each with its member's stats. Evaluations of
 * the same held-out array are coalesced the same way.
 *
 * When a batch is submitted (its "flush"): as soon as no live member can still join it. Member m (live = its run
 * is running: not paused, finished, stopped or failed — the runner reports the run's status events) can still join
 * a step batch at step s when m's next step is ≤ s (it has not stepped past s yet), unless it already waits in
 * another batch at s; a member waiting on a batch of an earlier step, or evaluating before its step s, is waited
 * for (it will come: the batches it waits on never wait on this one, so there is no cycle). An evaluation batch
 * waits only for live members at the same step with no request of their own. So a member that is busy elsewhere
 * (saving a checkpoint, reading back stats) is waited for, one that is paused or done is not, and one resumed at
 * another checkpoint's step never holds the others (its steps go alone until it catches up). A fallback timer
 * ({@link CoalescerOptions.fallbackMs}, measured from the batch's last arrival) flushes a batch anyway, a backstop
 * only: it is not a few milliseconds, because a member's stats readback waits for the GPU to finish the whole group
 * step (seconds on a software adapter), and flushing without it would split the group for good.
 *
 * Grouping changes speed, never results: every member's step in a group is its single-run step bit for bit
 * (e2e/harness/checks/sweep-gpu.ts), so a flush of a subset, or of one member alone, is always correct. Flushes are
 * serialised (one group call at a time: the device's error scopes are a stack).
 */
import type { GpuSaeEngine } from '../gpu/sae-engine';
import type { EvalStats, SaeEngine, SaeState, StepHyper, StepStats } from '../sae/types';
import type { TrainEvent } from '../train/trainer';
import { type GpuGroupStages, GpuSweepGroup } from './gpu-group';

/** What the coalescer submits to: a {@link GpuSweepGroup} (or a stand-in in unit tests). Members are its indices. */
export interface CoalesceTarget {
  /** One step of members `members` on x, member members[j] with hypers[j]; stats in that order, or null. */
  stepMembers(
    x: Float32Array,
    members: readonly number[],
    hypers: readonly StepHyper[],
    readStats: boolean,
  ): Promise<StepStats[] | null>;
  /** Held-out evaluation of members `members` on x [rows, D]; EvalStats in that order. */
  evaluateMembers(x: Float32Array, rows: number, members: readonly number[]): Promise<EvalStats[]>;
}

/** Options of a {@link StepCoalescer}. */
export interface CoalescerOptions {
  /**
   * Backstop: a pending batch is flushed after this many ms without a new arrival even when the rule above says
   * wait. Default {@link DEFAULT_FALLBACK_MS}; Infinity turns it off.
   */
  fallbackMs?: number;
}

/** Default {@link CoalescerOptions.fallbackMs}, ms. */
export const DEFAULT_FALLBACK_MS = 2000;

/** What the coalescer did (added to a sweep's stage breakdown). */
export interface CoalescerStats {
  /** Step submissions made (one per group step, whatever the number of members in it). */
  stepFlushes: number;
  /** Evaluation submissions made (one shared evaluation each). */
  evalFlushes: number;
  /** Flushes forced by the fallback timer (0 when every wait was resolved by the rule). */
  fallbackFlushes: number;
}

interface Request {
  member: number;
  hyper: StepHyper | null;
  readStats: boolean;
  resolve: (v: StepStats | EvalStats | null) => void;
  reject: (e: unknown) => void;
}

interface Batch {
  kind: 'step' | 'eval';
  x: Float32Array;
  /** Eval rows (0 for steps). */
  rows: number;
  /** Step: the step index s of every request. Eval: the members' next step at their request. */
  positions: Set<number>;
  requests: Request[];
  /** True once taken off the pending list (submitted or queued for submission). */
  frozen: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

interface Member {
  live: boolean;
  /** Index of the member's next step request (= its engine's Adam step count t when it has no request). */
  next: number;
  /** The batch holding its request (pending or in flight), null when it has none. */
  batch: Batch | null;
}

/** Coalesces the step and evaluate calls of a group's members into shared submissions. */
export class StepCoalescer {
  private readonly target: CoalesceTarget;
  private readonly fallbackMs: number;
  private readonly members = new Map<number, Member>();
  private pending: Batch[] = [];
  /** Serialises flushes. */
  private chain: Promise<void> = Promise.resolve();
  readonly stats: CoalescerStats = { stepFlushes: 0, evalFlushes: 0, fallbackFlushes: 0 };

  constructor(target: CoalesceTarget, options: CoalescerOptions = {}) {
    this.target = target;
    this.fallbackMs = options.fallbackMs ?? DEFAULT_FALLBACK_MS;
  }

  private member(who: string, m: number): Member {
    const s = this.members.get(m);
    if (!s) throw new RangeError(`StepCoalescer.${who}: member ${m} has not joined`);
    return s;
  }

  /**
   * Register member `m` (the target's member index), not live, next step `position`.
   * @throws RangeError when it is registered already.
   */
  add(m: number, position = 0): void {
    if (this.members.has(m)) throw new RangeError(`StepCoalescer.add: member ${m} joined already`);
    this.members.set(m, { live: false, next: position, batch: null });
  }

  /** True while member `m` is registered (added and not left). */
  has(m: number): boolean {
    return this.members.has(m);
  }

  /** Member `m`'s run is running (true) or paused / finished / stopped / failed (false). */
  setLive(m: number, live: boolean): void {
    this.member('setLive', m).live = live;
    this.pump();
  }

  /** Member `m`'s next step is `position` (its state was replaced, e.g. resumed from a checkpoint at that step). */
  setPosition(m: number, position: number): void {
    this.member('setPosition', m).next = position;
    this.pump();
  }

  /** Member `m` leaves (its engine is destroyed); nobody waits for it any more. */
  leave(m: number): void {
    this.members.delete(m);
    this.pump();
  }

  /**
   * Member `m`'s step on x [B, D]: resolves, once its batch was submitted, to its sums (null when no request of the
   * batch asked for stats). @throws (rejects) with the error of that submission only; RangeError at once when the
   * member is unknown or has a request pending already.
   */
  step(m: number, x: Float32Array, hyper: StepHyper, readStats: boolean): Promise<StepStats | null> {
    const s = this.member('step', m);
    const position = s.next;
    const p = this.request(s, m, 'step', x, 0, position, hyper, readStats);
    s.next = position + 1;
    this.pump();
    return p as Promise<StepStats | null>;
  }

  /** Member `m`'s held-out evaluation of x [rows, D], shared with members evaluating the same array. */
  evaluate(m: number, x: Float32Array, rows: number): Promise<EvalStats> {
    const s = this.member('evaluate', m);
    const p = this.request(s, m, 'eval', x, rows, s.next, null, false);
    this.pump();
    return p as Promise<EvalStats>;
  }

  private request(
    s: Member,
    m: number,
    kind: Batch['kind'],
    x: Float32Array,
    rows: number,
    position: number,
    hyper: StepHyper | null,
    readStats: boolean,
  ): Promise<StepStats | EvalStats | null> {
    if (s.batch) throw new RangeError(`StepCoalescer.${kind}: member ${m} has a request pending already`);
    let batch = this.pending.find((b) => b.kind === kind && b.x === x && b.rows === rows);
    if (!batch) {
      batch = { kind, x, rows, positions: new Set(), requests: [], frozen: false, timer: null };
      this.pending.push(batch);
    }
    batch.positions.add(position);
    s.batch = batch;
    const b = batch;
    const out = new Promise<StepStats | EvalStats | null>((resolve, reject) => {
      b.requests.push({ member: m, hyper, readStats, resolve, reject });
    });
    this.arm(b);
    return out;
  }

  /** (Re)start a batch's fallback timer. */
  private arm(b: Batch): void {
    if (b.timer !== null) clearTimeout(b.timer);
    b.timer = null;
    if (!Number.isFinite(this.fallbackMs)) return;
    b.timer = setTimeout(() => {
      b.timer = null;
      if (b.frozen) return;
      this.stats.fallbackFlushes++;
      this.flush(b);
    }, this.fallbackMs);
  }

  /** True when no live member outside `b` can still join it (the rule in the module comment). */
  private ready(b: Batch): boolean {
    const s = Math.min(...b.positions);
    for (const m of this.members.values()) {
      if (!m.live || m.batch === b) continue;
      if (b.kind === 'eval') {
        if (m.batch === null && b.positions.has(m.next)) return false;
      } else if (m.batch?.kind === 'step') {
        if (Math.min(...m.batch.positions) < s) return false;
      } else if (m.next <= s) {
        return false;
      }
    }
    return true;
  }

  /** Flush every pending batch that is ready. */
  private pump(): void {
    for (const b of [...this.pending]) if (!b.frozen && this.ready(b)) this.flush(b);
  }

  /** Take `b` off the pending list and queue its submission. */
  private flush(b: Batch): void {
    b.frozen = true;
    if (b.timer !== null) clearTimeout(b.timer);
    b.timer = null;
    this.pending = this.pending.filter((p) => p !== b);
    this.chain = this.chain.then(() => this.submit(b));
  }

  private async submit(b: Batch): Promise<void> {
    const ids = b.requests.map((r) => r.member);
    let results: (StepStats | EvalStats)[] | null = null;
    let error: unknown = null;
    try {
      if (b.kind === 'step') {
        this.stats.stepFlushes++;
        const hypers = b.requests.map((r) => r.hyper as StepHyper);
        results = await this.target.stepMembers(
          b.x,
          ids,
          hypers,
          b.requests.some((r) => r.readStats),
        );
      } else {
        this.stats.evalFlushes++;
        results = await this.target.evaluateMembers(b.x, b.rows, ids);
      }
    } catch (e) {
      error = e;
    }
    for (const r of b.requests) {
      const s = this.members.get(r.member);
      if (s && s.batch === b) s.batch = null;
    }
    b.requests.forEach((r, j) => {
      if (error !== null) r.reject(error);
      else r.resolve(results ? results[j] : null);
    });
    this.pump();
  }
}

/** The GPU engine's shared-input API (duck-typed: only a {@link GpuSaeEngine} has it), usable (no mid-step readback). */
export function sharesSteps(e: SaeEngine): e is GpuSaeEngine {
  const g = e as Partial<GpuSaeEngine>;
  return (
    typeof g.encodeSharedStep === 'function' &&
    typeof g.prepareSharedStep === 'function' &&
    typeof g.openSharedEval === 'function' &&
    g.gpuContext !== undefined &&
    g.needsPlan === false
  );
}

/**
 * Member `m`'s stand-in for `engine`: the SaeEngine interface with step and evaluate going through `c` and every
 * other call (state, stats ring, destroy) delegated to `engine`. setState also tells `c` the member's new step.
 */
export function coalescedEngine(engine: SaeEngine, c: StepCoalescer, m: number): SaeEngine {
  const e = engine;
  const standIn: SaeEngine = {
    shape: e.shape,
    step: (x, hyper, readStats = true) => c.step(m, x, hyper, readStats),
    evaluate: (x, rows) => c.evaluate(m, x, rows),
    getState: () => e.getState(),
    setState: async (state: SaeState) => {
      await e.setState(state);
      c.setPosition(m, state.t);
    },
    destroy: () => {
      c.leave(m);
      e.destroy();
    },
  };
  if (e.statsRingSlots !== undefined && e.recordStats && e.readRecordedStats) {
    return {
      ...standIn,
      statsRingSlots: e.statsRingSlots,
      recordStats: e.recordStats.bind(e),
      readRecordedStats: e.readRecordedStats.bind(e),
    };
  }
  return standIn;
}

/** Uploads and submissions of a sweep group on the GPU engine (GpuSweepGroup's stages + the coalescer's). */
export type GpuSweepStages = GpuGroupStages & CoalescerStats;

/**
 * One sweep group's coalescing on the GPU engine, as the runner uses it: {@link wrap} each member's new engine
 * (a GpuSaeEngine joins the group's {@link GpuSweepGroup} and comes back as a stand-in; any other engine is left
 * alone), pass each member's run events to {@link onEvent}, {@link destroy} after the members' engines.
 */
export class GpuGroupCoalescer {
  private readonly options: CoalescerOptions;
  private group: GpuSweepGroup | null = null;
  private coalescer: StepCoalescer | null = null;
  /** Sweep member → group member. */
  private readonly slots = new Map<number, number>();

  constructor(options: CoalescerOptions = {}) {
    this.options = options;
  }

  /**
   * Sweep member `member`'s engine: a stand-in feeding `engine` from the group's shared uploads, or null when
   * `engine` cannot share steps (not a GPU engine, or on another device than the group's) — then use it directly.
   * @throws RangeError when `engine`'s batchSize or d_model differs from the group's.
   */
  wrap(member: number, engine: SaeEngine): SaeEngine | null {
    if (!sharesSteps(engine)) return null;
    if (!this.group || !this.coalescer) {
      this.group = new GpuSweepGroup(engine.gpuContext, [engine]);
      this.coalescer = new StepCoalescer(this.group, this.options);
      this.slots.set(member, 0);
      this.coalescer.add(0);
      return coalescedEngine(engine, this.coalescer, 0);
    }
    if (engine.gpuContext !== this.group.gpu) return null;
    const slot = this.group.join(engine);
    this.slots.set(member, slot);
    this.coalescer.add(slot);
    return coalescedEngine(engine, this.coalescer, slot);
  }

  /** A run event of sweep member `member`: its status says whether others wait for it. */
  onEvent(member: number, e: TrainEvent): void {
    const slot = this.slots.get(member);
    if (slot === undefined || !this.coalescer || e.type !== 'status') return;
    // A member that left (engine destroyed) is no longer known to the coalescer.
    if (this.coalescer.has(slot)) this.coalescer.setLive(slot, e.status === 'running');
  }

  /** Uploads, submissions and times so far; null when no member shared steps. */
  get stages(): GpuSweepStages | null {
    if (!this.group || !this.coalescer) return null;
    return { ...this.group.stages, ...this.coalescer.stats };
  }

  /** Free the group's shared input buffer (not the members' engines). Idempotent. */
  destroy(): void {
    this.group?.destroy();
  }
}
