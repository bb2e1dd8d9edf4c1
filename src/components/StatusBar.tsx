import { plannedEpochs, runBatchesPerEpoch } from '../store/selectors';
import { autosaveText } from '../app/autosave';
import { useStudio } from '../store/store';
import { backendWithProbes } from '../core/backendChoice';

/**
 * The live region that says which backend trains and where the run is
 * (epoch, batch), which project is open, and what the autosave did. Screen readers hear it; tests read it.
 */
export function StatusBar() {
  const backend = useStudio((s) => s.backend);
  const notes = useStudio((s) => s.backendNotes);
  const runStatus = useStudio((s) => s.runStatus);
  const epochs = useStudio((s) => s.epochs.length);
  // The run's own epochs ("Auto" may have chosen them), not the field's.
  const totalEpochs = useStudio(plannedEpochs);
  const batchesPerEpoch = useStudio(runBatchesPerEpoch);
  const lastPoint = useStudio((s) => s.batchPoints[s.batchPoints.length - 1]);
  const saved = autosaveText(useStudio((s) => s.autosave));
  const projectName = useStudio((s) => s.project?.name);
  const access = useStudio((s) => s.projectAccess);

  // A run on auto may have moved to the backend it measured fastest (issue 15): the run's backend, and its figures.
  const runSetup = useStudio((s) => s.runSetup);
  const shown = runSetup?.backend ?? backend;
  const measured = backendWithProbes(shown ?? '', runSetup?.backendProbes).slice((shown ?? '').length);
  const backendText = shown ? `Backend: ${shown}${measured}` : 'Starting the training backend…';
  let progress = 'Ready';
  if (runStatus === 'starting') progress = 'Preparing the run…';
  else if (runStatus === 'running' || runStatus === 'stopping') {
    const epoch = lastPoint ? lastPoint.epoch + 1 : 1;
    const batch = lastPoint ? lastPoint.batch + 1 : 0;
    progress = `${runStatus === 'stopping' ? 'Stopping · ' : ''}Epoch ${epoch}/${totalEpochs} · batch ${batch}/${batchesPerEpoch}`;
  } else if (runStatus === 'done') progress = `Done · ${epochs} epoch${epochs === 1 ? '' : 's'}`;
  else if (runStatus === 'failed') progress = 'Failed';
  const readOnly = access === 'read-only' || access === 'taken-over' ? ' (read-only)' : '';

  return (
    <p role="status" className="status-bar" title={notes.join('\n') || undefined}>
      <span className={`backend-dot ${backend ?? 'none'}`} aria-hidden="true" />
      <span>{`${backendText} · ${progress}`}</span>
      {projectName && <span data-testid="project-name">{` · Project: ${projectName}${readOnly}`}</span>}
      {saved && <span data-testid="autosave-status">{` · ${saved}`}</span>}
    </p>
  );
}
