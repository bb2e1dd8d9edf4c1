import { useMemo } from 'react';
import { countParams } from '../engine/params';
import { useTransferLayers } from '../store/hooks';
import { studioClient } from '../app/studio';
import { frozenLayerCount, isRunActive, replacedLayers } from '../store/selectors';
import { useStudio } from '../store/store';
import { formatCount, formatShape } from './format';
import { LayerTree } from './LayerTree';

function ParamSummary() {
  const rows = useTransferLayers();
  const freezePlan = useStudio((s) => s.freezePlan);
  const totals = useMemo(() => countParams(rows, freezePlan), [rows, freezePlan]);
  const layers = useMemo(() => frozenLayerCount(rows, freezePlan), [rows, freezePlan]);
  const share = totals.total ? totals.trainable / totals.total : 0;
  return (
    <div className="param-summary">
      <dl className="stats" aria-label="Parameter totals">
        <div>
          <dt>Total params</dt>
          <dd data-testid="total-params">{formatCount(totals.total)}</dd>
        </div>
        <div>
          <dt>Trainable params</dt>
          <dd data-testid="trainable-params">{formatCount(totals.trainable)}</dd>
        </div>
        <div>
          <dt>Non-trainable params</dt>
          <dd data-testid="non-trainable-params">{formatCount(totals.nonTrainable)}</dd>
        </div>
      </dl>
      <div className="share-bar" role="img" aria-label={`${(share * 100).toFixed(1)}% of parameters are trainable`}>
        <span style={{ width: `${share * 100}%` }} />
      </div>
      <p className="muted small">
        {layers.frozen} of {layers.pretrained} pretrained layers frozen. BatchNorm moving statistics never train, and a frozen BatchNorm layer runs in inference mode.
      </p>
    </div>
  );
}

/** "Import model": a model.json picked together with its weight shards; a failed import keeps the current model. */
function ImportModel() {
  const status = useStudio((s) => s.modelStatus);
  const running = useStudio((s) => isRunActive(s));
  return (
    <label className="button import">
      Import model…
      <input
        className="visually-hidden"
        type="file"
        multiple
        accept=".json,.bin,application/json,application/octet-stream"
        aria-label="Import model"
        disabled={status === 'loading' || running}
        onChange={async (e) => {
          const input = e.target;
          const picked = Array.from(input.files ?? []);
          input.value = '';
          if (picked.length === 0) return;
          const files = await Promise.all(picked.map(async (file) => ({ name: file.name, buffer: await file.arrayBuffer() })));
          await studioClient().loadModel({ kind: 'files', files }, `Imported: ${files.map((f) => f.name).find((n) => n.endsWith('.json')) ?? 'model.json'}`);
        }}
      />
    </label>
  );
}

/** Left column: the model's identity, its parameter totals, freeze controls, and the layer tree. */
export function ModelPanel() {
  const model = useStudio((s) => s.model);
  const status = useStudio((s) => s.modelStatus);
  const error = useStudio((s) => s.modelError);
  const cutLayer = useStudio((s) => s.cutLayer);
  const filter = useStudio((s) => s.layerFilter);
  const setLayerFilter = useStudio((s) => s.setLayerFilter);
  const setAllFrozen = useStudio((s) => s.setAllFrozen);
  const replaced = useMemo(() => replacedLayers({ model, cutLayer }), [model, cutLayer]);

  return (
    <section className="panel model-panel" aria-labelledby="model-heading">
      <h2 id="model-heading">1 · Model</h2>
      {status === 'loading' ? <p className="muted" role="status">Loading the model…</p> : null}
      <ImportModel />
      {error ? <p className="error" role="alert">{error}</p> : null}
      {model ? (
        <>
          <div className="model-card">
            <div className="model-name">{model.name}</div>
            <div className="muted small">
              {model.layers.length} layers · input {formatShape([model.inputShape.height, model.inputShape.width, model.inputShape.channels])} · values in [{model.preprocessing.range.join(', ')}]
            </div>
            {model.provenance ? <div className="muted small">Pretrained on {model.provenance}</div> : null}
            {replaced.length ? (
              <div className="muted small">
                Original classifier {replaced.map((l) => `‘${l.name}’`).join(', ')} replaced by the studio’s head after ‘{cutLayer}’.
              </div>
            ) : null}
          </div>
          <ParamSummary />
          <div className="toolbar">
            <button type="button" onClick={() => setAllFrozen(true)}>Freeze all</button>
            <button type="button" onClick={() => setAllFrozen(false)}>Unfreeze all</button>
            <label className="filter">
              <span className="visually-hidden">Filter layers</span>
              <input type="search" placeholder="Filter layers" aria-label="Filter layers" value={filter} onChange={(e) => setLayerFilter(e.target.value)} />
            </label>
          </div>
          <LayerTree />
        </>
      ) : null}
    </section>
  );
}
