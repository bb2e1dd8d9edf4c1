const integer = new Intl.NumberFormat('en-US');

/** 12345 → "12,345". */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** 0.9734 → "97.3%". */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** A loss value with 4 significant digits. */
export function formatLoss(value: number): string {
  return value.toPrecision(4);
}

/** [14, 14, 16] → "14×14×16". */
export function formatShape(shape: readonly (number | null)[]): string {
  return shape.map((d) => (d === null ? '?' : String(d))).join('×');
}

/** Milliseconds as "850 ms" or "12.3 s". */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
