/**
 * The "proxy gap" panel (seed 003_f847dc3b6a976c85.txt): reconstruction metrics (explained variance, cosine,
 * relative error norm) next to behavioural ones (CE-loss score with its 95% interval, Δloss, KL score), one sentence
 * each, and the live CE-loss-score curve of the run. Labels from src/sae/metrics.ts.
 */
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { METRIC_LABELS } from '../sae/metrics';
import { useBehaviour } from '../state/behaviour-store';
import { useLab } from '../state/lab-store';
import { formatInt, formatSig } from './format';
import { StaticPlot } from './StaticPlot';

const SENTENCES = {
  explainedVariance: 'How much of the activations’ variance the reconstruction keeps (R²).',
  cosine: 'How well the reconstruction points in the activation’s direction, token by token.',
  relErr: 'How large the reconstruction error is next to the activation itself.',
  ceLossScore: 'How much of the damage of deleting the hook the SAE repairs when spliced into the model.',
  deltaLoss: 'How many extra nats per token the model loses with the SAE in place.',
  klScore: 'How closely the spliced model’s next-token distribution follows the clean model’s.',
} as const;

function LiveCurve() {
  const live = useBehaviour((s) => s.live);
  const data = useMemo<uPlot.AlignedData>(
    () => [live.map((p) => p.step), live.map((p) => p.metrics.ceLossScore.value)],
    [live],
  );
  const options = useMemo(
    () => (width: number) =>
      ({
        width,
        height: 180,
        scales: { x: { time: false } },
        axes: [{ label: 'step' }, { label: METRIC_LABELS.ceLossScore.label }],
        series: [{}, { label: METRIC_LABELS.ceLossScore.label, stroke: '#c0392b', points: { show: true } }],
      }) as uPlot.Options,
    [],
  );
  if (live.length === 0) return null;
  const last = live[live.length - 1];
  return (
    <StaticPlot
      testId="behaviour-live"
      options={options}
      data={data}
      caption={`${METRIC_LABELS.ceLossScore.label} during training, on ${last.metrics.documents} held-out documents (${formatInt(last.metrics.tokens)} tokens)`}
    />
  );
}

/** The proxy-gap panel; shows nothing for datasets without a language model behind them. */
export function ProxyGap() {
  const summary = useLab((s) => s.summary);
  const run = useLab((s) => s.run);
  const { final, live, error } = useBehaviour();
  if (!run || (!final && live.length === 0 && !error)) return null;
  const m = final?.metrics;
  const h = summary?.heldOut;
  const ci = (w: { lo: number; hi: number }) => `[${formatSig(w.lo)}, ${formatSig(w.hi)}]`;
  const rows: [keyof typeof SENTENCES, string, string][] = [
    ['explainedVariance', formatSig(h?.explainedVariance), 'pg-ev'],
    ['cosine', formatSig(h?.cosine), 'pg-cosine'],
    ['relErr', formatSig(h?.relErr), 'pg-relerr'],
    [
      'ceLossScore',
      m ? `${formatSig(m.ceLossScore.value)} ${ci(m.ceLossScore)}` : 'computing…',
      'pg-ce-score',
    ],
    [
      'deltaLoss',
      m ? `${formatSig(m.deltaLoss.value)} nats ${ci(m.deltaLoss)}` : 'computing…',
      'pg-delta-loss',
    ],
    ['klScore', m ? formatSig(m.klScore) : 'computing…', 'pg-kl-score'],
  ];
  return (
    <section aria-label="Proxy gap" className="summary-section" data-testid="proxy-gap">
      <h2>Proxy gap: reconstruction vs behaviour</h2>
      {error && (
        <p role="alert" className="error" data-testid="behaviour-error">
          Behavioural evaluation failed: {error}
        </p>
      )}
      {summary && (
        <table className="summary">
          <tbody>
            {rows.map(([key, value, id]) => (
              <tr key={key} title={METRIC_LABELS[key].tooltip}>
                <th scope="row">{METRIC_LABELS[key].label}</th>
                <td data-testid={id}>{value}</td>
                <td className="hint">{SENTENCES[key]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m && final && (
        <p className="hint" data-testid="pg-basis">
          Patched CE at {final.hook} of {final.model} on {m.documents} held-out documents (
          {formatInt(m.tokens)} target tokens): CE clean {formatSig(m.ceClean)}, with the SAE{' '}
          {formatSig(m.ceSae)}, zero-ablated {formatSig(m.ceZero)} nats/token; intervals: 95% bootstrap over
          documents (1,000 resamples).
        </p>
      )}
      <LiveCurve />
    </section>
  );
}
