/**
 * Classroom mode's state: the open lesson and step, the results of the lesson's runs (for the side-by-side
 * table), progress remembered in localStorage, and presenter view. A step's run is an ordinary lab run: the
 * step's preset is written into the config form, its dataset selected (a synthetic one is generated and stored
 * the first time), and the lab store's train() starts it.
 */
import { create } from 'zustand';
import { DEMO } from '../data/demo';

import { datasetStore } from '../data/store';
import { storeSyntheticDataset } from '../data/synthetic';
import { findLesson, LESSONS, parseLessonHash } from '../lessons/lessons';
import type { Lesson, LessonStep } from '../lessons/types';
import { DEFAULT_CONFIG } from '../train/config';
import { configToForm, type FormField } from './config-form';
import { ensureDemoPausing, useLab } from './lab-store';
import { useRecovery } from './recovery-store';

/** localStorage key of the lesson progress. */
export const PROGRESS_KEY = 'sae-lab-lessons';

/** The outcome of one step's run, as the comparison table shows it. */
export interface LessonResult {
  step: number;
  runId: string;
  dSae: number;
  k: number;
  auxk: boolean;
  /** Held-out explained variance and FVU (src/sae/metrics.ts). */
  explainedVariance: number;
  fvu: number;
  l0: number;
  /** Latents not fired within the dead window at the last step. */
  deadInWindow: number;
  /** Training wall time, ms. */
  wallMs: number;
  /** Feature recovery (synthetic data only). */
  meanBestCosine?: number;
  recoveredFraction?: number;
}

/** Remembered progress per lesson: the last step shown and the steps whose run finished. */
export type LessonProgress = Record<string, { step: number; done: number[] }>;

export interface LessonState {
  lesson: Lesson | null;
  stepIndex: number;
  /** Results of this session's runs, per lesson id. */
  results: Record<string, LessonResult[]>;
  progress: LessonProgress;
  /** Presenter view: large type, status and chart fill the screen. */
  present: boolean;
  /** Set while a step prepares its data (e.g. "generating the synthetic dataset…"). */
  preparing: string | null;
  error: string | null;
}

export interface LessonActions {
  /** Open lesson `id` at step `step` (0-based; clamped). Unknown ids set an error naming the known ones. */
  open(id: string, step?: number): void;
  /** Leave the lesson (the form keeps the last preset): "open this in the full lab". */
  close(): void;
  next(): void;
  back(): void;
  /** Apply the step's preset and start its run. */
  runStep(): Promise<void>;
  /** Write the current step's preset into the form and select its data, without starting. */
  applyPreset(): Promise<void>;
  setPresent(on: boolean): void;
}

function loadProgress(): LessonProgress {
  try {
    const raw = globalThis.localStorage?.getItem(PROGRESS_KEY);
    const v = raw ? JSON.parse(raw) : {};
    return v && typeof v === 'object' ? (v as LessonProgress) : {};
  } catch {
    return {};
  }
}

function saveProgress(p: LessonProgress): void {
  try {
    globalThis.localStorage?.setItem(PROGRESS_KEY, JSON.stringify(p));
  } catch {
    // Private mode or a full quota: progress is then kept for this page only.
  }
}

function setHash(id: string | null, step: number): void {
  if (typeof location === 'undefined' || typeof history === 'undefined') return;
  const url = new URL(location.href);
  url.hash = id ? `lesson=${id}${step > 0 ? `&step=${step + 1}` : ''}` : '';
  history.replaceState(null, '', url.href);
}

/** Write a step's preset into the lab's config form (defaults for every field it does not set). */
function writeForm(step: LessonStep): void {
  const form = configToForm({ ...DEFAULT_CONFIG, ...step.run.config });
  const lab = useLab.getState();
  for (const [field, value] of Object.entries(form)) lab.setField(field as FormField, value);
}

/** Make sure a step's dataset is stored and selected. */
async function selectData(step: LessonStep, onPrepare: (what: string | null) => void): Promise<void> {
  const d = step.run.data;
  const lab = useLab.getState();
  if (d.kind === 'demo') {
    lab.selectDataset(DEMO.id);
    return;
  }
  const store = datasetStore();
  if (!(await store.get(d.id))) {
    onPrepare('Generating the synthetic dataset in this browser…');
    await storeSyntheticDataset(store, d.spec, { id: d.id, name: d.name });
    await lab.refreshDatasets();
  } else if (!lab.datasets.some((m) => m.id === d.id)) await lab.refreshDatasets();
  useLab.getState().selectDataset(d.id);
}

/**
 * Start storing a step's demo data as soon as the step is shown, so that Run step starts training at once
 * (the demo import is shared with the lab store's own through ensureDemoPausing: over the storage quota it pauses with
 * the storage banner, as from Train). Other failures surface on Run step.
 */
function prefetch(step: LessonStep): void {
  if (step.run.data.kind !== 'demo' || typeof Worker === 'undefined') return;
  ensureDemoPausing()
    .then(() => useLab.getState().refreshDatasets())
    .catch(() => {});
}

