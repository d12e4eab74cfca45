/**
 * The Runs panel: every run of the library in a sortable table (name, date, architecture, d_sae, k/λ, steps,
 * held-out EV, FVU, L0, dead, CE-loss score, status, size), with select-to-compare, open, rename, copy link,
 * exports (HTML report, history CSV/JSON, SAELens script, SAELens weights) and delete; the library as CSV.
 */
import { useEffect, useState } from 'react';
import { sparsityLabel } from '../runs/library';
import { useFeatures } from '../state/features-store';
import { useLab } from '../state/lab-store';
import { MAX_COMPARE, type RunSortKey, sortedRuns, useRuns } from '../state/runs-store';
import { CompareView } from './CompareView';
import { formatInt, formatPct, formatSig } from './format';
import { EvaluateImported, SaeImport } from './SaeImport';

const COLUMNS: [RunSortKey, string][] = [
  ['name', 'name'],
  ['createdAt', 'date'],
  ['architecture', 'architecture'],
  ['dSae', 'd_sae'],
  ['sparsity', 'k / λ'],
  ['steps', 'steps'],
  ['heldOutEv', 'held-out EV'],
  ['fvu', 'FVU'],
  ['l0', 'L0'],
  ['deadFraction', 'dead'],
  ['ceLossScore', 'CE-loss score'],
  ['status', 'status'],
  ['size', 'size'],
];

function mib(bytes: number): string {
  return bytes >= 2 ** 20
    ? `${(bytes / 2 ** 20).toFixed(1)} MiB`
    : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

function RenameCell({ id, name }: { id: string; name: string }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(name);
  const rename = useRuns((s) => s.rename);
  if (!editing)
    return (
      <>
        <span data-testid="run-name">{name}</span>{' '}
        <button
          type="button"
          className="link"
          aria-label={`Rename ${name}`}
          onClick={() => {
            setText(name);
            setEditing(true);
          }}
        >
          rename
        </button>
      </>
    );
  return (
    <form
      className="rename"
      onSubmit={(e) => {
        e.preventDefault();
        void rename(id, text).then(() => setEditing(false));
      }}
    >
      <input
        aria-label="New run name"
        data-testid="run-rename-input"
        value={text}
        maxLength={200}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && setEditing(false)}
      />
      <button type="submit">Save</button>
    </form>
  );
}

