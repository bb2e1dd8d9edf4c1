import { useMemo, type ReactNode } from 'react';
import type { ResizeMode } from '../../core/types';
import { isRunActive, modelSourceLabel, replacedLayers } from '../../store/selectors';
import { useStudio } from '../../store/store';
import { countParams, sourceFreezePlan } from '../../core/params';
import { formatCount, formatShape } from '../../core/format';

/** Value ranges models are commonly trained with, by the label the picker shows. */
const RANGES: readonly { label: string; range: [number, number] }[] = [
  { label: '[0, 1] (x / 255)', range: [0, 1] },
  { label: '[-1, 1] (MobileNet, Inception)', range: [-1, 1] },
  { label: '[0, 255] (raw pixels)', range: [0, 255] },
];

const RESIZE_MODES: readonly { mode: ResizeMode; label: string }[] = [
  { mode: 'stretch', label: 'Stretch to fit' },
  { mode: 'center-crop', label: 'Center crop' },
  { mode: 'letterbox', label: 'Letterbox (pad with black)' },
];

const rangeKey = (range: readonly [number, number]) => `${range[0]},${range[1]}`;

/**
 * The loaded model's identity: its name, where it came from, layer count and input size; under "About this model"
 * (folded, so the tree keeps its height) the file's own totals, what it was trained on and what the head replaces;
 * `more` (another folded line, e.g. the step's cost) sits beside it.
 */
export function ModelCard({ more }: { more?: ReactNode }) {
  const model = useStudio((s) => s.model)!;
  const sourceLabel = useStudio(modelSourceLabel);
  const cutLayer = useStudio((s) => s.cutLayer);
  const replaced = useMemo(() => replacedLayers({ model, cutLayer }), [model, cutLayer]);
  // The file as imported, its own classifier and `trainable` flags included: what Keras' model.summary() states for it.
  const asImported = useMemo(() => countParams(model.layers, sourceFreezePlan(model.layers)), [model]);
  const { height, width, channels } = model.inputShape;
  return (
    <div className="model-card">
      <div className="model-name">{model.name}</div>
      <div className="muted small fact" data-testid="model-facts">
        {sourceLabel} · {model.layerCount} layers · input {formatShape([height, width, channels])}
      </div>
      <div className="summary-links">
        <details className="model-details">
          <summary>About this model</summary>
          <div
            className="muted small fact"
            data-testid="source-params"
            title="Counted as Keras' model.summary() counts the file: its own classifier and trainable flags, BatchNorm moving statistics non-trainable"
          >
            As imported: <span data-testid="source-trainable">{formatCount(asImported.trainable)}</span> trainable +{' '}
            <span data-testid="source-non-trainable">{formatCount(asImported.nonTrainable)}</span> non-trainable = {formatCount(asImported.total)} params
          </div>
          {model.provenance ? (
            <div className="muted small fact" title={`Pretrained on ${model.provenance}`}>
              Pretrained on {model.provenance}
            </div>
          ) : null}
          {replaced.length ? (
            <div
              className="muted small fact"
              title={`Original classifier ${replaced.map((l) => `‘${l.name}’`).join(', ')} replaced by the studio’s head after ‘${cutLayer}’.`}
            >
              Original classifier {replaced.map((l) => `‘${l.name}’`).join(', ')} replaced by the studio’s head after ‘{cutLayer}’.
            </div>
          ) : null}
        </details>
        {more}
      </div>
    </div>
  );
}

/** The preprocessing: input size (fixed by the model), value range and resize mode (editable; used for training and recorded in the export). */
export function PreprocessingSettings() {
  const model = useStudio((s) => s.model)!;
  const preprocessing = useStudio((s) => s.preprocessing)!;
  const setPreprocessing = useStudio((s) => s.setPreprocessing);
  const running = useStudio((s) => isRunActive(s));
  const ranges = RANGES.some((r) => rangeKey(r.range) === rangeKey(preprocessing.range))
    ? RANGES
    : [...RANGES, { label: `[${preprocessing.range.join(', ')}]`, range: preprocessing.range }];
  const ownRange = rangeKey(model.preprocessing.range);
  const { height, width, channels } = model.inputShape;
  const resizeLabel = RESIZE_MODES.find((r) => r.mode === preprocessing.resize)?.label.toLowerCase();
  return (
    <details className="settings">
      <summary>
        Preprocessing: {width}×{height} {channels === 1 ? 'grey' : 'RGB'}, {resizeLabel}, values in [{preprocessing.range.join(', ')}]
      </summary>
      <div className="preprocessing">
        <label className="field">
          <span>Pixel values</span>
          <select
            aria-label="Pixel values"
            value={rangeKey(preprocessing.range)}
            disabled={running}
            onChange={(e) => setPreprocessing({ range: ranges.find((r) => rangeKey(r.range) === e.target.value)!.range })}
          >
            {ranges.map((r) => (
              <option key={rangeKey(r.range)} value={rangeKey(r.range)}>
                {r.label}
                {rangeKey(r.range) === ownRange ? ' · model’s own' : ''}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Resize</span>
          <select
            aria-label="Resize"
            value={preprocessing.resize}
            disabled={running}
            onChange={(e) => setPreprocessing({ resize: e.target.value as ResizeMode })}
          >
            {RESIZE_MODES.map((r) => (
              <option key={r.mode} value={r.mode}>
                {r.label}
                {r.mode === model.preprocessing.resize ? ' · model’s own' : ''}
              </option>
            ))}
          </select>
        </label>
        <p className="muted small">
          The input size is fixed by the model. Training and the export use these settings; images already added keep the fit they were decoded with (the
          built-in sample is re-fitted).
        </p>
      </div>
    </details>
  );
}
