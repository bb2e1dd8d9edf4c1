import { useState } from 'react';
import { projectUsage, type ProjectUsage } from '../../app/projectCatalog';
import type { ProjectSummary } from '../../app/projectStore';
import { formatBytes } from '../../app/storageInfo';
import { formatCount } from '../../core/format';

/** `8 images · 1 run · trained weights`. */
export function countsText(p: ProjectSummary): string {
  const images = `${formatCount(p.images)} ${p.images === 1 ? 'image' : 'images'}`;
  const runs = `${formatCount(p.runs)} ${p.runs === 1 ? 'run' : 'runs'}`;
  return [images, runs, ...(p.weights ? ['trained weights'] : [])].join(' · ');
}

/** What deleting `p` removes, in words: its images, runs and weights, and the bytes freed (what other projects share stays). */
export function deleteText(p: ProjectSummary, usage: ProjectUsage | undefined): string {
  const parts = [`${formatCount(p.images)} ${p.images === 1 ? 'image' : 'images'}`, `${formatCount(p.runs)} ${p.runs === 1 ? 'run' : 'runs'}`];
  if (p.weights) parts.push('the trained weights');
  const own = usage?.ownBytes ?? p.bytes;
  const shared = usage ? usage.bytes - usage.ownBytes : 0;
  const sharedText = shared > 0 ? ` (${formatBytes(shared)} it shares with other projects stays)` : '';
  return `Delete '${p.name}'? This removes ${parts.join(', ')}: ${formatBytes(own)} freed${sharedText}. It cannot be undone; Save project file first to keep a copy.`;
}

/** The props of one project row: the project, whether it is open in this tab or another, whether actions are blocked, and the actions. */
export interface ProjectRowProps {
  project: ProjectSummary;
  open: boolean;
  elsewhere: boolean;
  blocked: boolean;
  onOpen: () => void;
  onRename: (name: string) => void;
  onDuplicate: () => void;
  onDelete: () => void;
}

/** One project of the switcher: its name, counts, size and time; Open, Rename (inline), Duplicate, Delete (with a confirmation saying what goes). */
export function ProjectRow({ project: p, open, elsewhere, blocked, onOpen, onRename, onDuplicate, onDelete }: ProjectRowProps) {
  const [renaming, setRenaming] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<{ usage: ProjectUsage | undefined } | null>(null);
  const saved = p.savedAt ? new Date(p.savedAt).toLocaleString('en-GB') : 'at an unknown time';
  return (
    <li className={`project-row${open ? ' open' : ''}`} aria-label={p.name} aria-current={open ? 'true' : undefined}>
      <div>
        <strong>{p.name}</strong>
        {open || elsewhere ? <span className="muted small">{open ? ' (open)' : ' (open in another tab)'}</span> : null}
        <div className="muted small" data-testid="project-details">{`${countsText(p)} · ${formatBytes(p.bytes)} · saved ${saved}`}</div>
      </div>
      {renaming !== null ? (
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            onRename(renaming);
            setRenaming(null);
          }}
        >
          <label>
            New name
            <input type="text" value={renaming} autoFocus onChange={(e) => setRenaming(e.target.value)} />
          </label>
          <button type="submit">Save name</button>
          <button type="button" onClick={() => setRenaming(null)}>
            Cancel
          </button>
        </form>
      ) : confirm ? (
        <div className="toolbar" role="group" aria-label={`Delete ${p.name}`}>
          <p className="error small">{deleteText(p, confirm.usage)}</p>
          <button
            type="button"
            className="danger"
            onClick={() => {
              setConfirm(null);
              onDelete();
            }}
          >
            Delete for good
          </button>
          <button type="button" onClick={() => setConfirm(null)}>
            Keep it
          </button>
        </div>
      ) : (
        <div className="toolbar">
          <button type="button" disabled={open || blocked} onClick={onOpen}>
            Open
          </button>
          <button type="button" onClick={() => setRenaming(p.name)}>
            Rename
          </button>
          <button type="button" disabled={blocked && open} onClick={onDuplicate}>
            Duplicate
          </button>
          <button
            type="button"
            disabled={(blocked && open) || elsewhere}
            title={elsewhere ? 'Open in another tab: close it there first.' : undefined}
            onClick={async () => setConfirm({ usage: await projectUsage(p.id).catch(() => undefined) })}
          >
            Delete…
          </button>
        </div>
      )}
    </li>
  );
}
