import { useId, useMemo, useState } from 'react';
import { exportPytorchProject, pytorchExportBlocker, type PytorchExportResult } from '../../app/exportPytorch';
import { PYTORCH_SUPPORT } from '../../app/pytorchSources';
import { studioClient } from '../../app/studio';
import { unsupportedLayersMessage } from '../../core/pytorchSupport';
import { useTransferLayers } from '../../store/hooks';
import { useStudio } from '../../store/store';
import { ExportFeedback, useExportAction } from '../ExportFeedback';
import { PytorchRunAudit } from './PytorchRunAudit';

/** What the status line says after an export. */
function doneMessage({ fileName, weightsFrom, images }: PytorchExportResult): string {
  const weights = weightsFrom === 'trained' ? "the last run's trained weights" : 'the pretrained weights and a freshly initialised head';
  const data = images > 0 ? `, and ${images.toLocaleString('en-US')} images in data/` : '';
  return `Downloaded ${fileName}: train.py, recipe.json and the model with ${weights}${data}.`;
}

/**
 * *Export PyTorch project* with its option *Include my images*: downloads `<model>-pytorch.zip` (app/exportPytorch.ts).
 * Needs a loaded model, not a run; disabled with the reason as its description otherwise.
 */
export function PytorchExport() {
  const model = useStudio((s) => s.model);
  const rows = useTransferLayers();
  // Named before the click from the tree's rows; the export checks the serialised model again (activations included).
  const unsupported = useMemo(() => {
    const known = new Set(PYTORCH_SUPPORT.classes);
    const layers = rows.filter((l) => !known.has(l.className)).map((l) => ({ name: l.name, className: l.className, parent: l.parent }));
    return unsupportedLayersMessage(layers, PYTORCH_SUPPORT.classes);
  }, [rows]);
  const blocker = useStudio(pytorchExportBlocker) ?? unsupported;
  const [includeImages, setIncludeImages] = useState(false);
  const reasonId = useId();
  const { state, start: onExport } = useExportAction(() => exportPytorchProject(studioClient(), useStudio, { includeImages }), [model]);

  return (
    <div className="export pytorch-export">
      <div className="toolbar">
        <button type="button" disabled={blocker !== null || state.phase === 'working'} aria-describedby={blocker ? reasonId : undefined} onClick={onExport}>
          Export PyTorch project
        </button>
        <label className="checkbox-field small">
          <input type="checkbox" checked={includeImages} onChange={(e) => setIncludeImages(e.target.checked)} /> Include my images
        </label>
        {blocker ? (
          <span id={reasonId} className="muted small">
            {blocker}
          </span>
        ) : null}
      </div>
      <ExportFeedback state={state} working="Writing the PyTorch project…" done={doneMessage} failed="PyTorch export failed" />
      <PytorchRunAudit />
    </div>
  );
}
