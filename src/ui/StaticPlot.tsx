/** A uPlot chart of fixed data (the end-of-run diagnostics), redrawn when its data changes. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

/** Props of {@link StaticPlot}. */
export interface StaticPlotProps {
  testId: string;
  /** Builds the options for a given width. */
  options: (width: number) => uPlot.Options;
  data: uPlot.AlignedData;
  caption: React.ReactNode;
}

/** A fixed-data uPlot chart in a figure with a caption. */
export function StaticPlot({ testId, options, data, caption }: StaticPlotProps) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = () => Math.max(260, el.clientWidth);
    const opts = options(width());
    const u = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => u.setSize({ width: width(), height: opts.height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [options, data]);
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{caption}</figcaption>
      <div ref={host} />
    </figure>
  );
}
