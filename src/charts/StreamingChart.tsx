import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useStudio, type StudioState } from '../store/store';

/** Columnar chart data: x values, then one array per series (null = gap). */
export type Columns = [number[], ...(number | null)[][]];

interface StreamingChartProps {
  /** Accessible name of the figure, e.g. "Loss per batch". */
  title: string;
  /** uPlot options without size and title; series[0] is x. */
  options: Omit<uPlot.Options, 'width' | 'height'>;
  /** Pulls the chart's columns out of the store state; called on every store change. */
  select(state: StudioState): Columns;
  /** Text under the chart summarising the data, e.g. "120 batches, last loss 0.21". */
  describe(columns: Columns): string;
  height?: number;
}

/**
 * One uPlot instance, created on mount and destroyed on unmount, fed by a
 * store subscription (not by props), so streaming batches never re-render
 * React. The caption states how many points are drawn, for everyone.
 */
export function StreamingChart({ title, options, select, describe, height = 180 }: StreamingChartProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const captionRef = useRef<HTMLElement>(null);
  const figureRef = useRef<HTMLElement>(null);
  const selectRef = useRef(select);
  const describeRef = useRef(describe);
  selectRef.current = select;
  describeRef.current = describe;

  useEffect(() => {
    const host = hostRef.current!;
    let last = selectRef.current(useStudio.getState());
    const chart = new uPlot({ ...options, width: Math.max(host.clientWidth, 200), height }, last as uPlot.AlignedData, host);
    const render = (columns: Columns) => {
      chart.setData(columns as uPlot.AlignedData);
      if (captionRef.current) captionRef.current.textContent = describeRef.current(columns);
      figureRef.current?.setAttribute('data-points', String(columns[0].length));
    };
    render(last);
    const unsubscribe = useStudio.subscribe((state) => {
      const next = selectRef.current(state);
      if (next === last) return;
      last = next;
      render(next);
    });
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(host.clientWidth, 200), height }));
    resize.observe(host);
    return () => {
      unsubscribe();
      resize.disconnect();
      chart.destroy();
    };
    // The chart is built once; options are static per chart.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <figure className="chart" aria-label={title} ref={figureRef}>
      <div className="chart-title">{title}</div>
      <div ref={hostRef} className="chart-host" aria-hidden="true" />
      <figcaption ref={captionRef} className="muted small" />
    </figure>
  );
}
