/**
 * One sweep group on the GPU engine: every batch is uploaded ONCE into one shared, labelled input buffer owned here,
 * and every SAE of the group steps on it in the SAME command submission (one command encoder, one queue.submit per
 * step for the whole group, BatchTopK included since its bucket plan runs on the GPU; an engine whose step path reads
 * back mid-step — only the bench's `batchTopkReadback` engine option — cannot join). Held-out evaluation shares its uploaded rows the same way: the
 * rows are uploaded once and each chunk is one submission for every member.
 *
 * Each member is an ordinary {@link GpuSaeEngine}; the batch reaches its x buffer by a device-side copy inside the
 * group's encoder (GpuSaeEngine.encodeSharedStep), so every member's step is its single run's step bit for bit on
 * the same adapter (e2e/harness/checks/sweep-gpu.ts checks it).
 *
 * Shape legend: B = batchSize, D = d_model; every member has the same B and D (one batch stream), S and k may differ.
 */
import type { Gpu } from '../gpu/device';
import { GpuError } from '../gpu/device';
import type { GpuSaeEngine } from '../gpu/sae-engine';
import type { EvalStats, StepHyper, StepStats } from '../sae/types';
import { assertBatch, assertHyper } from '../sae/validate';

/** Wall time per stage of a group's work so far, ms (the `sweep` bench's breakdown). */
export interface GpuGroupStages {
  /** queue.writeBuffer of the shared batches and held-out rows. */
  uploadMs: number;
  /** Encoding, submitting and waiting for the group's steps (stats readbacks included). */
  stepMs: number;
  /** Shared held-out evaluations (upload excluded). */
  evalMs: number;
  /** Batches uploaded (one per step) and engine steps fed from them (members × steps). */
  uploads: number;
  memberSteps: number;
  /** Command submissions of the group's steps and evaluation chunks (stats and plan readbacks not counted). */
  submissions: number;
  /** Of those, the evaluation chunks' submissions (so submissions − evalSubmissions are the steps'). */
  evalSubmissions: number;
  /** Held-out samples uploaded (one per shared evaluation, whatever the number of members evaluated on it). */
  heldOutUploads: number;
}

/** Steps and evaluates the engines of one sweep group on shared uploaded batches. */
export class GpuSweepGroup {
  /** The device context every member runs on. */
  readonly gpu: Gpu;
  private readonly engines: GpuSaeEngine[];
  /** f32 [B, D]: the step's batch, uploaded once per step (COPY_SRC for the copies into the members). */
  private readonly input: GPUBuffer;
  private destroyed = false;
  /** A validation error of a step submitted without waiting (readStats false); thrown by the next call. */
  private pendingError: string | null = null;
  readonly stages: GpuGroupStages = {
    uploadMs: 0,
    stepMs: 0,
    evalMs: 0,
    uploads: 0,
    memberSteps: 0,
    submissions: 0,
    evalSubmissions: 0,
    heldOutUploads: 0,
  };

  /**
   * @param engines the group's members (not owned: the caller destroys them), all on `gpu` with one batchSize and
   *   d_model.
   * @throws RangeError on an empty group or members of different batchSize / d_model.
   */
  constructor(gpu: Gpu, engines: GpuSaeEngine[]) {
    if (engines.length === 0) throw new RangeError('GpuSweepGroup: a group needs at least one engine');
    const { batchSize: B, dModel: D } = engines[0].shape;
    engines.forEach((e, i) => {
      GpuSweepGroup.assertFits(`GpuSweepGroup: member ${i}`, engines[0], e);
    });
    this.gpu = gpu;
    this.engines = [...engines];
    this.input = gpu.storage('sweep:group:x', B * D * 4);
  }

