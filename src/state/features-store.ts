/**
 * The feature dashboard's state (zustand): which run's dashboard is open, its stored feature pass and latent
 * list, the selected latent and its detail, pass progress, "try a text", and `#feature=<run>/<index>` links. The
 * work happens in the features worker (src/worker/features-worker.ts).
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import { featureUrl, isFeatureFragment, parseFeatureFragment } from '../features/link';
import { FeatureListModel, type FeatureSortKey } from '../features/list-model';
import type { FeatureDetail, TryTextResult } from '../features/session';
import type { StoredFeatures } from '../features/store';
import { featuresWorker } from '../worker/features-client';
import type { OpenedFeatures } from '../worker/features-worker';
import { useLab } from './lab-store';

export interface FeaturesState {
  /** The run whose dashboard is open, or null (panel hidden). */
  runId: string | null;
  opened: OpenedFeatures | null;
  stored: StoredFeatures | null;
  list: FeatureListModel | null;
  /** Pass in progress: fraction in [0, 1] and text; null when idle. */
  progress: { fraction: number; text: string } | null;
  selected: number | null;
  detail: FeatureDetail | null;
  sort: { key: FeatureSortKey; ascending: boolean };
  query: string;
  tryResult: TryTextResult | null;
  link: string | null;
  error: string | null;
  /** Open run `runId`'s dashboard (and latent `latent`); computes the pass first when `compute` and none is stored. */
  openRun(runId: string, latent?: number, compute?: boolean): Promise<void>;
  /** Run the feature pass over the first `maxTokens` rows (all when undefined). */
  compute(maxTokens?: number): Promise<void>;
  cancel(): void;
  select(latent: number): Promise<void>;
  setSort(key: FeatureSortKey, ascending: boolean): void;
  setQuery(q: string): void;
  tryText(text: string): Promise<void>;
  /** Copy the selected latent's link (best effort) and show it. */
  copyLink(): Promise<void>;
  close(): void;
}

function pageBase(): string {
  const l = globalThis.location;
  return `${l.origin}${l.pathname}${l.search}`;
}

function listOf(o: OpenedFeatures, s: StoredFeatures): FeatureListModel {
  return new FeatureListModel({
    dSae: s.stats.dSae,
    nTokens: s.stats.nTokens,
    count: s.stats.count,
    maxAct: s.stats.maxAct,
    topTokenIds: s.topTokenIds,
    vocab: o.vocab,
  });
}

export const useFeatures = create<FeaturesState>((set, get) => {
  const fail = (prefix: string) => (e: unknown) =>
    set({ error: `${prefix}: ${(e as Error).message}`, progress: null });
  return {
    runId: null,
    opened: null,
    stored: null,
    list: null,
    progress: null,
    selected: null,
    detail: null,
    sort: { key: 'density', ascending: false },
    query: '',
    tryResult: null,
    link: null,
    error: null,

    async openRun(runId, latent, compute = false) {
      set({ runId, opened: null, stored: null, list: null, selected: null, detail: null, error: null });
      set({ tryResult: null, link: null });
      try {
        const o = await featuresWorker().open(runId);
        if (get().runId !== runId) return;
        set({ opened: o, stored: o.stored, list: o.stored ? listOf(o, o.stored) : null });
        if (!o.stored && compute) await get().compute();
        if (latent !== undefined && get().stored) await get().select(latent);
      } catch (e) {
        fail('Feature dashboard')(e);
      }
    },

    async compute(maxTokens) {
      const { runId, opened } = get();
      if (!runId || !opened || get().progress) return;
      set({ progress: { fraction: 0, text: 'starting' }, error: null });
      try {
        // The engine the lab chose for training (the fast CPU engine on a software adapter) runs the pass too.
        const engine = useLab.getState().engine?.engine === 'gpu' ? 'gpu' : 'cpu';
        const s = await featuresWorker().compute(
          runId,
          maxTokens,
          engine,
          Comlink.proxy((p) => set({ progress: p })),
        );
        if (get().runId !== runId) return;
        set({ stored: s, list: listOf(opened, s), progress: null, detail: null });
        const sel = get().selected;
        if (sel !== null) await get().select(sel);
      } catch (e) {
        fail('Feature pass')(e);
      }
    },

    cancel() {
      void featuresWorker().cancel();
    },

    async select(latent) {
      const { runId, stored } = get();
      if (!runId || !stored) return;
      if (!(Number.isInteger(latent) && latent >= 0 && latent < stored.stats.dSae)) {
        set({ error: `Latent ${latent} is outside 0..${stored.stats.dSae - 1}.` });
        return;
      }
      set({ selected: latent, link: null });
      try {
        const d = await featuresWorker().detail(runId, latent);
        if (get().runId === runId && get().selected === latent) set({ detail: d });
      } catch (e) {
        fail(`Latent ${latent}`)(e);
      }
    },

    setSort(key, ascending) {
      set({ sort: { key, ascending } });
    },

    setQuery(q) {
      set({ query: q });
    },

    async tryText(text) {
      const { runId } = get();
      if (!runId) return;
      try {
        set({ tryResult: await featuresWorker().tryText(runId, text), error: null });
      } catch (e) {
        fail('Try a text')(e);
      }
    },

    async copyLink() {
      const { runId, selected } = get();
      if (!runId || selected === null) return;
      const url = featureUrl(pageBase(), runId, selected);
      try {
        await navigator.clipboard.writeText(url);
      } catch {
        // No clipboard permission: the link is shown to copy by hand.
      }
      set({ link: url });
    },

    close() {
      set({ runId: null, opened: null, stored: null, list: null, selected: null, detail: null });
    },
  };
});

/** Open `#feature=<run>/<index>` links now and on every hash change; a bad link shows its message. */
export function followFeatureLinks(): void {
  const go = () => {
    const h = globalThis.location?.hash ?? '';
    if (!isFeatureFragment(h)) return;
    try {
      const { runId, latent } = parseFeatureFragment(h);
      void useFeatures.getState().openRun(runId, latent, true);
    } catch (e) {
      useFeatures.setState({ error: (e as Error).message });
    }
  };
  go();
  globalThis.addEventListener?.('hashchange', go);
}
