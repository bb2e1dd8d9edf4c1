import { useState } from 'react';
import { takeOverProject, type ProjectOutcome } from '../../app/projects';
import { useStudio } from '../../store/store';

/**
 * The banner of a tab that does not write its project: "This project is open in another tab" (opened
 * read-only) or "…was taken over by another tab", each saying that nothing done here is saved, with
 * "Take over here" to make this tab the one that saves (the other tab is then told and becomes read-only).
 */
export function ProjectAccessBanner() {
  const access = useStudio((s) => s.projectAccess);
  const name = useStudio((s) => s.project?.name);
  const savedElsewhereAt = useStudio((s) => s.savedElsewhereAt);
  const [working, setWorking] = useState(false);
  const [outcome, setOutcome] = useState<ProjectOutcome | null>(null);
  if (access !== 'read-only' && access !== 'taken-over') return null;
  const heading = access === 'read-only' ? 'This project is open in another tab' : 'Another tab took this project over';
  return (
    <section className="panel project-access" role="alert" aria-labelledby="project-access-heading" style={{ margin: '12px 20px 0' }}>
      <h2 id="project-access-heading">{heading}</h2>
      <p>
        {`'${name ?? 'This project'}' is read-only here: changes made in this tab are not saved. `}
        Take it over to save from this tab instead; the other tab then becomes read-only.
      </p>
      {savedElsewhereAt ? (
        <p data-testid="saved-elsewhere">{`The other tab saved it at ${new Date(savedElsewhereAt).toLocaleTimeString('en-GB', { hour12: false })}: taking over opens that version here.`}</p>
      ) : null}
      {outcome && !outcome.ok ? <p className="error">{outcome.message}</p> : null}
      <div className="toolbar">
        <button
          type="button"
          className="primary"
          disabled={working}
          onClick={async () => {
            setWorking(true);
            try {
              setOutcome(await takeOverProject());
            } finally {
              setWorking(false);
            }
          }}
        >
          Take over here
        </button>
      </div>
    </section>
  );
}
