/**
 * A lesson is plain data: a typed list of steps, each with its text, a preset run and a question. The lesson
 * panel (src/ui/LessonPanel.tsx) renders any lesson; adding one needs no new UI code, only an entry in
 * src/lessons/lessons.ts.
 */
import type { SyntheticSpec } from '../data/synthetic';
import type { TrainConfig } from '../train/config';

/** The data a step's run trains on. */
export type LessonData =
  /** The built-in stories260K demo (public/demo/, precached for offline use). */
  | { kind: 'demo' }
  /**
   * A generated dataset with ground truth (src/data/synthetic.ts), stored once under the fixed `id`
   * (generated in the browser the first time a step needs it, no download).
   */
  | { kind: 'synthetic'; id: string; name: string; spec: SyntheticSpec };

/** One step of a lesson. */
export interface LessonStep {
  /** Short title. */
  title: string;
  /** What to do. */
  todo: string;
  /** What to watch while it runs. */
  watch: string;
  /** What it means. */
  means: string;
  /** A question to think about (not graded). */
  question: string;
  /** The run: the data and the TrainConfig fields that differ from DEFAULT_CONFIG. Small: ≤ 30 s on a CPU adapter. */
  run: { data: LessonData; config: Partial<TrainConfig> };
  /**
   * Show the side-by-side table of this lesson's runs so far (held-out EV, FVU, L0, dead latents; and feature
   * recovery on synthetic data), e.g. to compare k = 2, 8, 32.
   */
  compareTable?: boolean;
}

/** A lesson: opened by `#lesson=<id>`. */
export interface Lesson {
  /** URL id, e.g. "intro" (`#lesson=intro`). Lowercase letters, digits and '-'. */
  id: string;
  title: string;
  /** One sentence shown under the title. */
  summary: string;
  steps: LessonStep[];
}
