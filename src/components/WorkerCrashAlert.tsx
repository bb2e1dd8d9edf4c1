import { restartTrainingWorker } from '../app/studio';
import { useStudio } from '../store/store';
import { modelSourceLabel } from '../store/selectors';

/**
 * Shown while the training worker is down: what it said, what was lost, and
 * "Restart the training worker" (a fresh worker with the current model; the
 * tree, plan, data and run history stay). A failed restart says why here.
 */
export function WorkerCrashAlert() {
  const crash = useStudio((s) => s.workerCrash);
  const source = useStudio(modelSourceLabel);
  if (!crash) return null;
  return (
    <section className="panel worker-crash" role="alert" aria-labelledby="worker-crash-heading" style={{ margin: '12px 20px 0' }}>
      <h2 id="worker-crash-heading" className="error">
        The training worker crashed
      </h2>
      <p>
        It said: “{crash.message}”. A run in progress, and any export, check or prediction that was waiting, were cancelled; the trained weights of the last run
        are lost. Your data, freeze plan and settings are kept.
      </p>
      {crash.restartError ? <p className="error">{crash.restartError}</p> : null}
      <div className="toolbar">
        <button type="button" className="primary" disabled={crash.restarting} onClick={() => void restartTrainingWorker()}>
          Restart the training worker
        </button>
        <span className="muted small" role="status">
          {crash.restarting ? `Restarting and loading ${source || 'the model'} again…` : `It starts again with ${source || 'the built-in model'}.`}
        </span>
      </div>
    </section>
  );
}
