import { useEffect, useState } from 'react';
import { estimateText, isPersisted, persistenceText, requestPersistence, storageEstimate } from '../../app/storageInfo';

/**
 * The switcher's storage line: space used and the quota (navigator.storage.estimate()), refreshed when
 * `refresh` changes, and "Keep data persistent" (navigator.storage.persist()) with the browser's answer
 * and what it means for the saved projects.
 */
export function StorageStatus({ refresh }: { refresh: number }) {
  const [estimate, setEstimate] = useState<string>('Storage: reading…');
  const [persisted, setPersisted] = useState<boolean | null | undefined>(undefined);
  const [asked, setAsked] = useState(false);
  useEffect(() => {
    let live = true;
    void storageEstimate().then((e) => live && setEstimate(estimateText(e)));
    void isPersisted().then((p) => live && setPersisted(p));
    return () => {
      live = false;
    };
  }, [refresh]);
  return (
    <section className="storage-status" aria-label="Storage">
      <p data-testid="storage-estimate">{estimate}</p>
      <div className="toolbar">
        <button
          type="button"
          disabled={persisted === true}
          onClick={async () => {
            setPersisted(await requestPersistence());
            setAsked(true);
          }}
        >
          Keep data persistent
        </button>
        <span className="muted small" role="status" data-testid="storage-persistence">
          {persisted === undefined ? '' : `${asked ? 'Asked the browser. ' : ''}${persistenceText(persisted)}`}
        </span>
      </div>
    </section>
  );
}
