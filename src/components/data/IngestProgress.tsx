import { cancelIngest } from '../../app/ingest';
import { useStudio, type IngestStatus } from '../../store/store';
import { formatCount } from '../../core/format';

/** Images per second since the start, or null before there is anything to measure (no time or nothing done). */
export function ingestRate(status: Pick<IngestStatus, 'done' | 'startedAt'>, now: number): number | null {
  const seconds = (now - status.startedAt) / 1000;
  if (status.done <= 0 || seconds <= 0.05) return null;
  return status.done / seconds;
}

/** "85 images/s", "2.4 images/s". */
export function formatRate(rate: number): string {
  return `${rate >= 10 ? formatCount(Math.round(rate)) : rate.toFixed(1)} images/s`;
}

/**
 * While files are added (or the images re-derived for a new model): a progress bar, "1,234 of
 * 10,000 files", the rate, and a Cancel button. Renders nothing when idle.
 */
export function IngestProgress() {
  const ingest = useStudio((s) => s.ingest);
  if (!ingest) return null;
  const adding = ingest.kind === 'add';
  const label = adding ? 'Adding images' : 'Re-deriving images';
  const rate = ingestRate(ingest, Date.now());
  return (
    <div className="ingest-progress" role="group" aria-label={adding ? 'Adding images' : 'Re-deriving images for this model'}>
      <div className="ingest-bar">
        <progress max={Math.max(1, ingest.total)} value={ingest.done} aria-label={label} />
        <button
          type="button"
          className="small-button"
          aria-label={adding ? 'Cancel adding images' : 'Cancel re-deriving images'}
          onClick={() => cancelIngest()}
        >
          Cancel
        </button>
      </div>
      <div className="ingest-stats small">
        <span data-testid="ingest-count">
          {adding ? '' : 'Re-deriving for this model: '}
          {formatCount(ingest.done)} of {formatCount(ingest.total)} {adding ? 'files' : 'images'}
        </span>
        <span className="muted" data-testid="ingest-rate">
          {rate === null ? 'starting…' : formatRate(rate)}
        </span>
      </div>
    </div>
  );
}