/** The lesson store. */
export const useLessons = create<LessonState & LessonActions>()((set, get) => {
  const show = (lesson: Lesson, stepIndex: number) => {
    const i = Math.max(0, Math.min(stepIndex, lesson.steps.length - 1));
    const progress = { ...get().progress };
    progress[lesson.id] = { step: i, done: progress[lesson.id]?.done ?? [] };
    saveProgress(progress);
    setHash(lesson.id, i);
    set({ lesson, stepIndex: i, progress, error: null });
    prefetch(lesson.steps[i]);
  };
  return {
    lesson: null,
    stepIndex: 0,
    results: {},
    progress: loadProgress(),
    present: false,
    preparing: null,
    error: null,
    open(id, step = 0) {
      const lesson = findLesson(id);
      if (!lesson) {
        set({
          lesson: null,
          error: `No lesson "${id}". Lessons: ${LESSONS.map((l) => l.id).join(', ')}.`,
        });
        return;
      }
      show(lesson, step);
    },
    close() {
      setHash(null, 0);
      set({ lesson: null, present: false });
    },
    next() {
      const { lesson, stepIndex } = get();
      if (lesson && stepIndex < lesson.steps.length - 1) show(lesson, stepIndex + 1);
    },
    back() {
      const { lesson, stepIndex } = get();
      if (lesson && stepIndex > 0) show(lesson, stepIndex - 1);
    },
    async applyPreset() {
      const { lesson, stepIndex } = get();
      if (!lesson) return;
      const step = lesson.steps[stepIndex];
      try {
        await selectData(step, (preparing) => set({ preparing }));
        writeForm(step);
      } catch (e) {
        set({ error: `The step's data could not be prepared: ${(e as Error).message}` });
        throw e;
      } finally {
        set({ preparing: null });
      }
    },
    async runStep() {
      const { lesson, stepIndex } = get();
      if (!lesson) return;
      try {
        await get().applyPreset();
      } catch {
        return;
      }
      pending = { lessonId: lesson.id, step: stepIndex };
      await useLab.getState().train();
      if (useLab.getState().status === 'idle') pending = null; // it did not start
    },
    setPresent(on) {
      set({ present: on });
    },
  };
});

/** The step whose run is in flight (its summary becomes that step's result). */
let pending: { lessonId: string; step: number } | null = null;

function record(lessonId: string, r: LessonResult): void {
  useLessons.setState((s) => {
    const list = (s.results[lessonId] ?? []).filter((x) => x.step !== r.step || x.runId === r.runId);
    const i = list.findIndex((x) => x.runId === r.runId);
    if (i >= 0) list[i] = { ...list[i], ...r };
    else list.push(r);
    list.sort((a, b) => a.step - b.step);
    const progress = { ...s.progress };
    const p = progress[lessonId] ?? { step: r.step, done: [] };
    progress[lessonId] = { ...p, done: [...new Set([...p.done, r.step])].sort((a, b) => a - b) };
    saveProgress(progress);
    return { results: { ...s.results, [lessonId]: list }, progress };
  });
}

/** performance.mark(`sae-lab:${name}`) where the API exists. */
function mark(name: string): void {
  globalThis.performance?.mark?.(`sae-lab:${name}`);
}

let following = false;
/**
 * Connect the lesson store to the page: open the lesson named by `#lesson=<id>` (and on hash changes), turn on
 * presenter view for `?present`, and record each lesson run's summary. Idempotent.
 */
export function followLessons(): void {
  if (following || typeof location === 'undefined') return;
  following = true;
  const fromHash = () => {
    const h = parseLessonHash(location.hash);
    const s = useLessons.getState();
    if (h && (s.lesson?.id !== h.id || s.stepIndex !== h.step)) s.open(h.id, h.step);
  };
  fromHash();
  globalThis.addEventListener('hashchange', fromHash);
  if (new URLSearchParams(location.search).has('present')) useLessons.getState().setPresent(true);
  useLab.subscribe((s, prev) => {
    // Performance marks for the `classroom` bench (scripts/bench.mjs): demo import and first training point.
    if (s.demoStatus !== prev.demoStatus) mark(`demo-${s.demoStatus}`);
    if (s.status === 'starting' && prev.status !== 'starting') mark('run-starting');
    if (s.lastTrain && !prev.lastTrain) mark('first-point');
    else if (s.lastTrain && prev.lastTrain && s.lastTrain.step < prev.lastTrain.step) mark('first-point');
    if (!s.summary || s.summary === prev.summary || !pending) return;
    const sum = s.summary;
    const cfg = s.run?.config;
    const at = pending;
    pending = null;
    record(at.lessonId, {
      step: at.step,
      runId: sum.runId,
      dSae: sum.dSae,
      k: sum.k,
      auxk: cfg?.auxk ?? false,
      explainedVariance: sum.heldOut.explainedVariance,
      fvu: sum.heldOut.fvu,
      l0: sum.heldOut.l0,
      deadInWindow: sum.deadInWindow,
      wallMs: sum.wallMs,
    });
    const unsub = useRecovery.subscribe((r) => {
      if (r.recovery?.runId !== sum.runId) return;
      unsub();
      record(at.lessonId, {
        ...(useLessons.getState().results[at.lessonId]?.find((x) => x.runId === sum.runId) as LessonResult),
        meanBestCosine: r.recovery.meanBestCosine,
        recoveredFraction: r.recovery.recoveredFraction,
      });
    });
  });
}
