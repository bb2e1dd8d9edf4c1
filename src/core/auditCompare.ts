/**
 * The freeze audit's plain half: weight snapshots as typed arrays, their
 * fingerprints, and the comparison of two snapshots. No tfjs import: the UI
 * imports the report types, and the math tests without a backend.
 */

/** One weight of one layer, copied to the CPU. */
export interface WeightValues {
  /** The variable's name, e.g. "conv1/kernel" (as the optimizer list names it). */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Every weight of every layer (nested models opened), in model order, keyed by layer name. */
export interface WeightSnapshot {
  layers: { name: string; weights: WeightValues[] }[];
}

/** One weight in the audit: fingerprints of its bytes before and after, and its largest absolute change. */
export interface WeightAudit {
  name: string;
  shape: number[];
  /** BatchNorm moving mean or variance (never trained by gradient). */
  statistic: boolean;
  before: string;
  after: string;
  /** max |after − before| over the elements; 0 exactly when the bits are the same, Infinity when a NaN appeared. */
  maxAbsChange: number;
}

/** One layer in the audit. */
export interface LayerAudit {
  layer: string;
  /** Frozen for the whole run, as the freeze plan asked: every weight must be bit-identical. */
  frozen: boolean;
  /** A frozen BatchNorm layer whose moving statistics were allowed to move ('train-stats' override). */
  statisticsMayChange: boolean;
  /** A trained BatchNorm layer kept in inference mode ('inference'): its moving statistics must be bit-identical. */
  statisticsFixed?: boolean;
  weights: WeightAudit[];
  /** Largest absolute change over the layer's weights. */
  maxAbsChange: number;
  /** ‖W_after − W_before‖₂ / ‖W_before‖₂ over all the layer's weights (0 when nothing moved). */
  relativeUpdate: number;
  /** False only for a frozen layer that changed, or a layer whose statistics were fixed and moved. */
  ok: boolean;
}

/** The freeze audit of one run: before = the run's start, after = the end of the run or a Verify. */
export interface AuditReport {
  layers: LayerAudit[];
  /** Names of the frozen layers that changed (the failed checks), in model order. */
  failed: string[];
  /** Frozen layers checked. */
  frozenLayers: number;
  /** 'run-end' right after the run; 'verify' when the user asked for a fresh read. */
  when: 'run-end' | 'verify';
}

/** Per-layer ‖ΔW‖/‖W‖ since the start of the run, by layer name. */
export type LayerUpdates = Record<string, number>;

const STATISTIC = /moving_(mean|variance)(_\d+)?$/;

/** Whether a weight name is a BatchNorm moving statistic. */
export function isStatistic(weightName: string): boolean {
  return STATISTIC.test(weightName);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/**
 * A fast, stable 64-bit fingerprint of the bytes of `values` (two FNV-1a
 * lanes over 32-bit words, seeded differently, plus the length), as 16 hex
 * digits. Any one-word change changes both lanes: each step is a bijection.
 */
export function fingerprint(values: Float32Array): string {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ values.length;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ ((w << 13) | (w >>> 19)), 0x5bd1e995);
  }
  a = Math.imul(a ^ values.length, 0x01000193);
  return hex32(a) + hex32(b ^ (b >>> 15));
}

/** Largest |after − before|; bit-identical elements count 0 (NaN = NaN), a NaN that appeared counts Infinity. */
export function maxAbsChange(before: Float32Array, after: Float32Array): number {
  if (before.length !== after.length) return Infinity;
  const wb = new Uint32Array(before.buffer, before.byteOffset, before.length);
  const wa = new Uint32Array(after.buffer, after.byteOffset, after.length);
  let max = 0;
  for (let i = 0; i < wb.length; i++) {
    if (wb[i] === wa[i]) continue;
    const d = Math.abs(after[i] - before[i]);
    // -0 vs 0 differ in bits but not in value: still a change, the smallest there is.
    max = Math.max(max, Number.isNaN(d) ? Infinity : d === 0 ? Number.MIN_VALUE : d);
  }
  return max;
}

