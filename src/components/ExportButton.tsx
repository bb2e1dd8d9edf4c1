import { useId } from 'react';
import { exportBlocker, exportZip } from '../app/export';
import { studioClient } from '../app/studio';
import { useStudio } from '../store/store';
import { ExportFeedback, useExportAction } from './ExportFeedback';
import { PytorchExport } from './pytorch/PytorchExport';

/**
 * "Export model": downloads model.json + weights.bin + metadata.json as one
 * zip. Disabled, with the reason as its description, until a run has ended;
 * progress is announced in a status region, failures in an alert. Beside it,
 * *Export PyTorch project* (components/pytorch/PytorchExport.tsx).
 */
export function ExportButton() {
  const model = useStudio((s) => s.model);
  const runStatus = useStudio((s) => s.runStatus);
  const runOutcome = useStudio((s) => s.runOutcome);
  const runSettings = useStudio((s) => s.runSettings);
  const runId = useStudio((s) => s.runId);
  const reasonId = useId();
  const blocker = exportBlocker({ model, runStatus, runOutcome, runSettings });
  // A new run or model makes the last export's message stale.
  const { state, start: onExport } = useExportAction(() => exportZip(studioClient(), useStudio), [runId, model]);

  return (
    <>
      <div className="export">
        <div className="toolbar">
          <button type="button" disabled={blocker !== null || state.phase === 'working'} aria-describedby={blocker ? reasonId : undefined} onClick={onExport}>
            Export model
          </button>
          {blocker ? (
            <span id={reasonId} className="muted small">
              {blocker}
            </span>
          ) : null}
        </div>
        <ExportFeedback
          state={state}
          working="Exporting the model…"
          done={(fileName) => `Downloaded ${fileName}: model.json, weights.bin and metadata.json.`}
          failed="Export failed"
        />
      </div>
      <PytorchExport />
    </>
  );
}
