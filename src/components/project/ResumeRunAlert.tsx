import { useState } from 'react';
import { discardInterruptedRun, keepInterruptedRun, resumeInterruptedRun } from '../../app/checkpoints';
import { busyReason } from '../../app/projectFile';
import { useStudio } from '../../store/store';

/**
 * Shown when the open project has a run that a reload or crash cut short: which run, how far it got, what
 * its checkpoint restores, and the choice — resume it from there, keep it as a stopped run, or discard it.
 * A checkpoint that could not be saved during a run is said here too.
 */
export function ResumeRunAlert() {
  const run = useStudio((s) => s.interruptedRun);
  const problem = useStudio((s) => s.checkpointProblem);
  const busy = useStudio((s) => busyReason(s, 'choose'));
  const [working, setWorking] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  if (!run) {
    return problem ? (
      <p className="panel error" role="status" style={{ margin: '12px 20px 0' }}>
        {problem}
      </p>
    ) : null;
  }
  const act = async (action: () => Promise<string | null | void>) => {
    setWorking(true);
    setRefusal(null);
    try {
      setRefusal((await action()) ?? null);
    } finally {
      setWorking(false);
    }
  };
  const saved = new Date(run.savedAt).toLocaleTimeString('en-GB');
  return (
    <section className="panel" role="alert" aria-labelledby="resume-run-heading" style={{ margin: '12px 20px 0' }}>
      <h2 id="resume-run-heading">
        Run {run.runId} was interrupted after epoch {run.epoch} of {run.epochsPlanned}
      </h2>
      <p>
        {run.name}. Its checkpoint from {saved} holds the weights the run changed and its history (curves, schedule steps) up to epoch {run.epoch}. Resuming
        goes on with the same batches, learning rate and schedule; the optimizer’s state (Adam’s moments, momentum) starts afresh, and the best weights are
        tracked from epoch {run.epoch} on.
      </p>
      {run.resumeBlocker ? <p className="muted">It cannot be resumed: {run.resumeBlocker}</p> : null}
      {refusal ? <p className="error">{refusal}</p> : null}
      <div className="toolbar">
        <button type="button" className="primary" disabled={working || !!busy || !!run.resumeBlocker} onClick={() => void act(resumeInterruptedRun)}>
          Resume run {run.runId}
        </button>
        <button type="button" disabled={working || !!busy} onClick={() => void act(keepInterruptedRun)}>
          Keep as a stopped run
        </button>
        <button type="button" disabled={working || !!busy} onClick={() => void act(discardInterruptedRun)}>
          Discard it
        </button>
        {busy ? <span className="muted small">{busy}</span> : null}
      </div>
    </section>
  );
}