/** The Runs panel. */
export function RunsPanel() {
  const runs = useRuns((s) => s.runs);
  const sort = useRuns((s) => s.sort);
  const selected = useRuns((s) => s.selected);
  const error = useRuns((s) => s.error);
  const opened = useRuns((s) => s.opened);
  const compare = useRuns((s) => s.compare);
  const a = useRuns.getState();
  const activeRun = useLab((s) => s.run?.runId ?? null);
  const busy = useLab((s) => s.status === 'running' || s.status === 'paused' || s.status === 'starting');
  const [confirm, setConfirm] = useState<string | null>(null);
  const [link, setLink] = useState<{ id: string; url: string } | null>(null);
  useEffect(() => {
    if (confirm && !runs.some((r) => r.id === confirm)) setConfirm(null);
  }, [runs, confirm]);
  const rows = sortedRuns(runs, sort);
  const nSel = selected.length;
  return (
    <section className="runs-panel" data-testid="runs-panel" aria-label="Runs">
      <h2>Runs</h2>
      <div className="actions">
        <button
          type="button"
          data-testid="compare-runs"
          disabled={nSel < 2 || nSel > MAX_COMPARE}
          onClick={() => void a.compareSelected()}
        >
          Compare {nSel > 0 ? `${nSel} ` : ''}selected
        </button>
        <button
          type="button"
          data-testid="export-library"
          disabled={runs.length === 0}
          onClick={a.exportLibrary}
        >
          Library as CSV
        </button>
        <span className="hint">
          {runs.length === 0
            ? 'No runs yet: every run you train is kept here.'
            : `${runs.length} run${runs.length === 1 ? '' : 's'}; select 2–${MAX_COMPARE} to compare.`}
        </span>
      </div>
      <SaeImport />
      {error && (
        <p className="error" role="alert" data-testid="runs-error">
          {error}
        </p>
      )}
      {link && (
        <p className="hint">
          Link of {runs.find((r) => r.id === link.id)?.name ?? link.id}:{' '}
          <input
            readOnly
            className="link-field"
            data-testid="run-link"
            value={link.url}
            aria-label="Run link"
          />
        </p>
      )}
      {runs.length > 0 && (
        <div className="table-scroll">
          <table className="runs" data-testid="runs-table">
            <thead>
              <tr>
                <th>
                  <span className="sr-only">Select</span>
                </th>
                {COLUMNS.map(([key, label]) => (
                  <th
                    key={key}
                    aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : undefined}
                  >
                    <button type="button" className="link" onClick={() => a.setSort(key)}>
                      {label}
                      {sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}
                    </button>
                  </th>
                ))}
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const live = busy && r.id === activeRun;
                return (
                  <tr
                    key={r.id}
                    data-testid="run-row"
                    data-run-id={r.id}
                    data-status={r.status}
                    className={r.id === opened ? 'opened' : undefined}
                  >
                    <td>
                      <input
                        type="checkbox"
                        data-testid="run-select"
                        aria-label={`Select ${r.name} for comparison`}
                        checked={selected.includes(r.id)}
                        onChange={() => a.toggleSelect(r.id)}
                      />
                    </td>
                    <td>
                      <RenameCell id={r.id} name={r.name} />
                    </td>
                    <td>{new Date(r.createdAt).toLocaleString()}</td>
                    <td>{r.config.architecture}</td>
                    <td>{formatInt(r.info.shape.dSae)}</td>
                    <td>{sparsityLabel(r.config)}</td>
                    <td>
                      {formatInt(r.steps)} / {formatInt(r.totalSteps)}
                    </td>
                    <td data-testid="run-ev">{formatSig(r.heldOutEv)}</td>
                    <td>{formatSig(r.fvu)}</td>
                    <td>{formatSig(r.l0)}</td>
                    <td>{formatPct(r.deadFraction)}</td>
                    <td data-testid="run-ce">{formatSig(r.ceLossScore)}</td>
                    <td>
                      {r.imported && 'imported, '}
                      {(r.status === 'running' || r.status === 'paused') && !live
                        ? `${r.status === 'paused' ? 'paused' : 'interrupted'} (resume from its checkpoint)`
                        : r.status}
                    </td>
                    <td
                      title={`history ${mib(r.bytes)}, weights ${mib(r.weightsBytes)}${r.featuresBytes ? `, features ${mib(r.featuresBytes)}` : ''}`}
                    >
                      {mib(r.bytes + r.weightsBytes + (r.featuresBytes ?? 0))}
                    </td>
                    <td className="row-actions">
                      {r.imported && <EvaluateImported run={r} />}
                      <button
                        type="button"
                        data-testid="run-open"
                        disabled={busy}
                        onClick={() => void a.open(r.id)}
                      >
                        Open
                      </button>
                      <button
                        type="button"
                        data-testid="run-features"
                        disabled={r.weightsBytes === 0 && r.status !== 'done'}
                        onClick={() => void useFeatures.getState().openRun(r.id)}
                      >
                        Features
                      </button>
                      <button
                        type="button"
                        data-testid="run-copy-link"
                        onClick={() =>
                          void a
                            .linkForRun(r.id)
                            .then((url) => a.copyLink(url))
                            .then((url) => setLink({ id: r.id, url }))
                            .catch((e) => useRuns.setState({ error: `No link: ${(e as Error).message}` }))
                        }
                      >
                        Copy link
                      </button>
                      <button
                        type="button"
                        data-testid="export-report"
                        onClick={() => void a.exportReport(r.id)}
                      >
                        Report
                      </button>
                      <button
                        type="button"
                        data-testid="export-csv"
                        onClick={() => void a.exportHistory(r.id, 'csv')}
                      >
                        CSV
                      </button>
                      <button
                        type="button"
                        data-testid="export-json"
                        onClick={() => void a.exportHistory(r.id, 'json')}
                      >
                        JSON
                      </button>
                      <button
                        type="button"
                        data-testid="export-saelens-script"
                        onClick={() => void a.exportScript(r.id)}
                      >
                        SAELens script
                      </button>
                      <button
                        type="button"
                        data-testid="export-weights"
                        disabled={r.weightsBytes === 0 && r.status !== 'done'}
                        onClick={() => void a.exportWeights(r.id)}
                      >
                        Weights
                      </button>
                      {confirm === r.id ? (
                        <fieldset className="confirm" aria-label={`Confirm deleting ${r.name}`}>
                          <button
                            type="button"
                            className="danger"
                            data-testid="run-delete-confirm"
                            onClick={() => {
                              setConfirm(null);
                              void a.remove(r.id);
                            }}
                          >
                            Delete {mib(r.bytes + r.weightsBytes + (r.featuresBytes ?? 0))}
                          </button>
                          <button type="button" onClick={() => setConfirm(null)}>
                            Keep
                          </button>
                        </fieldset>
                      ) : (
                        <button
                          type="button"
                          data-testid="run-delete"
                          disabled={live}
                          onClick={() => setConfirm(r.id)}
                        >
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {compare && <CompareView runs={compare} />}
    </section>
  );
}
