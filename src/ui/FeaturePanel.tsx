/**
 * The feature dashboard of one run (state: src/state/features-store.ts; data: src/features/): a virtualised,
 * sortable, searchable latent list, and per latent its top contexts, quantile-band samples, activation histogram,
 * firing density, max activation, logit effects, decoder neighbours, and "Try a text".
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import type uPlot from 'uplot';
import type { FeatureContext } from '../features/context';
import type { FeatureSortKey } from '../features/list-model';
import { BINS, TOP_N } from '../features/pass';
import { log10FiringDensity } from '../sae/metrics';
import { useFeatures } from '../state/features-store';
import { StaticPlot } from './StaticPlot';

const ROW_HEIGHT = 28;

function log10Density(count: number, nTokens: number): string {
  const d = log10FiringDensity(count, nTokens);
  return Number.isFinite(d) ? d.toFixed(2) : '−∞';
}

/** One context: tokens with the latent's activation as background intensity; the centre token outlined. */
function Context({ c, vocab, max }: { c: FeatureContext; vocab: string[]; max: number }) {
  return (
    <li
      className="feature-context"
      data-testid="feature-context"
      data-activation={c.value}
      title={`row ${c.row}: activation ${c.value.toPrecision(4)}`}
    >
      <span className="ctx-value">{c.value.toFixed(3)}</span>
      {c.ids.map((id, j) => {
        const a = c.acts[j] ?? 0;
        const alpha = max > 0 ? Math.min(1, a / max) : 0;
        return (
          <span
            // biome-ignore lint/suspicious/noArrayIndexKey: tokens of a fixed context, never reordered
            key={j}
            className={c.start + j === c.row ? 'tok centre' : 'tok'}
            style={{ backgroundColor: `rgba(230, 120, 20, ${alpha.toFixed(3)})` }}
            title={`${JSON.stringify(vocab[id] ?? `#${id}`)}: ${a.toPrecision(3)}`}
          >
            {(vocab[id] ?? `#${id}`).replace(/\n/g, '↵')}
          </span>
        );
      })}
    </li>
  );
}

function histOptions(title: string, xLabel: string) {
  return (width: number): uPlot.Options => ({
    title,
    width,
    height: 160,
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [{ label: xLabel }, { label: 'count' }],
    series: [{}, { label: 'count', stroke: '#c60', fill: 'rgba(204,102,0,0.3)', paths: undefined }],
  });
}

/** The selected latent's panel. */
function LatentView() {
  const f = useFeatures();
  const { stored, detail, opened, selected } = f;
  const vocab = opened?.vocab ?? [];
  const histData = useMemo((): uPlot.AlignedData | null => {
    if (!stored || selected === null) return null;
    const max = stored.stats.maxAct[selected];
    const xs = Array.from({ length: BINS }, (_, b) => ((b + 0.5) * max) / BINS);
    const ys = Array.from(stored.stats.hist.subarray(selected * BINS, (selected + 1) * BINS));
    return [xs, ys];
  }, [stored, selected]);
  const logitData = useMemo((): uPlot.AlignedData | null => {
    const l = detail?.logits;
    if (!l) return null;
    const w = (l.histHi - l.histLo) / l.hist.length;
    return [l.hist.map((_, b) => l.histLo + (b + 0.5) * w), l.hist];
  }, [detail]);
  const actOptions = useMemo(() => histOptions('activations (nonzero)', 'activation'), []);
  const logitOptions = useMemo(() => histOptions('logit effects (all tokens)', 'logit'), []);
  if (!stored || selected === null) return <p className="hint">Pick a latent in the list.</p>;
  const st = stored.stats;
  const max = st.maxAct[selected];
  const count = st.count[selected];
  const piece = (id: number) => JSON.stringify(vocab[id] ?? `#${id}`);
  return (
    <div className="latent-view" data-testid="feature-latent" data-latent={selected}>
      <h3>
        Latent {selected}{' '}
        <button type="button" data-testid="feature-copy-link" onClick={() => void f.copyLink()}>
          Copy link
        </button>
      </h3>
      {f.link && (
        <input
          readOnly
          className="link-field"
          data-testid="feature-link"
          value={f.link}
          aria-label="Latent link"
        />
      )}
      <p data-testid="feature-stats">
        log10 firing density <b data-testid="feature-density">{log10Density(count, st.nTokens)}</b> ({count}{' '}
        of {st.nTokens.toLocaleString('en-US')} tokens) · max activation{' '}
        <b data-testid="feature-max">{max.toPrecision(4)}</b>
        {count === 0 && <b className="dead"> · dead (fired on no token)</b>}
      </p>
      {!detail || detail.latent !== selected ? (
        <p className="hint">Reading contexts…</p>
      ) : (
        <>
          <h4>Top {TOP_N} activations (±8 tokens; colour = this latent's activation)</h4>
          {!opened?.hasTokens && (
            <p className="hint">This dataset has no token ids: contexts show rows only.</p>
          )}
          <ol className="contexts" data-testid="feature-top-contexts">
            {detail.top.map((c) => (
              <Context key={c.row} c={c} vocab={vocab} max={max} />
            ))}
          </ol>
          <details>
            <summary>Quantile-band samples (10 bands of the max activation, 5 each)</summary>
            {detail.bands.map((b) => (
              <div key={b.band} data-testid="feature-band">
                <h5>
                  band {b.band + 1}: ({((b.band * max) / 10).toPrecision(3)},{' '}
                  {(((b.band + 1) * max) / 10).toPrecision(3)}]
                </h5>
                <ol className="contexts">
                  {b.contexts.map((c) => (
                    <Context key={c.row} c={c} vocab={vocab} max={max} />
                  ))}
                </ol>
              </div>
            ))}
          </details>
          {histData && (
            <StaticPlot
              testId="feature-histogram"
              options={actOptions}
              data={histData}
              caption={`${BINS}-bin histogram of the nonzero activations over (0, max]`}
            />
          )}
          <div className="feature-columns">
            <div data-testid="feature-logits">
              <h4>Logit effects</h4>
              {detail.logits ? (
                <>
                  <p className="hint">W_dec[{selected}] · W_U with the final RMSNorm weight folded in.</p>
                  <table className="logits">
                    <thead>
                      <tr>
                        <th>top +</th>
                        <th />
                        <th>bottom −</th>
                        <th />
                      </tr>
                    </thead>
                    <tbody>
                      {detail.logits.top.map((t, j) => (
                        <tr key={t.token}>
                          <td data-testid="feature-logit-top">{piece(t.token)}</td>
                          <td>{t.logit.toFixed(3)}</td>
                          <td>{piece(detail.logits?.bottom[j].token ?? 0)}</td>
                          <td>{detail.logits?.bottom[j].logit.toFixed(3)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  {logitData && (
                    <StaticPlot
                      testId="feature-logit-histogram"
                      options={logitOptions}
                      data={logitData}
                      caption="logit effect on every output token"
                    />
                  )}
                </>
              ) : (
                <p className="hint">The dataset's model is not one the lab has: no logit effects.</p>
              )}
            </div>
            <div data-testid="feature-neighbours">
              <h4>Decoder neighbours (|cos|)</h4>
              <ol>
                {detail.neighbours.map((n) => (
                  <li key={n.latent}>
                    <button
                      type="button"
                      className="link"
                      data-testid="feature-neighbour"
                      data-latent={n.latent}
                      onClick={() => void f.select(n.latent)}
                    >
                      latent {n.latent}
                    </button>{' '}
                    cos {n.cos.toFixed(3)}
                  </li>
                ))}
              </ol>
            </div>
          </div>
        </>
      )}
    </div>
  );
}

/** The virtualised latent list. */
function LatentList() {
  const f = useFeatures();
  const host = useRef<HTMLDivElement>(null);
  const { list, stored, sort, query } = f;
  const order = useMemo(() => {
    if (!list) return new Int32Array(0);
    return list.order(sort.key, sort.ascending, query.trim() ? list.search(query) : undefined);
  }, [list, sort, query]);
  const v = useVirtualizer({
    count: order.length,
    getScrollElement: () => host.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  if (!list || !stored) return null;
  const st = stored.stats;
  return (
    <div className="latent-list">
      <div className="list-controls">
        <label>
          Sort{' '}
          <select
            data-testid="feature-sort"
            value={`${sort.key}:${sort.ascending ? 'asc' : 'desc'}`}
            onChange={(e) => {
              const [k, d] = e.target.value.split(':');
              f.setSort(k as FeatureSortKey, d === 'asc');
            }}
          >
            <option value="density:desc">density ↓</option>
            <option value="density:asc">density ↑</option>
            <option value="maxAct:desc">max activation ↓</option>
            <option value="maxAct:asc">max activation ↑</option>
            <option value="index:asc">index ↑</option>
            <option value="index:desc">index ↓</option>
          </select>
        </label>{' '}
        <input
          type="search"
          data-testid="feature-search"
          placeholder="token in top contexts, or #index"
          aria-label="Search latents by a token in their top contexts"
          value={query}
          onChange={(e) => f.setQuery(e.target.value)}
        />
        <span className="hint" data-testid="feature-list-count">
          {order.length.toLocaleString('en-US')} latents · {list.deadCount()} dead
        </span>
      </div>
      <div
        ref={host}
        className="latent-scroll"
        data-testid="feature-list"
        role="listbox"
        aria-label="Latents"
        tabIndex={0}
        onKeyDown={(e) => {
          const cur = f.selected === null ? -1 : order.indexOf(f.selected);
          const next = e.key === 'ArrowDown' ? cur + 1 : e.key === 'ArrowUp' ? cur - 1 : -2;
          if (next < -1 || next >= order.length || next < 0) return;
          e.preventDefault();
          void f.select(order[next]);
          v.scrollToIndex(next);
        }}
      >
        <div style={{ height: v.getTotalSize(), position: 'relative' }}>
          {v.getVirtualItems().map((item) => {
            const s = order[item.index];
            const dead = st.count[s] === 0;
            return (
              <div
                key={s}
                role="option"
                aria-selected={f.selected === s}
                tabIndex={-1}
                className={`feature-row${f.selected === s ? ' selected' : ''}${dead ? ' dead' : ''}`}
                data-testid="feature-row"
                data-latent={s}
                style={{ position: 'absolute', top: item.start, height: ROW_HEIGHT, left: 0, right: 0 }}
                onClick={() => void f.select(s)}
                onKeyDown={(e) => e.key === 'Enter' && void f.select(s)}
              >
                <span className="idx">#{s}</span>
                <span>log10 d {log10Density(st.count[s], st.nTokens)}</span>
                <span>max {st.maxAct[s].toPrecision(3)}</span>
                {dead && <span className="dead">dead</span>}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

/** "Try a text". */
function TryText() {
  const f = useFeatures();
  const [text, setText] = useState('Once upon a time, there was a little cat.');
  if (!f.opened?.hasModel) return null;
  return (
    <div className="try-text" data-testid="feature-try">
      <h4>Try a text</h4>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void f.tryText(text);
        }}
      >
        <input
          data-testid="feature-try-input"
          aria-label="Text to run through the model and the SAE"
          value={text}
          onChange={(e) => setText(e.target.value)}
          size={50}
        />{' '}
        <button type="submit" data-testid="feature-try-run">
          Run
        </button>
      </form>
      {f.tryResult && (
        <table className="try-result" data-testid="feature-try-result">
          <tbody>
            {f.tryResult.pieces.map((p, t) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: positions of a fixed text
              <tr key={t}>
                <td>{JSON.stringify(p)}</td>
                <td>
                  {f.tryResult?.latents[t].map((l) => (
                    <button
                      key={l.latent}
                      type="button"
                      className="link"
                      data-testid="feature-try-latent"
                      onClick={() => void f.select(l.latent)}
                    >
                      #{l.latent} ({l.value.toFixed(2)})
                    </button>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The feature dashboard (shown once a run's dashboard is opened). */
export function FeaturePanel() {
  const f = useFeatures();
  const [budget, setBudget] = useState('');
  if (!f.runId) return null;
  const o = f.opened;
  return (
    <section className="feature-panel" data-testid="feature-dashboard" aria-label="Feature dashboard">
      <h2>
        Features of run {f.runId}{' '}
        <button type="button" onClick={f.close} aria-label="Close the feature dashboard">
          Close
        </button>
      </h2>
      {f.error && (
        <p className="error" role="alert" data-testid="feature-error">
          {f.error}
        </p>
      )}
      {!o && !f.error && <p className="hint">Opening the run's SAE and dataset…</p>}
      {o && (
        <div className="actions">
          <span className="hint">
            dataset {o.datasetName} ({o.nTokens.toLocaleString('en-US')} tokens), d_sae {o.dSae}
            {f.stored &&
              ` · pass over ${f.stored.stats.nTokens.toLocaleString('en-US')} tokens in ${(f.stored.ms / 1000).toFixed(1)} s (${f.stored.engine}), stored ${(f.stored.bytes / 2 ** 20).toFixed(1)} MiB`}
          </span>{' '}
          <label>
            token budget{' '}
            <input
              data-testid="feature-budget"
              inputMode="numeric"
              placeholder="all"
              size={8}
              value={budget}
              onChange={(e) => setBudget(e.target.value)}
            />
          </label>{' '}
          <button
            type="button"
            data-testid="feature-compute"
            disabled={f.progress !== null}
            onClick={() => void f.compute(Number(budget) > 0 ? Math.floor(Number(budget)) : undefined)}
          >
            {f.stored ? 'Recompute' : 'Compute features'}
          </button>
        </div>
      )}
      {f.progress && (
        <div className="import-progress" data-testid="feature-progress">
          <progress value={f.progress.fraction} max={1} /> {f.progress.text}{' '}
          <button type="button" data-testid="feature-cancel" onClick={f.cancel}>
            Cancel
          </button>
        </div>
      )}
      {f.stored && (
        <div className="feature-layout">
          <LatentList />
          <div>
            <LatentView />
            <TryText />
          </div>
        </div>
      )}
    </section>
  );
}
