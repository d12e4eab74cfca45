/**
 * Classroom mode: the open lesson's step (what to do, watch, what it means, a question), Run step / Back / Next,
 * "open this in the full lab", presenter view, and the side-by-side table of the lesson's runs. Renders any
 * lesson of src/lessons/lessons.ts; with no lesson open, a short list of lessons to start.
 */
import { LESSONS } from '../lessons/lessons';
import { METRIC_LABELS } from '../sae/metrics';
import { useLab } from '../state/lab-store';
import { type LessonResult, useLessons } from '../state/lesson-store';
import { formatDuration, formatInt, formatPct, formatSig } from './format';

function CompareTable({ rows }: { rows: LessonResult[] }) {
  if (rows.length === 0) return null;
  const recovery = rows.some((r) => r.meanBestCosine !== undefined);
  return (
    <table className="summary lesson-compare" data-testid="lesson-compare">
      <caption>This lesson’s runs, side by side (held-out)</caption>
      <thead>
        <tr>
          <th scope="col">step</th>
          <th scope="col">d_sae</th>
          <th scope="col">k</th>
          <th scope="col">AuxK</th>
          <th scope="col" title={METRIC_LABELS.explainedVariance.tooltip}>
            {METRIC_LABELS.explainedVariance.label}
          </th>
          <th scope="col" title={METRIC_LABELS.fvu.tooltip}>
            FVU
          </th>
          <th scope="col" title={METRIC_LABELS.l0.tooltip}>
            L0
          </th>
          <th scope="col">dead latents</th>
          {recovery && (
            <th scope="col" title={METRIC_LABELS.featureRecovery.tooltip}>
              mean best cosine
            </th>
          )}
          {recovery && (
            <th scope="col" title={METRIC_LABELS.recoveredFraction.tooltip}>
              recovered
            </th>
          )}
          <th scope="col">time</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.runId} data-testid="lesson-compare-row" data-step={r.step} data-ev={r.explainedVariance}>
            <td>{r.step + 1}</td>
            <td>{formatInt(r.dSae)}</td>
            <td>{r.k}</td>
            <td>{r.auxk ? 'on' : 'off'}</td>
            <td>{formatSig(r.explainedVariance, 3)}</td>
            <td>{formatSig(r.fvu, 3)}</td>
            <td>{formatSig(r.l0, 3)}</td>
            <td>{formatInt(r.deadInWindow)}</td>
            {recovery && <td>{r.meanBestCosine === undefined ? '—' : formatSig(r.meanBestCosine, 3)}</td>}
            {recovery && <td>{formatPct(r.recoveredFraction)}</td>}
            <td>{formatDuration(r.wallMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LessonList() {
  const progress = useLessons((s) => s.progress);
  const error = useLessons((s) => s.error);
  return (
    <nav className="lesson-list" aria-label="Lessons" data-testid="lesson-list">
      <strong>Lessons:</strong>{' '}
      {LESSONS.map((l, i) => {
        const done = progress[l.id]?.done.length ?? 0;
        return (
          <span key={l.id}>
            <a href={`#lesson=${l.id}`} data-testid={`lesson-link-${l.id}`}>
              {i + 1}. {l.title}
            </a>
            {done > 0 && (
              <small className="hint">
                {' '}
                ({done}/{l.steps.length} done)
              </small>
            )}{' '}
          </span>
        );
      })}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </nav>
  );
}

/** The lesson panel (or the lesson list when no lesson is open). */
export function LessonPanel() {
  const lesson = useLessons((s) => s.lesson);
  const stepIndex = useLessons((s) => s.stepIndex);
  const results = useLessons((s) => (s.lesson ? s.results[s.lesson.id] : undefined));
  const progress = useLessons((s) => s.progress);
  const present = useLessons((s) => s.present);
  const preparing = useLessons((s) => s.preparing);
  const error = useLessons((s) => s.error);
  const status = useLab((s) => s.status);
  const ready = useLab((s) => s.gpu?.ok === true);
  const { next, back, runStep, close, setPresent, applyPreset } = useLessons.getState();
  if (!lesson) return <LessonList />;
  const done = progress[lesson.id]?.done ?? [];
  const step = lesson.steps[stepIndex];
  const busy = status === 'running' || status === 'paused' || status === 'starting' || preparing !== null;
  const last = stepIndex === lesson.steps.length - 1;
  return (
    <section
      className="lesson"
      aria-label={`Lesson: ${lesson.title}`}
      data-testid="lesson-step"
      data-lesson={lesson.id}
      data-step-index={stepIndex}
      data-step-count={lesson.steps.length}
      data-done={done.includes(stepIndex) ? 'true' : 'false'}
    >
      <div className="lesson-head">
        <h2>
          {lesson.title}{' '}
          <small>
            · step {stepIndex + 1} of {lesson.steps.length}: {step.title}
          </small>
        </h2>
        <fieldset className="lesson-controls" aria-label="Lesson controls">
          <button type="button" data-testid="lesson-back" disabled={stepIndex === 0} onClick={back}>
            ← Back
          </button>
          <button
            type="button"
            className="primary"
            data-testid="lesson-run"
            disabled={busy || !ready}
            onClick={() => void runStep()}
          >
            {done.includes(stepIndex) ? 'Run step again' : 'Run step'}
          </button>
          <button type="button" data-testid="lesson-next" disabled={last} onClick={next}>
            Next →
          </button>
          <button
            type="button"
            data-testid="lesson-present"
            aria-pressed={present}
            onClick={() => setPresent(!present)}
          >
            Presenter view
          </button>
          <button
            type="button"
            data-testid="lesson-open-lab"
            disabled={busy}
            onClick={() => void applyPreset().then(close, () => {})}
            title="Close the lesson, keeping this step's settings in the form"
          >
            Open this in the full lab
          </button>
        </fieldset>
      </div>
      {!present && (
        <div className="lesson-body">
          <p>
            <strong>Do:</strong> {step.todo}
          </p>
          <p>
            <strong>Watch:</strong> {step.watch}
          </p>
          <p>
            <strong>What it means:</strong> {step.means}
          </p>
          <p className="lesson-question">
            <strong>Think:</strong> {step.question}
          </p>
        </div>
      )}
      {preparing && (
        <p className="hint" aria-busy="true" data-testid="lesson-preparing">
          {preparing}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="lesson-error">
          {error}
        </p>
      )}
      {step.compareTable && <CompareTable rows={results ?? []} />}
    </section>
  );
}
