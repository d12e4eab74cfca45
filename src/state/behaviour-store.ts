/**
 * Patched-CE points of the current run (src/worker/behaviour-tap.ts): the live curve (one point per held-out
 * evaluation, on a small fixed set of held-out documents) and the final evaluation on all held-out documents.
 */
import { create } from 'zustand';
import type { BehaviourPoint } from '../lm/behaviour';

/** State of {@link useBehaviour}. */
export interface BehaviourState {
  live: BehaviourPoint[];
  final: BehaviourPoint | null;
  error: string | null;
  /** Forget the previous run's points. */
  reset(): void;
  push(p: BehaviourPoint): void;
  fail(message: string): void;
}

/** The behaviour store. */
export const useBehaviour = create<BehaviourState>()((set) => ({
  live: [],
  final: null,
  error: null,
  reset: () => set({ live: [], final: null, error: null }),
  push: (p) => set((s) => (p.final ? { final: p } : { live: [...s.live, p] })),
  fail: (message) => set({ error: message }),
}));
