import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { startAutosave } from './app/autosave';
import { lookForInterruptedRun, startCheckpoints } from './app/checkpoints';
import { reopenStoredProject } from './app/projects';
import { startStudio } from './app/studio';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// After the default model and the sample: the project saved in this browser comes back, then autosave starts.
void startStudio(window.location.search, async () => {
  const reopened = await reopenStoredProject().catch(() => false);
  startAutosave(reopened);
  // A run that a reload or crash cut short: its checkpoint is offered for resuming.
  startCheckpoints();
  await lookForInterruptedRun();
});
