/**
 * The lessons of classroom mode, as data (see src/lessons/types.ts). Every step's run is small enough to finish
 * in ≤ 30 s on a CPU (SwiftShader) WebGPU adapter, except lesson 4's 300-step AuxK recipe (see
 * src/lessons/README.md for the measurements). Open one with `#lesson=<id>`; `#lesson=intro` is lesson 1, step 1.
 */
import type { SyntheticSpec } from '../data/synthetic';
import type { TrainConfig } from '../train/config';
import type { Lesson, LessonData } from './types';

/** Shared small-run settings: short warmup, no end decay, a cheap held-out evaluation. */
const SMALL: Partial<TrainConfig> = {
  architecture: 'topk',
  batchSize: 256,
  warmupSteps: 10,
  decayFraction: 0,
  decay: 'none',
  evalInterval: 50,
  evalTokens: 1024,
  lr: 3e-3,
  seed: 42,
};

const DEMO: LessonData = { kind: 'demo' };

/**
 * Lesson 4's recipe for dead latents, measured with `npm run cpu-train` (CPU engine, 300 steps): 45 of 512 latents
 * dead (silent for the last 100 steps) without AuxK, EV 0.806; 4 dead with AuxK (window 50 steps), EV 0.812.
 */
const DEAD_RECIPE: Partial<TrainConfig> = {
  ...SMALL,
  dSae: 512,
  k: 4,
  batchSize: 128,
  steps: 300,
  lr: 1e-2,
  warmupSteps: 0,
  deadWindowTokens: 12_800,
};

/** Ground-truth data of lesson 3: 64 true features in d_model 32, ~4 active per token (the recovery test's set). */
export const SUPERPOSITION_SPEC: SyntheticSpec = {
  dModel: 32,
  nFeatures: 64,
  nTokens: 16384,
  seed: 1,
  firing: { kind: 'uniform', meanActive: 4 },
  magnitude: { kind: 'uniform', min: 0.5, max: 1.5 },
};

const SUPERPOSITION: LessonData = {
  kind: 'synthetic',
  id: 'lesson-synthetic-64x32',
  name: 'lesson · 64 true features in d_model 32',
  spec: SUPERPOSITION_SPEC,
};

const ZIPF: LessonData = {
  kind: 'synthetic',
  id: 'lesson-synthetic-zipf-64x32',
  name: 'lesson · 64 true features, Zipf frequencies',
  spec: { ...SUPERPOSITION_SPEC, seed: 2, firing: { kind: 'zipf', exponent: 1.2, meanActive: 4 } },
};

