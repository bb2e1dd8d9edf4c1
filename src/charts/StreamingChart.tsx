import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useStudio, type StudioState } from '../store/store';

/** Columnar chart data: x values, then one array per series (null = gap). */
export type Columns = [number[], ...(number | null)[][]];

/** A vertical line at `x` with a label (a change of the trainable set). */
export interface ChartMarker {
  x: number;
  label: string;
  /** What the caption says of it, e.g. "batch 33: unfreeze block_15 and up". */
  describe: string;
}

const NO_MARKERS: ChartMarker[] = [];

interface StreamingChartProps {
  /** Accessible name of the figure, e.g. "Loss per batch". */
  title: string;
  /** uPlot options without size and title; series[0] is x. */
  options: Omit<uPlot.Options, 'width' | 'height'>;
  /** Pulls the chart's columns out of the store state; called on every store change. */
  select(state: StudioState): Columns;
  /** Text under the chart summarising the data, e.g. "120 batches, last loss 0.21". */
  describe(columns: Columns): string;
  /** Vertical markers to draw over the plot, pulled from the store like the columns (same array while unchanged). */
  markers?(state: StudioState): ChartMarker[];
  height?: number;
}

/** Redraws the marker lines and labels inside uPlot's overlay, at the x scale's current positions. */
function drawMarkers(chart: uPlot, markers: readonly ChartMarker[]): void {
  const over = chart.over;
  for (const old of Array.from(over.querySelectorAll('.chart-marker'))) old.remove();
  const width = over.clientWidth;
  for (const marker of markers) {
    // A change before the first point (a live change at step 0) sits on the left edge.
    const { min, max } = chart.scales.x;
    const x = min != null && max != null ? Math.min(Math.max(marker.x, min), max) : marker.x;
    const left = chart.valToPos(x, 'x');
    if (!Number.isFinite(left) || left < 0 || left > width) continue;
    const line = document.createElement('div');
    line.className = 'chart-marker';
    line.style.left = `${left}px`;
    line.title = marker.describe;
    const label = document.createElement('span');
    label.className = 'chart-marker-label';
    label.textContent = marker.label;
    if (left > width * 0.6) label.classList.add('flip');
    line.append(label);
    over.append(line);
  }
}

/**
 * One uPlot instance, created on mount and destroyed on unmount, fed by a
 * store subscription (not by props), so streaming batches never re-render
 * React. The caption states how many points are drawn, for everyone.
 */
export function StreamingChart({ title, options, select, describe, markers, height = 180 }: StreamingChartProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const captionRef = useRef<HTMLElement>(null);
  const markerCaptionRef = useRef<HTMLSpanElement>(null);
  const markersRef = useRef(markers);
  markersRef.current = markers;
  const figureRef = useRef<HTMLElement>(null);
  const selectRef = useRef(select);
  const describeRef = useRef(describe);
  selectRef.current = select;
  describeRef.current = describe;

  useEffect(() => {
    const host = hostRef.current!;
    let last = selectRef.current(useStudio.getState());
    let lastMarkers = markersRef.current?.(useStudio.getState()) ?? NO_MARKERS;
    const showMarkerCaption = () => {
      const caption = markerCaptionRef.current;
      if (!caption) return;
      caption.textContent = lastMarkers.length ? `Trainable set changed at ${lastMarkers.map((m) => m.describe).join('; ')}.` : '';
      caption.hidden = lastMarkers.length === 0;
    };
    const hooks: uPlot.Hooks.Arrays = { ...options.hooks, draw: [...(options.hooks?.draw ?? []), (u: uPlot) => drawMarkers(u, lastMarkers)] };
    const chart = new uPlot({ ...options, hooks, width: Math.max(host.clientWidth, 200), height }, last as uPlot.AlignedData, host);
    showMarkerCaption();
    const render = (columns: Columns) => {
      chart.setData(columns as uPlot.AlignedData);
      if (captionRef.current) captionRef.current.textContent = describeRef.current(columns);
      figureRef.current?.setAttribute('data-points', String(columns[0].length));
    };
    render(last);
    let lastStatus = useStudio.getState().runStatus;
    const unsubscribe = useStudio.subscribe((state) => {
      const nextMarkers = markersRef.current?.(state) ?? NO_MARKERS;
      const next = selectRef.current(state);
      const markersChanged = nextMarkers !== lastMarkers;
      lastMarkers = nextMarkers;
      if (markersChanged) showMarkerCaption();
      // The x range follows the run's state (the planned epochs while it runs, what it ran once it ended): refit on a change.
      const statusChanged = state.runStatus !== lastStatus;
      lastStatus = state.runStatus;
      if (next === last && statusChanged) {
        render(next);
        return;
      }
      if (next === last) {
        if (markersChanged) chart.redraw(false);
        return;
      }
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
      <figcaption className="muted small">
        <span ref={captionRef} />
        <span ref={markerCaptionRef} className="marker-caption" hidden />
      </figcaption>
    </figure>
  );
}
