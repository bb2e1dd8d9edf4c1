import { useEffect, useState } from 'react';

/** Where an export stands: nothing yet, writing, downloaded (with what it made), or failed with the reason. */
export type ExportState<T> = { phase: 'idle' } | { phase: 'working' } | { phase: 'done'; result: T } | { phase: 'failed'; message: string };

/** An export's state and the action that runs `run` through it; a change of any of `resetOn` makes the last message stale (back to idle). */
export function useExportAction<T>(run: () => Promise<T>, resetOn: readonly unknown[]): { state: ExportState<T>; start: () => Promise<void> } {
  const [state, setState] = useState<ExportState<T>>({ phase: 'idle' });
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what makes the message stale
  useEffect(() => setState({ phase: 'idle' }), resetOn);
  const start = async () => {
    setState({ phase: 'working' });
    try {
      setState({ phase: 'done', result: await run() });
    } catch (error) {
      setState({ phase: 'failed', message: (error as Error).message });
    }
  };
  return { state, start };
}

/** The export's progress in a status region and its failure in an alert (`failed` is the alert's first words). */
export function ExportFeedback<T>({ state, working, done, failed }: { state: ExportState<T>; working: string; done: (result: T) => string; failed: string }) {
  return (
    <>
      <p role="status" className="muted small">
        {state.phase === 'working' ? working : null}
        {state.phase === 'done' ? done(state.result) : null}
      </p>
      {state.phase === 'failed' ? (
        <p role="alert" className="error">
          {failed}: {state.message}
        </p>
      ) : null}
    </>
  );
}
