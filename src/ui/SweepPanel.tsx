/**
 * The sweep panel: grid form (architectures, d_sae, k or λ per the registry, learning rate) over the run form's
 * other fields, the plan (grid size, memory, ETA) before start, pause / resume / stop, live small multiples (one
 * line per SAE) and a progress table, then the results table (sortable, CSV / JSON) and the Pareto plots with their
 * frontier; a point (or its button) opens the run. Renders only; the work is in src/state/sweep-store.ts.
 */
import { useEffect, useMemo, useState } from 'react';
import type uPlot from 'uplot';
import { ARCH_SPECS } from '../sae/archs';
import { downloadFile as download } from '../state/download';
import { useRuns } from '../state/runs-store';
import { useSweep } from '../state/sweep-store';
import { SPARSITY_AXES, type SparsityAxis } from '../sweep/grid';
import {
  paretoFrontier,
  rowLabel,
  type SweepRow,
  type SweepSortKey,
  sortRows,
  sweepCsv,
  sweepJson,
  sweepRows,
} from '../sweep/results';
import type { SweepStages } from '../sweep/runner';
import { StaticPlot } from './StaticPlot';

const AXIS_LABEL: Record<SparsityAxis, string> = {
  k: 'k (TopK-like)',
  l0Coefficient: 'λ (L0 coefficient)',
  l1Coefficient: 'λ (L1 coefficient)',
};

