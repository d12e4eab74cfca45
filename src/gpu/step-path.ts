/**
 * The contract between GpuSaeEngine (src/gpu/sae-engine.ts, the coordinator) and its step paths
 * (src/gpu/step-paths/): a step path owns the forward pass and the backward pass of one way of training (per-row
 * TopK, batch TopK, dense latents, …); the coordinator owns the parameters, the Adam moments, AuxK, the decoder
 * constraint, Adam, the step sums and the evaluation reduction, the same for every path. A path is picked by the
 * architecture's registry spec (`spec.step.path`, src/sae/archs/), never by its name. The CPU engines mirror the
 * split (src/reference/step-paths.ts).
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k. This is a leaf module: types only.
 */
import type { StepPathSpec } from '../sae/archs';
import type { SaeArch, SaeShape, StepHyper } from '../sae/types';
import type { Gpu } from './device';
import type { GpuResources } from './resources';

/** The four trained tensors, in Adam's order. */
export const PARAM_KEYS = ['wEnc', 'wDec', 'bEnc', 'bDec'] as const;
export type ParamKey = (typeof PARAM_KEYS)[number];
/** One GPU buffer per trained tensor: W_enc [D, S], W_dec [S, D], b_enc [S], b_dec [D], f32. */
export type ParamBuffers = Record<ParamKey, GPUBuffer>;

/** A named group of dispatches of a step (the bench times them one by one). */
export type Stage = [string, (pass: GPUComputePassEncoder) => void];

/** The engine buffers a step path reads and writes (owned by the coordinator's resource set). */
export interface GpuStepBuffers {
  /** f32 [B, D]: the batch (or evaluation chunk, first n rows). */
  x: GPUBuffer;
  /** f32 [B, S] pre-activations. */
  pre: GPUBuffer;
  /** f32 [B, D] reconstruction x̂ (the full dictionary's). */
  xHat: GPUBuffer;
  /** f32 [B, ROW_STATS] per-row sums Σ(x̂−x)², Σx², Σx̂², Σx·x̂. */
  rowStats: GPUBuffer;
  params: ParamBuffers;
  /** Gradients of the four tensors, written by the path's backward stages (∂b_dec included). */
  grads: ParamBuffers;
  /** θ [S] and the Adam moments of log θ [S] (architectures with a threshold), else null. */
  threshold: { theta: GPUBuffer; m: GPUBuffer; v: GPUBuffer } | null;
}

/** What a step path is built from. */
export interface GpuStepContext {
  gpu: Gpu;
  /** The coordinator's resource set: the path's training kernels and buffers go here. */
  res: GpuResources;
  shape: SaeShape;
  /** The resolved architecture. */
  arch: SaeArch;
  /** The architecture's step spec (registry). */
  spec: StepPathSpec;
  bufs: GpuStepBuffers;
  /**
   * BatchTopK only, for the bench: plan the step by reading the fullest row's count back (two submissions per
   * step, the former path) instead of on the GPU. Default false.
   */
  batchTopkReadback?: boolean;
}

/** The forward pass of one evaluation chunk of n ≤ B rows, recorded into one compute pass. */
export interface GpuForward {
  /** encoder → latents → x̂ → per-row sums (bufs.rowStats), then the chunk's per-latent fire counts. */
  stages: Stage[];
  /** u32 [S]: the chunk's fire counts (the evaluation reduction reads and zeroes them). */
  counts: GPUBuffer;
}

/** One step path of the GPU engine. */
export interface GpuStepPath {
  /** Write this step's uniforms. @param t the step number after the increment (1 on the first step) */
  prepare(hyper: StepHyper, t: number, lambda: number): void;
  /** The first stages (encoder, selection or activation). */
  stagesA(): Stage[];
  /** When set, the coordinator submits stagesA, awaits this (a readback that plans the rest), then stagesB. */
  plan?(): Promise<void>;
  /** The rest of the forward and the backward pass: x̂, rowStats and every gradient (∂b_dec included). */
  stagesB(): Stage[];
  /** u32 [S]: the last step's per-latent fire counts (valid after stagesB). */
  fireCounts(): GPUBuffer;
  /** u32 [4·S] dense per-latent planes (fire counts | Σz | ‖W_dec‖ | ∂log θ) for arch_stats, or null. */
  readonly col: GPUBuffer | null;
  /** Record what follows Adam on the four tensors (JumpReLU's Adam on log θ), or nothing. */
  encodeAfterAdam(pass: GPUComputePassEncoder): void;
  /**
   * The evaluation forward for chunks of `rows` ≤ B rows (the same forward code as training); its kernels and
   * buffers go into `res` (one set per chunk size, owned by the coordinator).
   */
  createForward(rows: number, res: GpuResources, tag: string): GpuForward;
}

/** Builds a step path (its training kernels and buffers go into ctx.res). @throws GpuError on device limits. */
export type GpuStepPathFactory = (ctx: GpuStepContext) => GpuStepPath;
