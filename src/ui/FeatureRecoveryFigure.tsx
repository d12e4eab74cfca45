/**
 * The feature-recovery figure of a run on synthetic data (src/sae/metrics.ts `featureRecovery`): the mean best
 * cosine, the fraction recovered, and a plot of the true features sorted by firing frequency (most frequent
 * first) against their best |cosine| with a decoder row.
 */
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { METRIC_LABELS, RECOVERY_THRESHOLD } from '../sae/metrics';
import { useRecovery } from '../state/recovery-store';
import { formatPct, formatSig } from './format';
import { StaticPlot } from './StaticPlot';

/** The figure, or nothing when the last run's data has no ground truth. */
export function FeatureRecoveryFigure() {
  const r = useRecovery((s) => s.recovery);
  const data = useMemo(() => {
    if (!r) return null;
    const order = r.probabilities.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const rank = order.map((_, j) => j + 1);
    const best = order.map(([, i]) => r.bestCosine[i]);
    const freq = order.map(([p]) => p);
    return [rank, best, freq] as uPlot.AlignedData;
  }, [r]);
  const options = useMemo(
    () =>
      (width: number): uPlot.Options => ({
        width,
        height: 220,
        scales: { x: { time: false }, y: { range: [0, 1.02] }, p: { range: [0, null] as never } },
        axes: [
          { label: 'true feature (most frequent first)', labelSize: 18, size: 36 },
          { label: 'best |cos|', labelSize: 18, size: 48 },
          {
            scale: 'p',
            side: 1,
            label: 'firing probability',
            labelSize: 18,
            size: 56,
            grid: { show: false },
          },
        ],
        series: [
          { label: 'rank' },
          {
            label: 'best |cos|',
            stroke: '#2563eb',
            width: 0,
            points: { show: true, size: 6, fill: '#2563eb' },
          },
          { label: 'firing probability', stroke: '#9ca3af', scale: 'p', width: 1 },
        ],
      }),
    [],
  );
  if (!r || !data) return null;
  return (
    <div
      className="feature-recovery"
      data-testid="summary-feature-recovery"
      data-mean={r.meanBestCosine}
      data-recovered={r.recoveredFraction}
    >
      <p>
        <span title={METRIC_LABELS.featureRecovery.tooltip}>{METRIC_LABELS.featureRecovery.label}</span>:{' '}
        <strong data-testid="recovery-mean">{formatSig(r.meanBestCosine, 3)}</strong> ·{' '}
        <span title={METRIC_LABELS.recoveredFraction.tooltip}>
          features recovered (best |cos| &gt; {RECOVERY_THRESHOLD})
        </span>
        : <strong data-testid="recovery-fraction">{formatPct(r.recoveredFraction)}</strong> of{' '}
        {r.bestCosine.length}
      </p>
      <StaticPlot
        testId="plot-feature-recovery"
        options={options}
        data={data}
        caption={
          <>
            <span className="chart-title">Feature recovery</span>
            <span className="formula">
              For each true feature f_i: best_i = max over latents s of |cos(f_i, W_dec[s])|; sorted by firing
              probability (grey, right axis).
            </span>
          </>
        }
      />
    </div>
  );
}
