/**
 * The sweep panel's store (no React components): the grid form, the plan shown before start, the active sweep's
 * live series and progress, the interrupted sweep a reload offers to resume, and sweep share links (`#sweep=…`).
 * The sweep trains in the lab worker (src/sweep/worker-sweep.ts); its runs land in the run library like any run.
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import { DEMO } from '../data/demo';
import { ensureDemoDataset } from '../data/import-client';
import { datasetStore } from '../data/store';
import { ShareLinkError } from '../runs/share';
import { ARCHITECTURES, type Architecture } from '../sae/archs';
import { parseNumberList, SPARSITY_AXES, type SparsityAxis, type SweepGrid } from '../sweep/grid';
import { decodeSweepFragment, encodeSweepFragment, isSweepFragment } from '../sweep/share';
import { isUnfinished, listSweeps, type SweepRecord, type SweepStatus } from '../sweep/store';
import type { SweepEvent, SweepPlan } from '../sweep/worker-sweep';
import type { TrainConfig } from '../train/config';
import { labWorker } from '../worker/client';
import { validateForm } from './config-form';
import { useLab } from './lab-store';
import { refOfDataset, useRuns } from './runs-store';

/** The grid form: text fields of comma-separated values. */
export interface SweepForm {
  architectures: Architecture[];
  dSaes: string;
  sparsity: Record<SparsityAxis, string>;
  lrs: string;
}

/** One recorded point of a member: step and the live metrics the small multiples draw. */
export interface MemberPoint {
  step: number;
  fvu: number;
  l0: number;
  deadFraction: number;
}

/** Progress of one member. */
export interface MemberProgress {
  step: number;
  total: number;
  status: string;
}

export interface SweepState {
  form: SweepForm;
  plan: SweepPlan | null;
  planning: boolean;
  error: string | null;
  /** The active (or last) sweep of this page. */
  record: SweepRecord | null;
  status: SweepStatus | 'idle';
  group: number;
  progress: Record<number, MemberProgress>;
  /** Per member, the recorded training points (kept small: every history point of the run). */
  series: Record<number, MemberPoint[]>;
  /** Bumped when series change (the charts redraw at most once a second). */
  version: number;
  /** An unfinished sweep found in storage (a reload or crash stopped it). */
  interrupted: SweepRecord | null;
  link: string | null;
}

