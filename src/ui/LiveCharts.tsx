/**
 * The grid of live training charts: loss, explained variance, L0 (train and held-out), dead fraction, batch feature
 * usage, learning rate, and — when the architecture has them — the AuxK loss and the sparsity loss.
 */
import { resolveArch } from '../sae/arch';
import { archSpec } from '../sae/archs';
import { METRIC_LABELS } from '../sae/metrics';
import { useLab } from '../state/lab-store';
import { LiveChart } from './LiveChart';

const TRAIN = '#2563eb';
const HELD_OUT = '#d97706';

/** Live charts of the current run. */
export function LiveCharts() {
  const k = useLab((s) => s.run?.shape.k ?? null);
  const architecture = useLab((s) => (s.run ? resolveArch(s.run.shape).architecture : null));
  const auxk = useLab((s) => (s.run ? resolveArch(s.run.shape).auxk : false));
  // Titles and which charts apply come from the architecture's registry spec (src/sae/archs/).
  const spec = archSpec(architecture);
  const l0Title = k === null ? 'L0 (achieved)' : spec.charts.l0Title(k);
  const l0Note = spec.charts.l0Note;
  const sparsityTitle = spec.charts.sparsityTitle;
  // Select primitives: a new object per call would re-render forever (zustand compares with Object.is).
  const deadSteps = useLab((s) => s.run?.deadWindowSteps ?? null);
  const batchSize = useLab((s) => s.run?.shape.batchSize ?? null);
  const deadWindow =
    deadSteps !== null && batchSize !== null ? { steps: deadSteps, tokens: deadSteps * batchSize } : null;
  return (
    <section aria-label="Training curves" className="charts">
      <LiveChart
        id="loss"
        title="Reconstruction loss (MSE, log scale)"
        yLabel="MSE per element"
        formula={METRIC_LABELS.mse.tooltip}
        logY
        series={[
          { table: 'train', field: 'mse', label: 'train batch', color: TRAIN },
          { table: 'eval', field: 'mse', label: 'held-out', color: HELD_OUT },
        ]}
      />
      <LiveChart
        id="ev"
        title="Explained variance"
        yLabel="1 − FVU"
        formula={METRIC_LABELS.explainedVariance.tooltip}
        series={[
          { table: 'train', field: 'explainedVariance', label: 'train batch', color: TRAIN },
          { table: 'eval', field: 'explainedVariance', label: 'held-out', color: HELD_OUT },
        ]}
      />
      <LiveChart
        id="l0"
        title={l0Title}
        yLabel="latents / token"
        formula={`L0 = ${METRIC_LABELS.l0.tooltip} ${l0Note}`}
        series={[
          { table: 'train', field: 'l0', label: 'train batch', color: TRAIN },
          { table: 'eval', field: 'l0', label: 'held-out', color: HELD_OUT },
        ]}
      />
      {auxk && (
        <LiveChart
          id="auxk"
          title="AuxK loss"
          yLabel="α·s·‖e − ê‖² / ‖e − ē‖²"
          formula={METRIC_LABELS.auxkLoss.tooltip}
          series={[{ table: 'train', field: 'auxkLoss', label: 'train batch', color: '#7c3aed' }]}
        />
      )}
      {sparsityTitle !== null && (
        <LiveChart
          id="sparsity"
          title={sparsityTitle}
          yLabel="per token"
          formula={METRIC_LABELS.sparsityLoss.tooltip}
          series={[{ table: 'train', field: 'sparsityLoss', label: 'train batch', color: '#0891b2' }]}
        />
      )}
      <LiveChart
        id="dead"
        title={
          deadWindow
            ? `Dead fraction (window ${deadWindow.steps.toLocaleString('en-US')} steps = ${deadWindow.tokens.toLocaleString('en-US')} tokens)`
            : 'Dead fraction'
        }
        yLabel="fraction of latents"
        formula={`dead fraction = ${METRIC_LABELS.deadFraction.tooltip}`}
        yRange={[0, 1]}
        series={[{ table: 'train', field: 'deadFraction', label: 'dead (window)', color: '#b91c1c' }]}
      />
      <LiveChart
        id="usage"
        title="Batch feature usage"
        yLabel="fraction of latents"
        formula={`batch feature usage = ${METRIC_LABELS.firedFraction.tooltip}`}
        yRange={[0, 1]}
        series={[{ table: 'train', field: 'firedFraction', label: 'fired in batch', color: '#059669' }]}
      />
      <LiveChart
        id="lr"
        title="Learning rate"
        yLabel="η"
        formula="Linear warmup, constant, then cosine/linear decay over the last part of the run."
        series={[{ table: 'train', field: 'lr', label: 'η', color: '#6b7280' }]}
      />
    </section>
  );
}
