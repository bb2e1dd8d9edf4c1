import { useMemo } from 'react';
import { countParams } from '../core/params';
import { useTransferLayers } from '../store/hooks';
import { frozenLayerCount } from '../store/selectors';
import { useStudio } from '../store/store';
import { formatCount } from '../core/format';
import { LayerTree } from './LayerTree';
import { FreezePresets } from './model/FreezePresets';
import { HeadSettings } from './model/HeadSettings';
import { ModelCard, PreprocessingSettings } from './model/ModelCard';
import { ModelSource } from './model/ModelSource';
import { StepCost } from './model/StepCost';

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
      <p className="muted small frozen-count" title="BatchNorm moving statistics never train, and a frozen BatchNorm layer runs in inference mode.">
        {layers.frozen} of {layers.pretrained} pretrained layers frozen.{' '}
        <span className="tree-legend" aria-hidden="true">
          <span className="legend-frozen">frozen</span> <span className="legend-trained">trained</span> <span className="legend-head">new head</span>
        </span>
      </p>
    </div>
  );
}

/**
 * Model pane: where the model comes from; the plan's settings (preprocessing, head, preset), each compact
 * until opened; then, pinned above the tree, the model's name, the parameter totals and the step's cost;
 * and the layer tree, which takes the rest of the pane's height (styles.css, "Studio layout").
 */
export function ModelPanel() {
  const model = useStudio((s) => s.model);
  const status = useStudio((s) => s.modelStatus);
  const error = useStudio((s) => s.modelError);
  const filter = useStudio((s) => s.layerFilter);
  const setLayerFilter = useStudio((s) => s.setLayerFilter);
  const setAllFrozen = useStudio((s) => s.setAllFrozen);

  return (
    <section className="pane panel model-panel" aria-labelledby="model-heading">
      <div className="model-top">
        <h2 id="model-heading">1 · Model</h2>
        <ModelSource />
      </div>
      {status === 'loading' ? (
        <p className="muted" role="status">
          Loading the model…
        </p>
      ) : null}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {model ? (
        <>
          <div className="plan-settings">
            <div className="plan-expanders">
              <PreprocessingSettings />
              <HeadSettings />
            </div>
            <FreezePresets />
          </div>
          <div className="model-summary">
            <ModelCard
              more={
                // The step's cost follows every toggle; folded to one line beside "About this model" so the tree keeps the pane's height.
                <details className="step-cost-details">
                  <summary>Cost of a training step</summary>
                  <StepCost />
                </details>
              }
            />
            <ParamSummary />
          </div>
          <LayerTree
            tools={
              <>
                <button type="button" onClick={() => setAllFrozen(true)}>
                  Freeze all
                </button>
                <button type="button" onClick={() => setAllFrozen(false)}>
                  Unfreeze all
                </button>
                <label className="filter">
                  <span className="visually-hidden">Filter layers</span>
                  <input type="search" placeholder="Filter" aria-label="Filter layers" value={filter} onChange={(e) => setLayerFilter(e.target.value)} />
                </label>
              </>
            }
          />
        </>
      ) : null}
    </section>
  );
}
