/**
 * What a drop on the Data panel does: a project file (a .zip with project.json at its root) opens as a
 * project, like *Open project file*; anything else is added to the dataset. Kept apart from app/ingest.ts,
 * which opening a project itself uses to add the project's images again.
 */
import { isZipName } from '../data/zip';
import { isProjectFileZip } from '../data/projectFile';
import type { DroppedFile } from '../data/dropWalk';
import { useStudio } from '../store/store';
import { addFiles } from './ingest';
import { openProjectFileAsProject } from './projects';

/** The dropped project file, if the drop holds one (the first, by path). */
async function droppedProject(files: readonly DroppedFile[]): Promise<DroppedFile | null> {
  for (const file of files) {
    if (!isZipName(file.path)) continue;
    if (isProjectFileZip(new Uint8Array(await file.blob.arrayBuffer()))) return file;
  }
  return null;
}

/** Opens a dropped project file as a project, or adds the dropped files to the dataset; what happened is in the status bar or the Data panel. */
export async function addDropped(files: DroppedFile[], emptyFolders: string[] = []): Promise<void> {
  const project = await droppedProject(files);
  if (!project) return addFiles(files, emptyFolders);
  const name = project.path.split('/').pop()!;
  const outcome = await openProjectFileAsProject(project.blob instanceof File ? project.blob : new File([project.blob], name));
  const state = useStudio.getState();
  const others = files.length - 1;
  const left = others > 0 ? ` The ${others} other dropped file${others === 1 ? ' was' : 's were'} not added; drop them again to add them to this project.` : '';
  if (outcome.ok) state.autosaveChanged({ kind: 'restored', message: `${outcome.message}${left}` });
  else state.reportRejected([], [{ level: 'error', message: `'${name}' looks like a project file and was not opened: ${outcome.message}${left}` }]);
}
