import { useEffect, useId, useState, type ClipboardEvent, type DragEvent } from 'react';
import { predictBlocker, predictFiles, PREDICT_TOP_K, type PredictedImage } from '../../app/predictImages';
import { studioClient } from '../../app/studio';
import type { RejectedFile } from '../../data/types';
import { useStudio } from '../../store/store';
import { Thumbnail } from '../Thumbnail';
import { ProbabilityBars } from './CellImages';

type PredictState =
  | { phase: 'idle' }
  | { phase: 'working'; count: number }
  | { phase: 'done'; images: PredictedImage[]; rejected: RejectedFile[] }
  | { phase: 'failed'; message: string };

/**
 * "Predict": drop, paste (while the zone has focus) or pick images; each is decoded exactly as the run's
 * images were and shown with its top-3 classes. A bad file is named with its reason; the rest are still predicted.
 */
export function PredictPanel() {
  const model = useStudio((s) => s.model);
  const runStatus = useStudio((s) => s.runStatus);
  const runSettings = useStudio((s) => s.runSettings);
  const runId = useStudio((s) => s.runId);
  const blocker = predictBlocker({ model, runStatus, runSettings });
  const [state, setState] = useState<PredictState>({ phase: 'idle' });
  const [dragging, setDragging] = useState(false);
  const inputId = useId();
  const hintId = useId();

  // Predictions belong to the model of one run.
  useEffect(() => setState({ phase: 'idle' }), [runId, model]);

  const predict = async (files: File[]) => {
    if (blocker || files.length === 0) return;
    setState({ phase: 'working', count: files.length });
    try {
      const result = await predictFiles(files, studioClient(), useStudio.getState());
      setState({ phase: 'done', ...result });
    } catch (error) {
      setState({ phase: 'failed', message: `Prediction failed: ${(error as Error).message}` });
    }
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    void predict(Array.from(event.dataTransfer.files));
  };
  const onPaste = (event: ClipboardEvent) => {
    const files = Array.from(event.clipboardData.files);
    if (files.length === 0) return;
    // Keep the paste here: the data panel would otherwise add the image to a class.
    event.preventDefault();
    event.stopPropagation();
    void predict(files);
  };

  return (
    <section className="panel predict-panel" aria-labelledby="predict-heading">
      <h2 id="predict-heading">5 · Predict</h2>
      <div
        className={`predict-zone${dragging ? ' dragging' : ''}${blocker ? ' disabled' : ''}`}
        role="group"
        aria-label="Images to predict: drop, paste or pick"
        aria-describedby={hintId}
        tabIndex={blocker ? -1 : 0}
        onDragOver={(event) => {
          if (blocker) return;
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        onPaste={onPaste}
      >
        <label className={`button${blocker ? ' disabled' : ''}`} htmlFor={inputId}>
          Pick images to predict
        </label>
        <input
          id={inputId}
          className="visually-hidden"
          type="file"
          accept="image/*"
          multiple
          disabled={blocker !== null}
          onChange={(event) => {
            const files = Array.from(event.target.files ?? []);
            event.target.value = '';
            void predict(files);
          }}
        />
        <p id={hintId} className="muted small">
          {blocker ?? `Drop images here, paste one while this box has focus, or pick files: each gets the model's top ${PREDICT_TOP_K} classes.`}
        </p>
      </div>
      <div role="status" aria-live="polite" className="muted small">
        {state.phase === 'working' ? `Predicting ${state.count} image${state.count === 1 ? '' : 's'}…` : null}
        {state.phase === 'done' ? `Predicted ${state.images.length} image${state.images.length === 1 ? '' : 's'}.` : null}
      </div>
      {state.phase === 'failed' ? (
        <p role="alert" className="error">
          {state.message}
        </p>
      ) : null}
      {state.phase === 'done' && state.rejected.length > 0 ? (
        <ul className="predict-rejected" role="alert">
          {state.rejected.map((r) => (
            <li key={r.path} className="error">
              {r.reason}
            </li>
          ))}
        </ul>
      ) : null}
      {state.phase === 'done' && state.images.length > 0 ? (
        <ul className="cell-image-list predictions" aria-label="Predictions">
          {state.images.map((image, i) => (
            <li key={`${image.name}-${i}`} className="cell-image">
              <Thumbnail pixels={image.pixels} shape={image.shape} label={image.name} />
              <div className="cell-image-info">
                <span className="small cell-image-name" title={image.name}>
                  {image.name}
                </span>
                <ProbabilityBars items={image.top} label={`Top ${PREDICT_TOP_K} classes for ${image.name}`} />
              </div>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
