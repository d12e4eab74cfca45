/**
 * Comparison of 2–8 stored runs: their curves overlaid on the same charts (one colour per run; the legend names
 * the runs and clicking an entry toggles it) and a side-by-side summary table in which the rows whose values differ
 * are highlighted.
 */
import { useMemo } from 'react';
import uPlot from 'uplot';
import type { RunRecord } from '../runs/library';
import { sparsityLabel } from '../runs/library';
import { useRuns } from '../state/runs-store';
import type { SeriesSnapshot } from '../train/history';
import { formatPct, formatSig } from './format';
import { StaticPlot } from './StaticPlot';

/** One colour per run (colour-blind-friendly order, Okabe–Ito). */
export const RUN_COLORS = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
];

/** The curves compared: table, field, title, log scale. */
const CHARTS: { id: string; table: 'train' | 'eval'; field: string; title: string; logY?: boolean }[] = [
  { id: 'mse', table: 'train', field: 'mse', title: 'MSE (train batch, log scale)', logY: true },
  { id: 'ev', table: 'train', field: 'explainedVariance', title: 'Explained variance (train batch)' },
  { id: 'heldout-ev', table: 'eval', field: 'explainedVariance', title: 'Explained variance (held-out)' },
  { id: 'l0', table: 'train', field: 'l0', title: 'L0 (train batch)' },
  { id: 'dead', table: 'train', field: 'deadFraction', title: 'Dead fraction (window)' },
  { id: 'lr', table: 'train', field: 'lr', title: 'Learning rate' },
];

function column(s: SeriesSnapshot, f: string): number[] {
  const i = s.fields.indexOf(f);
  return i >= 0 ? Array.from(s.columns[i]) : [];
}

function ChartOf({ runs, chart }: { runs: RunRecord[]; chart: (typeof CHARTS)[number] }) {
  const data = useMemo(() => {
    const tables = runs.map((r) => {
      const s = r.data.history[chart.table];
      return [column(s, 'step'), column(s, chart.field)] as uPlot.AlignedData;
    });
    return uPlot.join(tables);
  }, [runs, chart]);
  const options = useMemo(
    () =>
      (width: number): uPlot.Options => ({
        width,
        height: 200,
        scales: { x: { time: false }, y: chart.logY ? { distr: 3 } : {} },
        axes: [{ label: 'step' }, {}],
        series: [
          { label: 'step' },
          ...runs.map((r, i) => ({
            label: r.meta.name,
            stroke: RUN_COLORS[i % RUN_COLORS.length],
            width: 1.5,
            spanGaps: true,
            points: { show: r.data.history[chart.table].columns[0]?.length === 1 },
          })),
        ],
      }),
    [runs, chart],
  );
  return (
    <div data-testid={`compare-chart-${chart.id}`} data-series={runs.length}>
      <StaticPlot testId={`compare-plot-${chart.id}`} options={options} data={data} caption={chart.title} />
    </div>
  );
}

/** Rows of the side-by-side summary: label and the value of a run, as text. */
const SUMMARY_ROWS: [string, (r: RunRecord) => string][] = [
  ['architecture', (r) => r.meta.config.architecture],
  ['d_sae', (r) => String(r.meta.info.shape.dSae)],
  ['k / λ', (r) => sparsityLabel(r.meta.config)],
  ['AuxK', (r) => (r.meta.config.auxk ? `on (α ${r.meta.config.auxkAlpha})` : 'off')],
  ['batch size', (r) => String(r.meta.config.batchSize)],
  ['steps', (r) => `${r.meta.steps} / ${r.meta.totalSteps}`],
  ['learning rate', (r) => String(r.meta.config.lr)],
  ['seed', (r) => String(r.meta.config.seed)],
  ['dataset', (r) => r.meta.info.datasetName],
  ['held-out EV', (r) => formatSig(r.meta.heldOutEv)],
  ['FVU', (r) => formatSig(r.meta.fvu)],
  ['L0', (r) => formatSig(r.meta.l0)],
  ['dead (held-out)', (r) => formatPct(r.meta.deadFraction)],
  ['CE-loss score', (r) => formatSig(r.meta.ceLossScore)],
  ['adapter', (r) => r.meta.info.adapter || '—'],
  ['status', (r) => r.meta.status],
];

/** The comparison of `runs`. */
export function CompareView({ runs }: { runs: RunRecord[] }) {
  const close = useRuns((s) => s.closeCompare);
  return (
    <section className="compare" data-testid="compare-view" aria-label="Run comparison">
      <h3>
        Comparing {runs.length} runs{' '}
        <button type="button" onClick={close}>
          Close
        </button>
      </h3>
      <div className="charts">
        {CHARTS.map((c) => (
          <ChartOf key={c.id} runs={runs} chart={c} />
        ))}
      </div>
      <table className="summary compare-summary" data-testid="compare-summary">
        <thead>
          <tr>
            <th />
            {runs.map((r, i) => (
              <th key={r.meta.id} style={{ color: RUN_COLORS[i % RUN_COLORS.length] }}>
                {r.meta.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {SUMMARY_ROWS.map(([label, get]) => {
            const values = runs.map(get);
            const differs = values.some((v) => v !== values[0]);
            return (
              <tr key={label} className={differs ? 'differs' : undefined} data-differs={differs}>
                <th>
                  {label}
                  {differs && <span className="sr-only"> (differs)</span>}
                </th>
                {values.map((v, i) => (
                  <td key={runs[i].meta.id}>{v}</td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
