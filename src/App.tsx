import { DataPanel } from './components/DataPanel';
import { ResultsPane } from './components/eval/ResultsPane';
import { ProjectAccessBanner } from './components/project/ProjectAccessBanner';
import { ProjectFileControls } from './components/project/ProjectFileControls';
import { ProjectSwitcher } from './components/project/ProjectSwitcher';
import { ResumeRunAlert } from './components/project/ResumeRunAlert';
import { ModelPanel } from './components/ModelPanel';
import { StatusBar } from './components/StatusBar';
import { TrainPanel } from './components/TrainPanel';
import { WorkerCrashAlert } from './components/WorkerCrashAlert';

/**
 * One screen, left to right: model → what to freeze → data → train → results. On a wide screen the four
 * panes fill the window and scroll each on its own (styles.css, "Studio layout"); on a narrow one they stack
 * in the same order and the page scrolls.
 */
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
      <div className="banners">
        <WorkerCrashAlert />
        <ProjectAccessBanner />
        <ResumeRunAlert />
      </div>
      <main className="studio">
        <ModelPanel />
        <DataPanel />
        <div className="work-column">
          <TrainPanel />
          <ResultsPane />
        </div>
      </main>
    </div>
  );
}
