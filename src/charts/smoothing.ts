/**
 * Exponential moving average with TensorBoard's debiasing, so the smoothed
 * line starts at the first value instead of at zero. `weight` in [0, 1).
 */
export function smoothed(values: readonly number[], weight: number): number[] {
  const out = new Array<number>(values.length);
  let last = 0;
  let debias = 1;
  for (let i = 0; i < values.length; i++) {
    last = last * weight + (1 - weight) * values[i];
    debias *= weight;
    out[i] = last / (1 - debias);
  }
  return out;
}
