import { DataPanel } from './components/DataPanel';
import { EvaluationPanel } from './components/eval/EvaluationPanel';
import { PredictPanel } from './components/eval/PredictPanel';
import { ProjectAccessBanner } from './components/project/ProjectAccessBanner';
import { ProjectFileControls } from './components/project/ProjectFileControls';
import { ProjectSwitcher } from './components/project/ProjectSwitcher';
import { ResumeRunAlert } from './components/project/ResumeRunAlert';
import { RunComparison } from './components/runs/RunComparison';
import { ModelPanel } from './components/ModelPanel';
import { StatusBar } from './components/StatusBar';
import { TrainPanel } from './components/TrainPanel';
import { WorkerCrashAlert } from './components/WorkerCrashAlert';

/** One screen, left to right: model → what to freeze → data → train → results. */
export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1>
          Transfer Studio <span className="muted small">freeze what you keep, train what you need — all in this browser</span>
        </h1>
        <ProjectSwitcher />
        <ProjectFileControls />
        <StatusBar />
      </header>
      <WorkerCrashAlert />
      <ProjectAccessBanner />
      <ResumeRunAlert />
      <main className="columns">
        <ModelPanel />
        <DataPanel />
        <div className="results-column">
          <TrainPanel />
          <EvaluationPanel />
          <RunComparison />
          <PredictPanel />
        </div>
      </main>
    </div>
  );
}
