/**
 * The latent list's model (no React): order latents by firing density, max activation or index, and find the
 * latents whose top contexts hold a token. Built once per feature pass; every query is a typed-array walk, so a
 * list of d_sae = 65,536 latents re-sorts and filters in milliseconds (src/features/list-model.test.ts).
 */
import { TOP_N } from './pass';

export { firingDensity as density } from '../sae/metrics';

/** Sort keys of the latent list. */
export type FeatureSortKey = 'density' | 'maxAct' | 'index';

/** What the list needs of a feature pass. */
export interface FeatureListInput {
  dSae: number;
  nTokens: number;
  /** Firing count [S]. */
  count: Uint32Array;
  /** Max activation [S]. */
  maxAct: Float32Array;
  /** Token id at the centre of each top context [S, TOP_N] (−1 padding). */
  topTokenIds: Int32Array;
  /** Text of each token id (the tokenizer's pieces). */
  vocab: readonly string[];
}

/** The latent list: sorted orders and token search. */
export class FeatureListModel {
  /** token id → latents having it among their top contexts (ascending, unique). */
  private readonly byToken: Map<number, Int32Array>;

  constructor(readonly input: FeatureListInput) {
    const lists = new Map<number, number[]>();
    const { dSae, topTokenIds } = input;
    for (let s = 0; s < dSae; s++) {
      for (let j = 0; j < TOP_N; j++) {
        const id = topTokenIds[s * TOP_N + j];
        if (id < 0) continue;
        let l = lists.get(id);
        if (!l) {
          l = [];
          lists.set(id, l);
        }
        if (l[l.length - 1] !== s) l.push(s);
      }
    }
    this.byToken = new Map([...lists].map(([k, v]) => [k, Int32Array.from(v)]));
  }

  /** A latent fired on no scanned token. */
  isDead(s: number): boolean {
    return this.input.count[s] === 0;
  }

  /** Number of dead latents. */
  deadCount(): number {
    let n = 0;
    for (let s = 0; s < this.input.dSae; s++) if (this.input.count[s] === 0) n++;
    return n;
  }

  /**
   * Latent indices (all, or those of `subset`) ordered by `key`, descending for density and max activation
   * (ties to the lower index), ascending for the index; `ascending` flips the order.
   */
  order(key: FeatureSortKey, ascending = key === 'index', subset?: Int32Array): Int32Array {
    const idx = subset ? subset.slice() : Int32Array.from({ length: this.input.dSae }, (_, i) => i);
    if (key === 'index') return ascending ? idx.sort() : idx.sort().reverse();
    const v = key === 'density' ? this.input.count : this.input.maxAct;
    const sign = ascending ? 1 : -1;
    return idx.sort((a, b) => sign * (v[a] - v[b]) || a - b);
  }

  /**
   * Latents whose top contexts' centre token contains `query` (case-insensitive, surrounding spaces ignored;
   * a leading "#" followed by digits selects that latent index instead). Ascending; empty query = all latents.
   */
  search(query: string): Int32Array {
    const q = query.trim().toLowerCase();
    if (!q) return Int32Array.from({ length: this.input.dSae }, (_, i) => i);
    const m = /^#(\d+)$/.exec(q);
    if (m) {
      const i = Number(m[1]);
      return i < this.input.dSae ? Int32Array.of(i) : new Int32Array(0);
    }
    const hit = new Uint8Array(this.input.dSae);
    this.input.vocab.forEach((piece, id) => {
      if (!piece.trim().toLowerCase().includes(q)) return;
      const l = this.byToken.get(id);
      if (l) for (const s of l) hit[s] = 1;
    });
    const out: number[] = [];
    for (let s = 0; s < hit.length; s++) if (hit[s]) out.push(s);
    return Int32Array.from(out);
  }
}