  /**
   * @throws RangeError naming `who` when `e`'s batchSize or d_model differs from `first`'s, or `e` reads back
   *   mid-step (GpuSaeEngine.needsPlan).
   */
  private static assertFits(who: string, first: GpuSaeEngine, e: GpuSaeEngine): void {
    if (e.needsPlan)
      throw new RangeError(`${who} reads back mid-step (needsPlan), so it cannot share a group submission`);
    const { batchSize: B, dModel: D } = first.shape;
    if (e.shape.batchSize !== B || e.shape.dModel !== D)
      throw new RangeError(
        `${who} has batchSize ${e.shape.batchSize}, d_model ${e.shape.dModel}; the group has ${B}, ${D} ` +
          '(a group shares one batch stream)',
      );
  }

  /** Members so far. */
  get size(): number {
    return this.engines.length;
  }

  /**
   * Add a member (an engine created after the group, e.g. by the sweep's next trainer).
   * @returns its member index (the order of joining, after the constructor's engines)
   * @throws RangeError when its batchSize or d_model differs from the group's; GpuError after destroy.
   */
  join(engine: GpuSaeEngine): number {
    if (this.destroyed) throw new GpuError('GpuSweepGroup.join: the group was destroyed');
    GpuSweepGroup.assertFits('GpuSweepGroup.join: the engine', this.engines[0], engine);
    this.engines.push(engine);
    return this.engines.length - 1;
  }

  /** The members `members` (indices; all when null). @throws RangeError on a bad, repeated or empty list. */
  private pick(who: string, members: readonly number[] | null): GpuSaeEngine[] {
    if (members === null) return this.engines;
    const seen = new Set<number>();
    for (const m of members) {
      if (!Number.isInteger(m) || m < 0 || m >= this.engines.length || seen.has(m))
        throw new RangeError(`${who}: bad or repeated member ${m} (the group has ${this.engines.length})`);
      seen.add(m);
    }
    if (members.length === 0) throw new RangeError(`${who}: no members`);
    return members.map((m) => this.engines[m]);
  }

  private assertUsable(who: string): void {
    if (this.destroyed) throw new GpuError(`${who}: the group was destroyed`);
    if (this.pendingError)
      throw new GpuError(`${who}: an earlier group step failed on the GPU: ${this.pendingError}`);
  }

  /** Wait until every submitted group step has finished on the GPU. @throws GpuError on an earlier step's error. */
  async flush(): Promise<void> {
    await this.gpu.device.queue.onSubmittedWorkDone();
    this.assertUsable('GpuSweepGroup.flush');
  }

  /** Encode `record` into one command encoder and submit it (one submission for the whole group). */
  private submitAll(label: string, record: (enc: GPUCommandEncoder) => void): void {
    const enc = this.gpu.device.createCommandEncoder({ label: this.gpu.label(label) });
    record(enc);
    this.gpu.device.queue.submit([enc.finish({ label: this.gpu.label(label) })]);
    this.stages.submissions += 1;
  }

  /**
   * One training step of every member on x [B, D] (uploaded once), member i with hypers[i].
   * @param readStats when false, resolves to null after submitting (steps queue up unless a member needs a plan
   *   readback); else to every member's step sums, in member order.
   * @throws RangeError on a bad batch or hyper-parameter list; GpuError on a device validation error.
   */
  step(x: Float32Array, hypers: StepHyper[], readStats = true): Promise<StepStats[] | null> {
    return this.stepMembers(x, null, hypers, readStats);
  }