/** ‖after − before‖₂ / ‖before‖₂ summed over pairs of arrays; Infinity when ‖before‖ is 0 but something moved. */
export function relativeChange(pairs: readonly { before: Float32Array; after: Float32Array }[]): number {
  let delta = 0;
  let norm = 0;
  for (const { before, after } of pairs) {
    for (let i = 0; i < before.length; i++) {
      const d = after[i] - before[i];
      delta += d * d;
      norm += before[i] * before[i];
    }
  }
  if (delta === 0) return 0;
  if (Number.isNaN(delta)) return Infinity;
  return norm === 0 ? Infinity : Math.sqrt(delta) / Math.sqrt(norm);
}

function weightsByName(snapshot: WeightSnapshot): Map<string, Map<string, WeightValues>> {
  return new Map(snapshot.layers.map((l) => [l.name, new Map(l.weights.map((w) => [w.name, w]))]));
}

/**
 * Compares two snapshots layer by layer. A layer in `frozenLayers` passes
 * only when every weight kept its fingerprint and changed by exactly 0 —
 * BatchNorm moving statistics included, unless the layer is in
 * `statisticsMayChange` (a frozen BN layer told to keep training its
 * statistics). A layer in `statisticsFixed` (a trained BN layer kept in
 * inference mode) passes only when its moving statistics are bit-identical.
 * Only layers with weights can be frozen-and-unchanged: the caller passes
 * those. A weight missing from `after` counts as changed.
 */
export function compareSnapshots(
  before: WeightSnapshot,
  after: WeightSnapshot,
  frozenLayers: ReadonlySet<string>,
  when: AuditReport['when'] = 'run-end',
  statisticsMayChange: ReadonlySet<string> = new Set(),
  statisticsFixed: ReadonlySet<string> = new Set(),
): AuditReport {
  const afterByLayer = weightsByName(after);
  const layers: LayerAudit[] = [];
  for (const layer of before.layers) {
    const afterWeights = afterByLayer.get(layer.name);
    const frozen = frozenLayers.has(layer.name);
    const statsFree = frozen && statisticsMayChange.has(layer.name);
    const statsFixed = !frozen && statisticsFixed.has(layer.name);
    const weights: WeightAudit[] = [];
    const pairs: { before: Float32Array; after: Float32Array }[] = [];
    let ok = true;
    for (const w of layer.weights) {
      const a = afterWeights?.get(w.name);
      const statistic = isStatistic(w.name);
      const change = a ? maxAbsChange(w.values, a.values) : Infinity;
      const beforePrint = fingerprint(w.values);
      const afterPrint = a ? fingerprint(a.values) : 'missing';
      weights.push({ name: w.name, shape: w.shape, statistic, before: beforePrint, after: afterPrint, maxAbsChange: change });
      if (a) pairs.push({ before: w.values, after: a.values });
      const held = frozen ? !(statsFree && statistic) : statsFixed && statistic;
      if (held && (change !== 0 || beforePrint !== afterPrint)) ok = false;
    }
    const maxChange = weights.reduce((m, w) => Math.max(m, w.maxAbsChange), 0);
    const relative = weights.some((w) => w.after === 'missing') ? Infinity : relativeChange(pairs);
    layers.push({
      layer: layer.name,
      frozen,
      statisticsMayChange: statsFree,
      statisticsFixed: statsFixed,
      weights,
      maxAbsChange: maxChange,
      relativeUpdate: relative,
      ok,
    });
  }
  return {
    layers,
    failed: layers.filter((l) => !l.ok).map((l) => l.layer),
    frozenLayers: layers.filter((l) => l.frozen).length,
    when,
  };
}

/** ‖ΔW‖/‖W‖ per layer between two snapshots (layers without weights left out). */
export function snapshotUpdates(before: WeightSnapshot, after: WeightSnapshot): LayerUpdates {
  const afterByLayer = weightsByName(after);
  const updates: LayerUpdates = {};
  for (const layer of before.layers) {
    if (layer.weights.length === 0) continue;
    const afterWeights = afterByLayer.get(layer.name);
    const pairs = layer.weights.flatMap((w) => {
      const a = afterWeights?.get(w.name);
      return a ? [{ before: w.values, after: a.values }] : [];
    });
    updates[layer.name] = pairs.length === layer.weights.length ? relativeChange(pairs) : Infinity;
  }
  return updates;
}

/** The relative updates a report holds, by layer name (layers without weights left out). */
export function reportUpdates(report: AuditReport): LayerUpdates {
  const updates: LayerUpdates = {};
  for (const l of report.layers) if (l.weights.length > 0) updates[l.layer] = l.relativeUpdate;
  return updates;
}
