import { useMemo } from 'react';
import type { HeadConfig } from '../../core/types';
import { cutRow, isRunActive } from '../../store/selectors';
import { useStudio } from '../../store/store';
import { formatShape } from '../../core/format';
import { NumberField } from '../NumberField';

/**
 * Where the head is attached and what it is: the cut layer (any layer with a
 * single output), the pooling for a spatial cut, an optional hidden ReLU
 * layer and dropout, then the softmax over the dataset's classes.
 */
export function HeadSettings() {
  const model = useStudio((s) => s.model)!;
  const cutLayer = useStudio((s) => s.cutLayer);
  const head = useStudio((s) => s.head);
  const classCount = useStudio((s) => s.classNames.length);
  const setCutLayer = useStudio((s) => s.setCutLayer);
  const setHead = useStudio((s) => s.setHead);
  const running = useStudio((s) => isRunActive(s));
  const byName = useMemo(() => new Map(model.layers.map((l) => [l.name, l])), [model]);
  const cutShape = cutLayer ? cutRow(model.layers, cutLayer)?.outputShape : undefined;
  const spatial = cutShape?.length === 3;
  const describe = (h: HeadConfig) =>
    [
      spatial ? `${h.pooling === 'max' ? 'max' : 'average'} pooling` : null,
      h.hiddenUnits ? `Dense ${h.hiddenUnits} ReLU` : null,
      h.dropout ? `dropout ${h.dropout}` : null,
      `softmax over ${Math.max(classCount, 2)} classes`,
    ]
      .filter(Boolean)
      .join(' → ');
  return (
    <details className="settings">
      <summary>
        Head: after ‘{cutLayer}’ · {describe(head)}
      </summary>
      <label className="field">
        <span>Cut layer</span>
        <select aria-label="Cut layer" value={cutLayer ?? ''} disabled={running} onChange={(e) => setCutLayer(e.target.value)}>
          {model.cutCandidates.map((name) => {
            const layer = byName.get(name);
            return (
              <option key={name} value={name}>
                {name}
                {layer
                  ? ` · ${layer.className} ${formatShape(layer.outputShape)}`
                  : ` · nested model ${formatShape(cutRow(model.layers, name)?.outputShape ?? [])}`}
                {name === model.defaultCutLayer ? ' · default' : ''}
              </option>
            );
          })}
        </select>
      </label>
      <label className="field">
        <span>Pooling</span>
        <select
          aria-label="Pooling"
          value={head.pooling}
          disabled={running || !spatial}
          aria-describedby="pooling-note"
          onChange={(e) => setHead({ pooling: e.target.value as HeadConfig['pooling'] })}
        >
          <option value="avg">Global average</option>
          <option value="max">Global max</option>
        </select>
      </label>
      <p id="pooling-note" className="muted small">
        {spatial
          ? `The cut output ${formatShape(cutShape!)} is spatial, so it is pooled to ${cutShape![2]} features.`
          : 'The cut output is not spatial; no pooling is needed.'}
      </p>
      <NumberField label="Hidden units" value={head.hiddenUnits} onValue={(v) => setHead({ hiddenUnits: v })} min={0} max={4096} step={1} disabled={running} />
      <NumberField label="Dropout" value={head.dropout} onValue={(v) => setHead({ dropout: v })} min={0} max={0.9} step="any" disabled={running} />
      <p className="muted small">Hidden units 0 means none. A change of cut or head builds a fresh head at the next Train.</p>
    </details>
  );
}