export interface SweepActions {
  init(): Promise<void>;
  setArchitecture(a: Architecture, on: boolean): void;
  setField(field: 'dSaes' | 'lrs' | SparsityAxis, value: string): void;
  /** Parse the form into a grid and the run form's config into the base. @throws Error naming the field. */
  gridAndBase(): { grid: SweepGrid; base: TrainConfig; datasetId: string };
  planSweep(): Promise<void>;
  start(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  resumeInterrupted(): Promise<void>;
  /** Make the share link of the current grid (shown and copied). */
  shareLink(): Promise<void>;
  /** Fill the form from a `#sweep=` fragment; a bad link sets `error` and changes nothing. */
  openFragment(hash: string): Promise<void>;
}

const DEFAULT_FORM: SweepForm = {
  architectures: ARCHITECTURES.slice(0, 2),
  dSaes: '512',
  sparsity: { k: '4, 16', l0Coefficient: '0.1, 0.3', l1Coefficient: '1, 2' },
  lrs: '0.001',
};

/** The sweep store. */
export const useSweep = create<SweepState & SweepActions>()((set, get) => {
  let lastDraw = 0;
  let drawTimer: ReturnType<typeof setTimeout> | null = null;
  const redraw = () => {
    const now = Date.now();
    if (now - lastDraw >= 1000) {
      lastDraw = now;
      set((s) => ({ version: s.version + 1 }));
    } else if (!drawTimer) {
      drawTimer = setTimeout(() => {
        drawTimer = null;
        lastDraw = Date.now();
        set((s) => ({ version: s.version + 1 }));
      }, 1000);
    }
  };

  const onEvent = (e: SweepEvent): void => {
    if (e.type === 'group') {
      set({ group: e.group });
      return;
    }
    if (e.type === 'sweep-status') {
      set({ status: e.status, record: e.record });
      if (e.status !== 'running' && e.status !== 'paused') {
        set((s) => ({ version: s.version + 1 }));
        void useRuns.getState().refresh();
      }
      return;
    }
    const m = e.member;
    const ev = e.event;
    const progress = get().progress[m];
    switch (ev.type) {
      case 'started':
        set((s) => ({
          progress: {
            ...s.progress,
            [m]: { step: ev.run.startStep, total: ev.run.totalSteps, status: 'running' },
          },
        }));
        break;
      case 'history': {
        const col = (f: string) => ev.train.columns[ev.train.fields.indexOf(f)] ?? new Float64Array(0);
        const [step, fvu, l0, dead] = ['step', 'fvu', 'l0', 'deadFraction'].map(col);
        const pts: MemberPoint[] = [];
        for (let i = 0; i < step.length; i++) {
          pts.push({ step: step[i], fvu: fvu[i], l0: l0[i], deadFraction: dead[i] });
        }
        set((s) => ({ series: { ...s.series, [m]: pts } }));
        redraw();
        break;
      }
      case 'metrics': {
        const p = ev.point;
        const series = get().series;
        series[m] = [
          ...(series[m] ?? []),
          { step: p.step, fvu: p.fvu, l0: p.l0, deadFraction: p.deadFraction },
        ];
        set((s) => ({
          progress: {
            ...s.progress,
            [m]: { ...(progress ?? { total: 0, status: 'running' }), step: p.step },
          },
        }));
        redraw();
        break;
      }
      case 'status':
        set((s) => ({
          progress: {
            ...s.progress,
            [m]: { ...(progress ?? { total: 0, step: ev.step }), step: ev.step, status: ev.status },
          },
        }));
        break;
      case 'error':
        set((s) => ({
          progress: { ...s.progress, [m]: { ...(progress ?? { total: 0, step: ev.step }), status: 'error' } },
          error: `Run ${m + 1}: ${ev.message}`,
        }));
        break;
      case 'summary':
        void useRuns.getState().refresh();
        break;
    }
  };

  const begin = (record: SweepRecord) =>
    set({
      record,
      status: 'running',
      error: null,
      interrupted: null,
      progress: {},
      series: {},
      group: 0,
    });

  /** The built-in demo is imported into IndexedDB on first use (as the run form's Train does). */
  const ensureDemo = async (datasetId: string) => {
    const lab = useLab.getState();
    if (datasetId !== DEMO.id || (await datasetStore().get(DEMO.id))) return;
    useLab.setState({ demoStatus: 'preparing' });
    await ensureDemoDataset();
    useLab.setState({ demoStatus: 'ready' });
    await lab.refreshDatasets();
  };

  const guard = async (what: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (e) {
      set({ error: `${what}: ${(e as Error).message}`, planning: false });
    }
  };

  return {
    form: DEFAULT_FORM,
    plan: null,
    planning: false,
    error: null,
    record: null,
    status: 'idle',
    group: 0,
    progress: {},
    series: {},
    version: 0,
    interrupted: null,
    link: null,

    async init() {
      const sweeps = await listSweeps().catch(() => []);
      set({ interrupted: sweeps.find(isUnfinished) ?? null });
      const hash = globalThis.location?.hash ?? '';
      if (isSweepFragment(hash)) await get().openFragment(hash);
      globalThis.addEventListener?.('hashchange', () => {
        if (isSweepFragment(globalThis.location.hash)) void get().openFragment(globalThis.location.hash);
      });
    },

    setArchitecture(a, on) {
      set((s) => ({
        plan: null,
        form: {
          ...s.form,
          architectures: ARCHITECTURES.filter((x) => (x === a ? on : s.form.architectures.includes(x))),
        },
      }));
    },

    setField(field, value) {
      set((s) => ({
        plan: null,
        form:
          field === 'dSaes' || field === 'lrs'
            ? { ...s.form, [field]: value }
            : { ...s.form, sparsity: { ...s.form.sparsity, [field]: value } },
      }));
    },

    gridAndBase() {
      const lab = useLab.getState();
      const datasetId = lab.datasetId;
      if (!datasetId) throw new Error('choose a dataset first');
      const m = lab.datasets.find((d) => d.id === datasetId);
      const v = validateForm(lab.form, m ? { dModel: m.dModel, nTokens: m.nTokens } : undefined);
      if (!v.ok) throw new Error(`the run form is invalid: ${Object.values(v.errors).join('; ')}`);
      const f = get().form;
      const sparsity: SweepGrid['sparsity'] = {};
      for (const axis of SPARSITY_AXES) {
        const text = f.sparsity[axis];
        if (text.trim()) sparsity[axis] = parseNumberList(text, axis === 'k' ? 'k' : 'λ', axis === 'k');
      }
      const grid: SweepGrid = {
        architectures: f.architectures,
        dSaes: parseNumberList(f.dSaes, 'd_sae', true),
        sparsity,
        lrs: parseNumberList(f.lrs, 'learning rate'),
      };
      return { grid, base: v.config, datasetId };
    },

    planSweep: () =>
      guard('Sweep plan', async () => {
        set({ planning: true, error: null, plan: null });
        const { grid, base, datasetId } = get().gridAndBase();
        await ensureDemo(datasetId);
        const plan = await labWorker().planSweep(base, grid, datasetId);
        set({ plan, planning: false });
      }),

    start: () =>
      guard('Sweep start', async () => {
        const { grid, base, datasetId } = get().gridAndBase();
        await ensureDemo(datasetId);
        const record = await labWorker().startSweep(base, grid, datasetId, Comlink.proxy(onEvent));
        begin(record);
        set({ record });
      }),

    pause: () => guard('Pause', () => labWorker().pauseSweep()),
    resume: () => guard('Resume', () => labWorker().continueSweep()),
    stop: () => guard('Stop', () => labWorker().stopSweep()),

    resumeInterrupted: () =>
      guard('Resume sweep', async () => {
        const r = get().interrupted;
        if (!r) return;
        const record = await labWorker().resumeSweep(r.id, Comlink.proxy(onEvent));
        begin(record);
      }),

    shareLink: () =>
      guard('Share link', async () => {
        const { grid, base, datasetId } = get().gridAndBase();
        const m = useLab.getState().datasets.find((d) => d.id === datasetId);
        if (!m) throw new Error('the dataset is not in the library');
        const frag = encodeSweepFragment({ base, grid, dataset: await refOfDataset(m) });
        const link = `${globalThis.location.href.split('#')[0]}#${frag}`;
        set({ link });
        await navigator.clipboard?.writeText(link).catch(() => undefined);
      }),

    async openFragment(hash) {
      try {
        const shared = decodeSweepFragment(hash);
        const lab = useLab.getState();
        // The base config goes into the run form (its fields are the sweep's shared ones).
        for (const [k, v] of Object.entries(shared.base)) {
          if (k in lab.form)
            lab.setField(k as Parameters<typeof lab.setField>[0], v === null ? '' : String(v));
        }
        const sparsity = { ...get().form.sparsity };
        for (const axis of SPARSITY_AXES) sparsity[axis] = (shared.grid.sparsity[axis] ?? []).join(', ');
        set({
          form: {
            architectures: shared.grid.architectures,
            dSaes: shared.grid.dSaes.join(', '),
            sparsity,
            lrs: shared.grid.lrs.join(', '),
          },
          plan: null,
          error: null,
        });
      } catch (e) {
        set({
          error:
            e instanceof ShareLinkError ? `Sweep link: ${e.message}` : `Sweep link: ${(e as Error).message}`,
        });
      }
    },
  };
});
