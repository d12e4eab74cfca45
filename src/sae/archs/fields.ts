/**
 * Config fields shared by several architectures (k, the AuxK group, the λ warmup, θ's start and learning rate),
 * with their defaults, validation and form text — the registry's only copy. valibot schema helpers for the
 * architecture files and src/train/config.ts.
 */
import * as v from 'valibot';
import { MAX_K } from '../kernel-types';
import type { ArchFieldSpec } from './spec';

/** Most optimiser steps of a run (LIMITS.maxSteps of src/train/config.ts). */
export const MAX_STEPS = 10_000_000;

/** Largest k_aux (the TopK kernel's per-row limit, MAX_K). */
export const MAX_K_AUX = MAX_K;

/** A whole number in [min, max]; every message names the field as `what`. */
export const intSchema = (min: number, max: number, what: string) =>
  v.pipe(
    v.number(`${what} must be a number`),
    v.finite(`${what} must be a finite number`),
    v.integer(`${what} must be a whole number`),
    v.minValue(min, `${what} must be at least ${min}`),
    v.maxValue(max, `${what} must be at most ${max}`),
  );

/** A finite number; every message names the field as `what`. */
export const realSchema = (what: string) =>
  v.pipe(v.number(`${what} must be a number`), v.finite(`${what} must be finite`));

/**
 * k: latents kept per token by TopK, mean latents per token kept by BatchTopK (k·B per batch).
 * 1 ≤ k ≤ min(d_sae, MAX_K). Default 32.
 */
export const K_FIELD: ArchFieldSpec = {
  field: 'k',
  default: 32,
  schema: intSchema(1, MAX_K, 'k'),
  label: 'k',
  help: 'Latents kept per token (BatchTopK: on average, k·batch per batch).',
  kind: 'number',
  advanced: false,
  step: '1',
};

/**
 * The AuxK loss for dead latents (Gao et al. 2024 §A.2): on/off (default off), k_aux (0 = d_model/2, capped at
 * d_sae and 256), α (default 1/32, Gao et al.) and the dead window in tokens (default 50,000, about 100 steps of
 * 512 tokens; Gao et al. use 10M for runs of billions of tokens).
 */
export const AUXK_FIELDS: readonly ArchFieldSpec[] = [
  {
    field: 'auxk',
    default: false,
    schema: v.boolean('AuxK must be true or false'),
    label: 'AuxK loss',
    help: 'Dead latents learn to reconstruct the residual (Gao et al.).',
    kind: 'checkbox',
    advanced: false,
  },
  {
    field: 'kAux',
    default: 0,
    schema: intSchema(0, MAX_K_AUX, 'k_aux'),
    label: 'k_aux',
    help: 'Dead latents per token in AuxK; 0 = d_model / 2.',
    kind: 'number',
    advanced: true,
    step: '1',
  },
  {
    field: 'auxkAlpha',
    default: 1 / 32,
    schema: v.pipe(
      realSchema('AuxK α'),
      v.minValue(0, 'AuxK α must be ≥ 0'),
      v.maxValue(100, 'AuxK α must be at most 100'),
    ),
    label: 'AuxK α',
    help: 'Weight of the AuxK loss relative to FVU.',
    kind: 'number',
    advanced: true,
    step: 'any',
  },
  {
    field: 'auxkDeadWindowTokens',
    default: 50_000,
    schema: intSchema(1, Number.MAX_SAFE_INTEGER, 'AuxK dead window'),
    label: 'AuxK dead window (tokens)',
    help: 'AuxK counts a latent dead after this many tokens without firing.',
    kind: 'number',
    advanced: true,
    step: '1',
  },
];

/**
 * λ warmup of the sparsity term (JumpReLU, ReLU + L1): λ rises linearly from 0 over this many steps. Gemma Scope
 * warms up over 10,000 steps of much longer runs; default 100 suits the 300–1,000-step runs of a browser.
 */
export const SPARSITY_WARMUP_FIELD: ArchFieldSpec = {
  field: 'sparsityWarmupSteps',
  default: 100,
  schema: intSchema(0, MAX_STEPS, 'sparsity warmup'),
  label: 'λ warmup (steps)',
  help: 'λ rises linearly from 0 over these steps.',
  kind: 'number',
  advanced: true,
  step: '1',
};

/** The fields of the TopK-like architectures: k, then the AuxK group. */
export const TOPK_LIKE_FIELDS: readonly ArchFieldSpec[] = [K_FIELD, ...AUXK_FIELDS];