  /**
   * {@link step} of some members only (the others keep their state): member members[j] with hypers[j], in one
   * upload and one submission (two with a planned member). Each member's step is its single-run step whatever the
   * subset (src/sweep/gpu-coalesce.ts relies on it).
   * @param members member indices, no repeats; null = every member
   * @returns the stepped members' sums in `members` order (null when readStats is false)
   * @throws RangeError on a bad member list, batch or hyper-parameter list; GpuError on a device validation error.
   */
  async stepMembers(
    x: Float32Array,
    members: readonly number[] | null,
    hypers: readonly StepHyper[],
    readStats = true,
  ): Promise<StepStats[] | null> {
    this.assertUsable('GpuSweepGroup.step');
    const engines = this.pick('GpuSweepGroup.step', members);
    if (hypers.length !== engines.length)
      throw new RangeError(
        `GpuSweepGroup.step: ${hypers.length} hyper-parameter sets for ${engines.length} SAEs`,
      );
    assertBatch('GpuSweepGroup.step', this.engines[0].shape, x);
    // Validate every member's hyper-parameters before any member advances its step count.
    for (const h of hypers) assertHyper('GpuSweepGroup.step', h);
    for (let i = 0; i < engines.length; i++) engines[i].prepareSharedStep(hypers[i]);
    const t0 = performance.now();
    this.gpu.write(this.input, x);
    const t1 = performance.now();
    this.stages.uploadMs += t1 - t0;
    this.stages.uploads += 1;
    this.stages.memberSteps += engines.length;
    const device = this.gpu.device;
    device.pushErrorScope('validation');
    let scope: Promise<GPUError | null>;
    try {
      this.submitAll('sweep:group:step', (enc) => {
        for (const e of engines) e.encodeSharedStep(enc, this.input);
      });
    } finally {
      scope = device.popErrorScope();
    }
    if (!readStats) {
      void scope.then((err) => {
        if (err) this.pendingError ??= err.message;
      });
      this.stages.stepMs += performance.now() - t1;
      return null;
    }
    const err = await scope;
    if (err) throw new GpuError(`GpuSweepGroup.step: ${err.message}`);
    const out = await Promise.all(engines.map((e) => e.readStepStats()));
    this.stages.stepMs += performance.now() - t1;
    return out;
  }

  /**
   * Held-out evaluation of every member on x [rows, D]: the rows are uploaded once (a temporary labelled buffer),
   * each chunk of B rows is one submission for all members. Same EvalStats as each member's evaluate.
   * @throws RangeError on a bad rows count or length; GpuError on a device validation error.
   */
  evaluate(x: Float32Array, rows: number): Promise<EvalStats[]> {
    return this.evaluateMembers(x, rows, null);
  }

  /**
   * {@link evaluate} of some members only: the rows uploaded once, one submission per chunk for those members.
   * @param members member indices, no repeats; null = every member
   * @returns their EvalStats in `members` order
   * @throws RangeError on a bad member list, rows count or length; GpuError on a device validation error.
   */
  async evaluateMembers(
    x: Float32Array,
    rows: number,
    members: readonly number[] | null,
  ): Promise<EvalStats[]> {
    this.assertUsable('GpuSweepGroup.evaluate');
    const engines = this.pick('GpuSweepGroup.evaluate', members);
    const { batchSize: B, dModel: D } = this.engines[0].shape;
    if (!Number.isInteger(rows) || rows < 1 || x.length !== rows * D)
      throw new RangeError(
        `GpuSweepGroup.evaluate: x has ${x.length} values, expected rows ${rows} × d_model ${D}`,
      );
    const t0 = performance.now();
    const held = this.gpu.storage('sweep:group:held-out', x.subarray(0, rows * D));
    const t1 = performance.now();
    this.stages.uploadMs += t1 - t0;
    this.stages.heldOutUploads += 1;
    try {
      const evals = engines.map((e) => e.openSharedEval(rows));
      const device = this.gpu.device;
      device.pushErrorScope('validation');
      let scope: Promise<GPUError | null>;
      try {
        for (let c = 0; c < Math.ceil(rows / B); c++) {
          this.submitAll('sweep:group:eval', (enc) => {
            for (const ev of evals) ev.encodeChunk(enc, held, c);
          });
          this.stages.evalSubmissions += 1;
        }
      } finally {
        scope = device.popErrorScope();
      }
      const err = await scope;
      if (err) throw new GpuError(`GpuSweepGroup.evaluate: ${err.message}`);
      const out: EvalStats[] = [];
      for (const ev of evals) out.push(await ev.finish(x));
      return out;
    } finally {
      held.destroy();
      this.stages.evalMs += performance.now() - t1;
    }
  }

  /** Free the shared input buffer (not the members). Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.input.destroy();
  }
}
