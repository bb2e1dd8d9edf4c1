import { useEffect, useId, useState } from 'react';
import { exportBlocker, exportZip } from '../app/export';
import { studioClient } from '../app/studio';
import { useStudio } from '../store/store';
import { PytorchExport } from './pytorch/PytorchExport';

type ExportState = { phase: 'idle' } | { phase: 'working' } | { phase: 'done'; fileName: string } | { phase: 'failed'; message: string };

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
  const [state, setState] = useState<ExportState>({ phase: 'idle' });
  const reasonId = useId();
  const blocker = exportBlocker({ model, runStatus, runOutcome, runSettings });

  // A new run or model makes the last export's message stale.
  useEffect(() => setState({ phase: 'idle' }), [runId, model]);

  const onExport = async () => {
    setState({ phase: 'working' });
    try {
      const fileName = await exportZip(studioClient(), useStudio);
      setState({ phase: 'done', fileName });
    } catch (error) {
      setState({ phase: 'failed', message: (error as Error).message });
    }
  };

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
        <p role="status" className="muted small">
          {state.phase === 'working' ? 'Exporting the model…' : null}
          {state.phase === 'done' ? `Downloaded ${state.fileName}: model.json, weights.bin and metadata.json.` : null}
        </p>
        {state.phase === 'failed' ? (
          <p role="alert" className="error">
            Export failed: {state.message}
          </p>
        ) : null}
      </div>
      <PytorchExport />
    </>
  );
}
