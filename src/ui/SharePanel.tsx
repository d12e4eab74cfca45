/**
 * Share links in the page: the link of the current run or form (`share-link`, with "Copy link"); a run link
 * opened from the URL (the form is filled; "Reproduce this run" when its dataset is here, otherwise which file to
 * drop, checked against the link's fingerprint); and the message for a link that could not be opened
 * (`share-error`), which changes nothing else.
 */
import { useEffect, useState } from 'react';
import { describeRef } from '../runs/dataset-ref';
import { validateForm } from '../state/config-form';
import { useLab } from '../state/lab-store';
import { linkFor, useRuns } from '../state/runs-store';

/** The link of the current run (while it trains or when opened from the library), else of the form. */
function useCurrentLink(): { link: string; note: string } {
  const form = useLab((s) => s.form);
  const datasetId = useLab((s) => s.datasetId);
  const datasets = useLab((s) => s.datasets);
  const run = useLab((s) => s.run);
  const status = useLab((s) => s.status);
  const opened = useRuns((s) => s.opened);
  const [out, setOut] = useState({ link: '', note: '' });
  useEffect(() => {
    let cancelled = false;
    const useRun = run && (opened === run.runId || status === 'running' || status === 'paused');
    const id = useRun ? run.datasetId : datasetId;
    const m = datasets.find((d) => d.id === id);
    const v = useRun
      ? ({ ok: true, config: run.config } as const)
      : validateForm(form, m ? { dModel: m.dModel, nTokens: m.nTokens } : undefined);
    if (!m) {
      setOut({ link: '', note: 'Choose a dataset to get a link.' });
      return;
    }
    if (!v.ok) {
      setOut({ link: '', note: 'Fix the form to get a link.' });
      return;
    }
    linkFor(v.config, m).then(
      (link) => !cancelled && setOut({ link, note: useRun ? 'Link of this run.' : 'Link of the form.' }),
      (e) => !cancelled && setOut({ link: '', note: `No link: ${(e as Error).message}` }),
    );
    return () => {
      cancelled = true;
    };
  }, [form, datasetId, datasets, run, status, opened]);
  return out;
}

/** The share panel. */
export function SharePanel() {
  const shared = useRuns((s) => s.shared);
  const sharedDatasetId = useRuns((s) => s.sharedDatasetId);
  const shareError = useRuns((s) => s.shareError);
  const dropStatus = useRuns((s) => s.dropStatus);
  const dropError = useRuns((s) => s.dropError);
  const busy = useLab((s) => s.status === 'running' || s.status === 'paused' || s.status === 'starting');
  const a = useRuns.getState();
  const { link, note } = useCurrentLink();
  const [copied, setCopied] = useState(false);
  return (
    <section className="share" aria-label="Share">
      {shareError && (
        <div className="banner error" role="alert" data-testid="share-error">
          <strong>This run link cannot be opened.</strong> {shareError} Nothing was changed.{' '}
          <button type="button" onClick={a.dismissShare}>
            Dismiss
          </button>
        </div>
      )}
      {shared && (
        <div className="banner" data-testid="share-opened">
          <p>
            Run link opened: {shared.config.architecture}, seed {shared.config.seed}, {shared.config.steps}{' '}
            steps on {describeRef(shared.dataset)} (made with SAE Lab {shared.appVersion}). The form now holds
            its config.
          </p>
          {sharedDatasetId ? (
            <button
              type="button"
              data-testid="reproduce-run"
              disabled={busy}
              onClick={() => void a.reproduce()}
            >
              Reproduce this run
            </button>
          ) : (
            shared.dataset.kind === 'file' && (
              <div data-testid="share-missing">
                <p>
                  The dataset of this run is not stored here. Drop the file it came from:{' '}
                  <strong>{shared.dataset.name}</strong>, {shared.dataset.nTokens} × {shared.dataset.dModel}{' '}
                  float32 rows, sha256 <code>{shared.dataset.fingerprint}</code>. Its fingerprint is checked
                  before it is used.
                </p>
                <label>
                  Dataset file{' '}
                  <input
                    type="file"
                    data-testid="share-drop"
                    accept=".npy,.safetensors,.bin,.f32,.raw"
                    onChange={(e) => {
                      const f = e.target.files?.[0];
                      if (f) void a.dropDataset(f);
                      e.target.value = '';
                    }}
                  />
                </label>
              </div>
            )
          )}
          {dropStatus && <p data-testid="share-drop-status">{dropStatus}</p>}
          {dropError && (
            <p className="error" role="alert" data-testid="share-drop-error">
              {dropError}
            </p>
          )}
          <button type="button" onClick={a.dismissShare}>
            Close
          </button>
        </div>
      )}
      <div className="share-link">
        <label>
          Share link{' '}
          <input
            readOnly
            data-testid="share-link"
            className="link-field"
            value={link}
            aria-describedby="share-note"
          />
        </label>
        <button
          type="button"
          data-testid="copy-link"
          disabled={!link}
          onClick={() =>
            void a.copyLink(link).then(() => {
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            })
          }
        >
          {copied ? 'Copied' : 'Copy link'}
        </button>
        <small id="share-note" className="hint">
          {note} The link holds the config, seed, dataset reference and app version in its #fragment (never
          sent to a server).
        </small>
      </div>
    </section>
  );
}