const COLORS = ['#1d4ed8', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d'];
const color = (i: number) => COLORS[i % COLORS.length];

/** Open a run of the library (its curves and summary in the lab's main view). */
const open = (runId: string) => void useRuns.getState().open(runId);

const fmt = (x: number | null, d = 4) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** One live chart: `metric` of every member against step. */
function Multiple({ metric, title }: { metric: 'fvu' | 'l0' | 'deadFraction'; title: string }) {
  const series = useSweep((s) => s.series);
  const version = useSweep((s) => s.version);
  const record = useSweep((s) => s.record);
  // biome-ignore lint/correctness/useExhaustiveDependencies: redrawn on `version` (the series mutate in place)
  const data = useMemo((): uPlot.AlignedData => {
    const n = record?.members.length ?? 0;
    const steps = [...new Set(Object.values(series).flatMap((pts) => pts.map((p) => p.step)))].sort(
      (a, b) => a - b,
    );
    const cols: (number | null)[][] = [];
    for (let m = 0; m < n; m++) {
      const by = new Map((series[m] ?? []).map((p) => [p.step, p[metric]]));
      cols.push(steps.map((s) => by.get(s) ?? null));
    }
    return [steps, ...cols] as uPlot.AlignedData;
  }, [version, record, metric]);
  const options = useMemo(
    () =>
      (width: number): uPlot.Options => ({
        width,
        height: 160,
        legend: { show: false },
        scales: { x: { time: false } },
        series: [
          { label: 'step' },
          ...(record?.members ?? []).map((_, i) => ({
            label: `SAE ${i + 1}`,
            stroke: color(i),
            spanGaps: true,
          })),
        ],
      }),
    [record],
  );
  return <StaticPlot testId={`sweep-chart-${metric}`} options={options} data={data} caption={title} />;
}

/** A Pareto plot: every run as a point, the frontier as a line; clicking near a point opens its run. */
function Pareto({ rows, y, title }: { rows: SweepRow[]; y: 'fvu' | 'ceLossScore'; title: string }) {
  const lowerIsBetter = y === 'fvu';
  const { pts, frontier, onFrontier } = useMemo(() => {
    const pts = rows
      .filter((r) => r.l0 !== null && r[y] !== null && (r.l0 as number) > 0)
      .map((r) => ({ x: r.l0 as number, y: r[y] as number, runId: r.runId }))
      .sort((a, b) => a.x - b.x);
    const frontier = paretoFrontier(pts, lowerIsBetter);
    return { pts, frontier, onFrontier: new Set(frontier.map((p) => p.runId)) };
  }, [rows, y, lowerIsBetter]);
  const data = useMemo(
    (): uPlot.AlignedData => [
      pts.map((p) => p.x),
      pts.map((p) => p.y),
      pts.map((p) => (onFrontier.has(p.runId) ? p.y : null)),
    ],
    [pts, onFrontier],
  );
  const options = useMemo(
    () =>
      (width: number): uPlot.Options => ({
        width,
        height: 220,
        legend: { show: false },
        scales: { x: { time: false, distr: 3 } },
        axes: [{ label: 'L0 (log)' }, { label: y === 'fvu' ? 'FVU' : 'CE-loss score' }],
        series: [
          { label: 'L0' },
          { label: 'runs', stroke: '#1d4ed8', paths: () => null, points: { show: true, size: 9 } },
          { label: 'frontier', stroke: '#dc2626', width: 2, spanGaps: true, points: { show: true, size: 5 } },
        ],
        hooks: {
          ready: [
            (u) =>
              u.over.addEventListener('click', () => {
                const i = u.cursor.idx;
                if (i !== null && i !== undefined && pts[i]) open(pts[i].runId);
              }),
          ],
        },
      }),
    [pts, y],
  );
  if (pts.length === 0) return null;
  return (
    <div className="sweep-pareto">
      <StaticPlot testId={`sweep-pareto-${y}`} options={options} data={data} caption={title} />
      <p className="hint">
        Frontier ({lowerIsBetter ? 'lower' : 'higher'} is better at equal L0):{' '}
        {frontier.map((p) => {
          const r = rows.find((x) => x.runId === p.runId) as SweepRow;
          return (
            <button
              type="button"
              key={p.runId}
              className="link"
              data-testid="sweep-frontier-point"
              onClick={() => open(p.runId)}
            >
              {rowLabel(r)} (L0 {p.x.toFixed(1)}, {fmt(p.y, 3)})
            </button>
          );
        })}
      </p>
    </div>
  );
}

const COLUMNS: [SweepSortKey, string][] = [
  ['index', '#'],
  ['architecture', 'architecture'],
  ['dSae', 'd_sae'],
  ['sparsity', 'k / λ'],
  ['lr', 'lr'],
  ['heldOutEv', 'held-out EV'],
  ['fvu', 'FVU'],
  ['l0', 'L0'],
  ['deadFraction', 'dead fraction'],
  ['ceLossScore', 'CE-loss score'],
];

/** The results table with sorting and downloads. */
function Results({ rows }: { rows: SweepRow[] }) {
  const record = useSweep((s) => s.record);
  const [sort, setSort] = useState<{ key: SweepSortKey; dir: 'asc' | 'desc' }>({ key: 'index', dir: 'asc' });
  const sorted = sortRows(rows, sort.key, sort.dir);
  const hasCe = rows.some((r) => r.ceLossScore !== null);
  if (!record) return null;
  const base = record.name.replace(/[^\w.-]+/g, '-');
  return (
    <section data-testid="sweep-results">
      <h3>Results</h3>
      <div className="row">
        <button type="button" onClick={() => download(`${base}.csv`, sweepCsv(sorted), 'text/csv')}>
          Results CSV
        </button>
        <button
          type="button"
          onClick={() => download(`${base}.json`, sweepJson(record, sorted), 'application/json')}
        >
          Results JSON
        </button>
      </div>
      <table className="runs-table" data-testid="sweep-results-table">
        <thead>
          <tr>
            {COLUMNS.map(([key, label]) => (
              <th
                key={key}
                aria-sort={sort.key === key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
              >
                <button
                  type="button"
                  className="link"
                  onClick={() =>
                    setSort((s) => ({ key, dir: s.key === key && s.dir === 'asc' ? 'desc' : 'asc' }))
                  }
                >
                  {label}
                </button>
              </th>
            ))}
            <th>run</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={r.runId} data-testid="sweep-result-row">
              <td>{r.index + 1}</td>
              <td>{r.architecture}</td>
              <td>{r.dSae}</td>
              <td>{r.sparsityText}</td>
              <td>{r.lr}</td>
              <td>{fmt(r.heldOutEv)}</td>
              <td>{fmt(r.fvu)}</td>
              <td>{fmt(r.l0, 2)}</td>
              <td>{fmt(r.deadFraction)}</td>
              <td>{fmt(r.ceLossScore)}</td>
              <td>
                <button type="button" className="link" onClick={() => void useRuns.getState().open(r.runId)}>
                  open
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="sweep-plots">
        <Pareto rows={rows} y="fvu" title="Pareto: L0 (log) vs FVU" />
        {hasCe && <Pareto rows={rows} y="ceLossScore" title="Pareto: L0 (log) vs CE-loss score" />}
      </div>
    </section>
  );
}

/**
 * The last session's sharing counters (src/sweep/runner.ts SweepStages): batches read vs handed to the SAEs and, on
 * the GPU engine, uploads and step submissions vs SAE steps (one of each per step when the group steps together).
 */
function StagesLine({ stages }: { stages: SweepStages }) {
  const g = stages.gpu;
  return (
    <p
      className="hint"
      data-testid="sweep-stages"
      data-batches-read={stages.batchesRead}
      data-uploads={g?.uploads}
      data-member-steps={g?.memberSteps}
      data-step-submissions={g ? g.submissions - g.evalSubmissions : undefined}
      data-fallbacks={g?.fallbackFlushes}
    >
      Shared stream: {stages.batchesRead} batches read for {stages.batchesServed} served.
      {g &&
        ` GPU: ${g.uploads} batch uploads and ${g.submissions - g.evalSubmissions} step submissions for ` +
          `${g.memberSteps} SAE steps; ${g.evalFlushes} shared held-out evaluations (one upload each).`}
    </p>
  );
}

/** The sweep section of the lab. */
export function SweepPanel() {
  const s = useSweep();
  const runs = useRuns((x) => x.runs);
  useEffect(() => {
    void useSweep.getState().init();
  }, []);
  const rows = useMemo(() => (s.record ? sweepRows(s.record.members, runs) : []), [s.record, runs]);
  const busy = s.status === 'running' || s.status === 'paused';
  const axes = SPARSITY_AXES.filter((a) =>
    s.form.architectures.some((id) => {
      const spec = ARCH_SPECS.find((x) => x.id === id);
      return spec && (spec.sparsityCoefficient === a || (a === 'k' && !spec.sparsityCoefficient));
    }),
  );
  const done = s.record && !busy;
  // Opens by itself when a sweep runs, finishes or waits to be resumed; the user may close it.
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (busy || s.interrupted || s.record) setOpen(true);
  }, [busy, s.interrupted, s.record]);
  return (
    <details
      className="sweeps-section"
      data-testid="sweep-panel"
      open={open}
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>
        <h2>Sweeps</h2> train a grid of SAEs on one batch stream
      </summary>
      {s.interrupted && !busy && (
        <div className="banner" role="alert" data-testid="sweep-interrupted">
          Sweep “{s.interrupted.name}” ({s.interrupted.members.length} SAEs) stopped before it finished.{' '}
          <button type="button" onClick={() => void s.resumeInterrupted()}>
            Resume sweep
          </button>
        </div>
      )}
      <fieldset disabled={busy} className="sweep-form">
        <legend>Grid (the other fields — batch, steps, seed, … — come from the run form)</legend>
        <div className="row">
          {ARCH_SPECS.map((a) => (
            <label key={a.id}>
              <input
                type="checkbox"
                data-testid={`sweep-arch-${a.id}`}
                checked={s.form.architectures.includes(a.id)}
                onChange={(e) => s.setArchitecture(a.id, e.target.checked)}
              />{' '}
              {a.label}
            </label>
          ))}
        </div>
        <ListField
          label="d_sae values"
          testId="sweep-dsae"
          value={s.form.dSaes}
          onChange={(v) => s.setField('dSaes', v)}
        />
        {axes.map((a) => (
          <ListField
            key={a}
            label={`${AXIS_LABEL[a]} values`}
            testId={`sweep-axis-${a}`}
            value={s.form.sparsity[a]}
            onChange={(v) => s.setField(a, v)}
          />
        ))}
        <ListField
          label="learning rates"
          testId="sweep-lr"
          value={s.form.lrs}
          onChange={(v) => s.setField('lrs', v)}
        />
        <div className="row">
          <button
            type="button"
            data-testid="sweep-plan"
            onClick={() => void s.planSweep()}
            disabled={s.planning}
          >
            {s.planning ? 'Estimating…' : 'Estimate'}
          </button>
          <button type="button" data-testid="sweep-start" onClick={() => void s.start()}>
            Start sweep
          </button>
          <button type="button" onClick={() => void s.shareLink()}>
            Share link
          </button>
        </div>
      </fieldset>
      {s.link && (
        <p className="hint">
          Sweep link:{' '}
          <input readOnly value={s.link} data-testid="sweep-link" aria-label="sweep link" size={60} />
        </p>
      )}
      {s.plan && (
        <p data-testid="sweep-plan-text" className={s.plan.ok ? 'hint' : 'error'}>
          {s.plan.size} SAEs. {s.plan.message}
          {s.plan.etaMs !== null &&
            ` ETA about ${Math.ceil(s.plan.etaMs / 1000)} s on the ${s.plan.engine} (3-step probe of each shape).`}
        </p>
      )}
      {s.error && (
        <p role="alert" className="error" data-testid="sweep-error">
          {s.error}
        </p>
      )}
      {s.record && (
        <section data-testid="sweep-live">
          <h3>
            {s.record.name} — <span data-testid="sweep-status">{s.status}</span>
            {s.record.groups.length > 1 && ` (group ${s.group + 1} of ${s.record.groups.length})`}
          </h3>
          <p className="hint">{s.record.planMessage}</p>
          {s.record.stages && <StagesLine stages={s.record.stages} />}
          <div className="row">
            {s.status === 'running' && (
              <button type="button" data-testid="sweep-pause" onClick={() => void s.pause()}>
                Pause
              </button>
            )}
            {s.status === 'paused' && (
              <button type="button" data-testid="sweep-resume" onClick={() => void s.resume()}>
                Resume
              </button>
            )}
            {busy && (
              <button type="button" data-testid="sweep-stop" onClick={() => void s.stop()}>
                Stop
              </button>
            )}
          </div>
          <table className="runs-table" data-testid="sweep-progress">
            <thead>
              <tr>
                <th>SAE</th>
                <th>run</th>
                <th>progress</th>
                <th>status</th>
              </tr>
            </thead>
            <tbody>
              {s.record.members.map((m, i) => {
                const p = s.progress[i];
                const r = rows[i];
                const step = p?.step ?? (r?.status === 'done' ? m.config.steps : 0);
                return (
                  <tr
                    key={m.runId}
                    data-testid="sweep-progress-row"
                    data-step={step}
                    data-status={p?.status ?? r?.status ?? 'waiting'}
                  >
                    <td style={{ color: color(i) }}>SAE {i + 1}</td>
                    <td>{r ? rowLabel(r) : m.runId}</td>
                    <td>
                      <progress max={m.config.steps} value={step} /> {step} / {m.config.steps}
                    </td>
                    <td>{p?.status ?? r?.status ?? 'waiting'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {!done && (
            <div className="sweep-multiples">
              <Multiple metric="fvu" title="FVU (training batch)" />
              <Multiple metric="l0" title="L0" />
              <Multiple metric="deadFraction" title="Dead fraction (window)" />
            </div>
          )}
        </section>
      )}
      {done && <Results rows={rows} />}
    </details>
  );
}

/** One labelled text input of a sweep axis (a comma-separated list of values). */
function ListField({
  label,
  testId,
  value,
  onChange,
}: {
  label: string;
  testId: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {label} <input data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}
