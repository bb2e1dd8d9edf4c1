import { useStudio } from '../../store/store';
import { FreezeAudit } from '../audit/FreezeAudit';
import { ExportButton } from '../ExportButton';
import { PytorchCode } from '../pytorch/PytorchCode';
import { RunComparison } from '../runs/RunComparison';
import { EvaluationPanel } from './EvaluationPanel';
import { PredictPanel } from './PredictPanel';
import { RunOutcome } from './RunOutcome';

/** The results pane's sections, by the id of their heading, as its jump list names them. */
const SECTIONS: readonly { id: string; label: string }[] = [
  { id: 'outcome-heading', label: 'Outcome' },
  { id: 'eval-heading', label: 'Evaluation' },
  { id: 'runs-heading', label: 'Runs' },
  { id: 'predict-heading', label: 'Predict' },
];

/** The last run in one panel: how it ended and its accuracy, the freeze audit, the exports and the plan as PyTorch code. */
function OutcomePanel() {
  const hasRun = useStudio((s) => s.runStatus !== 'idle' || s.runOutcome !== null);
  return (
    <section className="panel outcome-panel" aria-labelledby="outcome-heading">
      <h2 id="outcome-heading">Outcome</h2>
      {hasRun ? null : <p className="muted">No run yet. Press Train: the validation accuracy, the freeze audit and the export appear here.</p>}
      <RunOutcome />
      <FreezeAudit />
      <ExportButton />
      <PytorchCode />
    </section>
  );
}

/**
 * Results pane: the outcome, evaluation, run comparison and predict, one under
 * the other in a pane that scrolls on its own, with a jump list at its top so
 * each is one click away without scrolling past the others.
 */
export function ResultsPane() {
  return (
    <div className="pane results-pane">
      <nav className="pane-nav" aria-label="Results sections">
        {SECTIONS.map(({ id, label }) => (
          <button
            key={id}
            type="button"
            onClick={() => document.getElementById(id)?.closest('section')?.scrollIntoView({ block: 'start', behavior: 'smooth' })}
          >
            {label}
          </button>
        ))}
      </nav>
      <OutcomePanel />
      <EvaluationPanel />
      <RunComparison />
      <PredictPanel />
    </div>
  );
}