/** Every lesson, in teaching order. */
export const LESSONS: readonly Lesson[] = [
  {
    id: 'intro',
    title: 'What an SAE does',
    summary: 'Train a TopK sparse autoencoder on real language-model activations and read what it learned.',
    steps: [
      {
        title: 'Train a TopK SAE',
        todo: 'Press Run step. The lab trains a TopK SAE with 128 latents and k = 8 on the built-in demo: activations of a tiny story model (d_model 64).',
        watch:
          'Watch explained variance rise from about 0 towards 0.6–0.7 while L0 stays exactly at 8: TopK keeps the 8 largest latents of every token, no more.',
        means:
          'The SAE rewrites each 64-number activation as a sum of 8 directions chosen from 128. Explained variance says how much of the activation that sparse sum keeps.',
        question: 'Why can L0 never drift away from k in a TopK SAE, when in other SAEs it is a trade-off?',
        run: { data: DEMO, config: { ...SMALL, dSae: 128, k: 8, steps: 80 } },
      },
      {
        title: 'Read the summary',
        todo: 'Run the step: the same SAE with twice the latents (256). When it ends, read the summary below the chart.',
        watch:
          'In the summary, compare held-out explained variance with step 1, then look at the firing-rate plot: how many latents fire often, how many rarely, how many never (dead)?',
        means:
          'More latents give more directions to choose from, so the reconstruction improves at the same L0. Latents that never fire are wasted capacity: lesson 4 is about them.',
        question:
          'If every latent fired on every token, would the SAE be useful for interpretation? Why not?',
        run: { data: DEMO, config: { ...SMALL, dSae: 256, k: 8, batchSize: 128, steps: 80 } },
        compareTable: true,
      },
    ],
  },
  {
    id: 'tradeoff',
    title: 'The sparsity–reconstruction trade-off',
    summary:
      'The same SAE at k = 2, 8 and 32: fewer active latents are easier to read but reconstruct worse.',
    steps: [2, 8, 32].map((k, i) => ({
      title: `k = ${k}`,
      todo: `Run the SAE (d_sae 256) with k = ${k}.${i > 0 ? ' The table keeps the earlier runs for comparison.' : ''}`,
      watch:
        i === 0
          ? 'With only 2 latents per token, explained variance stays low: two directions cannot rebuild a 64-dimensional activation.'
          : `Compare the FVU (fraction of variance unexplained = 1 − explained variance) in the table with the earlier k.`,
      means:
        'Sparsity (small L0) and reconstruction (small FVU) pull against each other. Choosing k is choosing a point on that curve.',
      question:
        i === 2
          ? 'k = 32 reconstructs best. Would you still pick it to find interpretable features? What would you lose?'
          : 'Before running the next k: how much do you expect FVU to drop?',
      run: { data: DEMO, config: { ...SMALL, dSae: 256, k, batchSize: 128, steps: 80 } },
      compareTable: true,
    })),
  },
  {
    id: 'superposition',
    title: 'Superposition with a known answer',
    summary:
      'Synthetic data made from 64 known directions squeezed into 32 dimensions: can the SAE find them again?',
    steps: [
      {
        title: 'Recover the true features',
        todo: 'Run the step. The lab first generates the data in your browser (64 true unit directions in d_model 32, about 4 active per token), then trains a TopK SAE with 128 latents and k = 4.',
        watch:
          'At the end, the feature-recovery figure: for each true feature, the best |cosine| between it and any decoder row. Close to 1 means found.',
        means:
          '64 features in 32 dimensions cannot all be orthogonal: they are in superposition. Because each token uses only a few, a sparse dictionary can still pull them apart.',
        question: 'Why does the SAE need more latents than d_model to find 64 features?',
        run: { data: SUPERPOSITION, config: { ...SMALL, dSae: 128, k: 4, steps: 100, lr: 2e-2 } },
        compareTable: true,
      },
      {
        title: 'Too few latents',
        todo: 'Run the same data with only 32 latents — fewer latents than true features.',
        watch: 'The recovery figure: how many true features now have a best cosine above 0.9?',
        means:
          'With fewer latents than features, each latent has to stand for a mixture of features (or drop some), so recovery falls even if explained variance looks respectable.',
        question:
          'Explained variance is still decent here. What does that tell you about judging an SAE by EV alone?',
        run: { data: SUPERPOSITION, config: { ...SMALL, dSae: 32, k: 4, steps: 100, lr: 2e-2 } },
        compareTable: true,
      },
      {
        title: 'Rare features',
        todo: 'Run a dataset whose features fire with Zipf-distributed frequencies (a few common, many rare).',
        watch:
          'The recovery figure sorts true features from most to least frequent. Where along that axis does recovery fail?',
        means:
          'An SAE learns what it sees often. Rare features need more tokens (or more latents) to be found.',
        question:
          'Real language has a long tail of rare concepts. What does that suggest about SAEs trained on few tokens?',
        run: { data: ZIPF, config: { ...SMALL, dSae: 128, k: 4, steps: 100, lr: 2e-2 } },
        compareTable: true,
      },
    ],
  },
  {
    id: 'dead-latents',
    title: 'Dead latents',
    summary: 'A run built to kill latents, then the same run with the AuxK loss that revives them.',
    steps: [
      {
        title: 'Kill latents',
        todo: 'Run an SAE with 512 latents but only k = 4 per token, small batches (128) and a large learning rate (1e-2, no warmup): a recipe for dead latents.',
        watch:
          'The dead-fraction curve: a latent that has not fired for 100 steps counts as dead. At the end, the table shows how many are dead.',
        means:
          'A TopK latent that loses every token to others gets no gradient, so it rarely comes back: its capacity is wasted.',
        question: 'Why does a TopK latent that stopped firing receive no gradient at all?',
        run: { data: DEMO, config: DEAD_RECIPE },
        compareTable: true,
      },
      {
        title: 'Revive them with AuxK',
        todo: 'Run the same recipe with the AuxK loss switched on (the AuxK option of the architecture picker).',
        watch: 'Compare the dead latents and the explained variance in the table with the previous run.',
        means:
          'AuxK asks the dead latents to reconstruct what the live ones missed, which gives them a gradient again (Gao et al. 2024).',
        question: 'AuxK costs extra compute per step. When would you switch it off?',
        run: { data: DEMO, config: { ...DEAD_RECIPE, auxk: true, auxkDeadWindowTokens: 6_400 } },
        compareTable: true,
      },
    ],
  },
];

/** The lesson with `id`, or undefined. */
export function findLesson(id: string): Lesson | undefined {
  return LESSONS.find((l) => l.id === id);
}

/**
 * Parse a location hash: `#lesson=<id>` or `#lesson=<id>&step=<n>` (n 1-based).
 * @returns the lesson id and 0-based step index, or null when the hash names no lesson.
 */
export function parseLessonHash(hash: string): { id: string; step: number } | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const id = params.get('lesson');
  if (!id) return null;
  const n = Number(params.get('step') ?? '1');
  return { id, step: Number.isInteger(n) && n >= 1 ? n - 1 : 0 };
}
