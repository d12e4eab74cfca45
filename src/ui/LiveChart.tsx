/**
 * One live uPlot chart fed from the metric buffers (src/state/metric-buffers.ts), outside React: the component
 * renders once; buffer changes schedule at most one `setData` per animation frame.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { type MetricBuffers, metricBuffers } from '../state/metric-buffers';
import type { EvalField, TrainField } from '../train/history';
import { formatSig } from './format';
import { recordDraw } from './test-hook';

/** One line of a chart: a field of the training table or of the held-out table. */
export type SeriesSpec =
  | { table: 'train'; field: TrainField; label: string; color: string }
  | { table: 'eval'; field: EvalField; label: string; color: string };

/** Props of {@link LiveChart}. */
export interface LiveChartProps {
  /** Stable id: data-testid `chart-<id>` and key in window.__saeLab.charts. */
  id: string;
  title: string;
  /** y-axis label with units. */
  yLabel: string;
  /** The formula, shown under the title and as its tooltip. */
  formula: string;
  series: SeriesSpec[];
  /** Logarithmic y axis (quantities spanning orders of magnitude). */
  logY?: boolean;
  /** Fixed y range, e.g. [0, 1] for fractions. */
  yRange?: [number, number];
  height?: number;
}

/** Aligned [x, ...ys] data for the chart's series (held-out points joined onto the training steps). */
function buildData(b: MetricBuffers, series: SeriesSpec[]): uPlot.AlignedData {
  const train = series.filter((s) => s.table === 'train');
  const evals = series.filter((s) => s.table === 'eval');
  const trainData: uPlot.AlignedData = [
    b.train.column('step'),
    ...train.map((s) => b.train.column(s.field as TrainField)),
  ] as uPlot.AlignedData;
  if (evals.length === 0) return trainData;
  const evalData: uPlot.AlignedData = [
    b.eval.column('step'),
    ...evals.map((s) => b.eval.column(s.field as EvalField)),
  ] as uPlot.AlignedData;
  if (train.length === 0) return evalData;
  const joined = uPlot.join([
    [Array.from(trainData[0]), ...trainData.slice(1).map((c) => Array.from(c as ArrayLike<number>))],
    [Array.from(evalData[0]), ...evalData.slice(1).map((c) => Array.from(c as ArrayLike<number>))],
  ] as uPlot.AlignedData[]);
  // join() orders the series train first, eval second; reorder to the spec's order.
  const order = [...train, ...evals];
  return [joined[0], ...series.map((s) => joined[1 + order.indexOf(s)])] as uPlot.AlignedData;
}

/** A live line chart of some metric series against the training step. */
export function LiveChart({
  id,
  title,
  yLabel,
  formula,
  series,
  logY,
  yRange,
  height = 200,
}: LiveChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  // A chart's series, axes and scales are fixed when it is created; later prop changes are ignored.
  const fixed = useRef({ series, yLabel, logY, yRange, height }).current;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const { series: spec, yLabel, logY, yRange, height } = fixed;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height,
      scales: {
        x: { time: false },
        y: logY ? { distr: 3 } : yRange ? { range: yRange } : {},
      },
      axes: [
        { label: 'step', labelSize: 18, size: 36 },
        {
          label: yLabel,
          labelSize: 18,
          size: 60,
          values: (_u, ticks) => ticks.map((t) => (Number.isFinite(t) ? formatSig(t, 3) : '')),
        },
      ],
      series: [
        { label: 'step' },
        ...spec.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          spanGaps: true,
          points: { show: s.table === 'eval' },
        })),
      ],
      legend: { live: true },
    };
    const u = new uPlot(opts, buildData(metricBuffers, spec), el);
    let raf = 0;
    let drawn = -1;
    const draw = () => {
      raf = 0;
      if (drawn === metricBuffers.version) return;
      drawn = metricBuffers.version;
      const data = buildData(metricBuffers, spec);
      u.setData(data);
      const xs = data[0] as ArrayLike<number>;
      const n = xs.length;
      frame.current?.setAttribute('data-points', String(n));
      recordDraw(id, n, n > 0 ? xs[n - 1] : 0);
    };
    const off = metricBuffers.subscribe(() => {
      if (!raf) raf = requestAnimationFrame(draw);
    });
    draw();
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(240, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      off();
      ro.disconnect();
      if (raf) cancelAnimationFrame(raf);
      u.destroy();
    };
  }, [id, fixed]);

  return (
    <figure className="chart" data-testid={`chart-${id}`} ref={frame} data-points="0">
      <figcaption>
        <span className="chart-title" title={formula}>
          {title}
        </span>
        <span className="formula">{formula}</span>
      </figcaption>
      <div ref={host} />
    </figure>
  );
}
