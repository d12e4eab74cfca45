/**
 * Shape checks shared by the CPU and GPU SAE engines. Every error names the engine and the field at fault.
 */
import { ARCHITECTURES, hasThreshold, resolveArch } from './arch';
import { MAX_K } from './kernel-types';
import type { SaeParams, SaeShape, SaeState, StepHyper } from './types';

export { MAX_K } from './kernel-types';

/**
 * @throws RangeError when a size is not a positive integer or k is outside [1, min(d_sae, 256)].
 */
export function assertSaeShape(who: string, shape: SaeShape): void {
  for (const key of ['dModel', 'dSae', 'k', 'batchSize'] as const) {
    const v = shape[key];
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`${who}: shape.${key} must be a positive integer, got ${v}`);
  }
  if (shape.k > shape.dSae) throw new RangeError(`${who}: k=${shape.k} exceeds d_sae=${shape.dSae}`);
  if (shape.k > MAX_K) throw new RangeError(`${who}: k=${shape.k} exceeds the TopK limit of ${MAX_K}`);
  const a = resolveArch(shape);
  if (!ARCHITECTURES.includes(a.architecture))
    throw new RangeError(
      `${who}: arch.architecture must be one of ${ARCHITECTURES.join(', ')}, got ${String(a.architecture)}`,
    );
  if (!(a.thresholdEmaRate > 0 && a.thresholdEmaRate <= 1))
    throw new RangeError(`${who}: arch.thresholdEmaRate must be in (0, 1], got ${a.thresholdEmaRate}`);
  if (!(a.bandwidth > 0 && Number.isFinite(a.bandwidth)))
    throw new RangeError(`${who}: arch.bandwidth must be a finite number > 0, got ${a.bandwidth}`);
  if (!(a.thresholdInit > 0 && Number.isFinite(a.thresholdInit)))
    throw new RangeError(`${who}: arch.thresholdInit must be a finite number > 0, got ${a.thresholdInit}`);
  if (!(a.thresholdLrScale > 0 && Number.isFinite(a.thresholdLrScale)))
    throw new RangeError(
      `${who}: arch.thresholdLrScale must be a finite number > 0, got ${a.thresholdLrScale}`,
    );
  const kAux = shape.arch?.kAux ?? 0;
  if (!Number.isInteger(kAux) || kAux < 0)
    throw new RangeError(`${who}: arch.kAux must be an integer ≥ 0 (0 = d_model/2), got ${kAux}`);
  if (!(a.auxkAlpha >= 0 && Number.isFinite(a.auxkAlpha)))
    throw new RangeError(`${who}: arch.auxkAlpha must be a finite number ≥ 0, got ${a.auxkAlpha}`);
}

/**
 * @throws RangeError when a parameter tensor does not have exactly the length its shape implies, or the
 *   architecture needs a threshold θ [d_sae] (JumpReLU, BatchTopK) and it is missing.
 */
export function assertSaeParams(who: string, shape: SaeShape, p: SaeParams, what = 'params'): void {
  const { dModel: D, dSae: S } = shape;
  const want: Partial<Record<keyof SaeParams, number>> = { wEnc: D * S, wDec: S * D, bEnc: S, bDec: D };
  if (hasThreshold(resolveArch(shape).architecture)) want.threshold = S;
  for (const key of Object.keys(want) as (keyof SaeParams)[]) {
    const arr = p[key];
    if (!(arr instanceof Float32Array)) throw new RangeError(`${who}: ${what}.${key} must be a Float32Array`);
    if (arr.length !== want[key])
      throw new RangeError(`${who}: ${what}.${key} has ${arr.length} floats, expected ${want[key]}`);
  }
}

/** @throws RangeError on any shape mismatch in a full state. */
export function assertSaeState(who: string, shape: SaeShape, s: SaeState): void {
  assertSaeParams(who, shape, s.params, 'state.params');
  assertSaeParams(who, shape, s.adamM, 'state.adamM');
  assertSaeParams(who, shape, s.adamV, 'state.adamV');
  if (!Number.isInteger(s.t) || s.t < 0)
    throw new RangeError(`${who}: state.t must be an integer ≥ 0, got ${s.t}`);
  if (!(s.stepsSinceFired instanceof Uint32Array) || s.stepsSinceFired.length !== shape.dSae)
    throw new RangeError(
      `${who}: state.stepsSinceFired must be a Uint32Array of d_sae=${shape.dSae} elements`,
    );
}

/** @throws RangeError when a batch is not batchSize × d_model floats. */
export function assertBatch(who: string, shape: SaeShape, x: Float32Array): void {
  if (x.length !== shape.batchSize * shape.dModel)
    throw new RangeError(
      `${who}: batch has ${x.length} floats, expected batchSize×d_model = ${shape.batchSize}×${shape.dModel}`,
    );
}

/** @throws RangeError when x does not hold rows × d_model floats. */
export function assertEvalRows(who: string, shape: SaeShape, x: Float32Array, rows: number): void {
  if (!Number.isInteger(rows) || rows < 1)
    throw new RangeError(`${who}: rows must be a positive integer, got ${rows}`);
  if (x.length < rows * shape.dModel)
    throw new RangeError(`${who}: x has ${x.length} floats, needs rows×d_model = ${rows}×${shape.dModel}`);
}

/** @throws RangeError when a hyper-parameter is out of range (see {@link StepHyper}). */
export function assertHyper(who: string, h: StepHyper): void {
  if (!(h.lr >= 0) || !Number.isFinite(h.lr))
    throw new RangeError(`${who}: lr must be a finite number ≥ 0, got ${h.lr}`);
  if (!(h.beta1 >= 0 && h.beta1 < 1)) throw new RangeError(`${who}: beta1 must be in [0, 1), got ${h.beta1}`);
  if (!(h.beta2 >= 0 && h.beta2 < 1)) throw new RangeError(`${who}: beta2 must be in [0, 1), got ${h.beta2}`);
  if (!(h.eps > 0)) throw new RangeError(`${who}: eps must be > 0, got ${h.eps}`);
  if (!(h.deadWindowSteps >= 1))
    throw new RangeError(`${who}: deadWindowSteps must be ≥ 1, got ${h.deadWindowSteps}`);
  const lambda = h.sparsityCoeff ?? 0;
  if (!(lambda >= 0 && Number.isFinite(lambda)))
    throw new RangeError(`${who}: sparsityCoeff must be a finite number ≥ 0, got ${lambda}`);
  if (h.auxkDeadWindowSteps !== undefined && !(h.auxkDeadWindowSteps >= 1))
    throw new RangeError(`${who}: auxkDeadWindowSteps must be ≥ 1, got ${h.auxkDeadWindowSteps}`);
}

/** Deep copy of parameters (threshold included when present). */
export function cloneParams(p: SaeParams): SaeParams {
  const out: SaeParams = {
    wEnc: p.wEnc.slice(),
    wDec: p.wDec.slice(),
    bEnc: p.bEnc.slice(),
    bDec: p.bDec.slice(),
  };
  if (p.threshold) out.threshold = p.threshold.slice();
  return out;
}

/** Zero-filled parameters of a shape (Adam moments at t = 0); with a threshold [d_sae] when the architecture has one. */
export function zeroParams(shape: SaeShape): SaeParams {
  const { dModel: D, dSae: S } = shape;
  const out: SaeParams = {
    wEnc: new Float32Array(D * S),
    wDec: new Float32Array(S * D),
    bEnc: new Float32Array(S),
    bDec: new Float32Array(D),
  };
  if (hasThreshold(resolveArch(shape).architecture)) out.threshold = new Float32Array(S);
  return out;
}
