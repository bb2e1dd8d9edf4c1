/**
 * app/projects + app/autosave over fake-indexeddb, with restoreProject replaced by a small stand-in (the real
 * one loads models and decodes files: e2e/projects.spec.ts covers it): the first save lists a project and
 * remembers it; New project; switching saves the open project first and puts the other back; a read-only tab
 * saves nothing; a save after another tab became the writer is refused and the tab turns read-only; a project
 * file opens as a new project; deleting the open project leaves an unlisted empty one.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import type { ProjectSnapshot } from '../core/project';
import { useStudio } from '../store/store';
import { describedModel, layerRow } from '../store/testing/modelDescription';
import { flushAutosave, startAutosave } from './autosave';
import { claimWriter, lastProjectId, listProjects } from './projectCatalog';
import type { RestoreOutcome } from './projectFile';
import { deleteStoredProject, newProject, openProjectFileAsProject, reopenStoredProject, switchToProject } from './projects';
import { loadStoredProject } from './projectStore';

vi.mock('./studio', () => ({ importModelFiles: vi.fn(), loadBuiltInModel: vi.fn(), loadModelFromUrl: vi.fn(), reloadSample: vi.fn(), studioClient: vi.fn() }));

/** Stands in for restoreProject: the dataset (classes, images from their parts) and the training config back into the store. */
async function fakeRestore(snapshot: ProjectSnapshot, parts: ReadonlyMap<string, Uint8Array>): Promise<RestoreOutcome> {
  const s = useStudio.getState();
  const { dataset } = snapshot;
  if (dataset.source === 'sample') s.loadSample(dataset.name, sampleImages());
  else {
    s.datasetRestored({ ...dataset, name: dataset.name || snapshot.name });
    const images = dataset.images.map((image) => ({
      path: image.path,
      className: image.className,
      pixels: new Uint8Array(3),
      source: new Blob([parts.get(image.file!.part)! as Uint8Array<ArrayBuffer>]),
      hash: image.hash ?? undefined,
    }));
    if (images.length > 0) s.addUserImages(dataset.name, images, [], []);
  }
  s.setConfig(snapshot.training.config);
  return { ok: true, images: useStudio.getState().images.length, runs: 0, missing: 0, weights: false, weightsNote: '' };
}

const opened = vi.hoisted(() => ({ snapshot: null as unknown }));
vi.mock('./projectFile', async (original) => {
  const actual = await original<typeof import('./projectFile')>();
  return {
    ...actual,
    restoreProject: vi.fn((snapshot: ProjectSnapshot, parts: ReadonlyMap<string, Uint8Array>) => fakeRestore(snapshot, parts)),
    openProjectFile: vi.fn(async () => {
      await fakeRestore(opened.snapshot as ProjectSnapshot, new Map());
      return { ok: true, message: "Opened 'other.transfer-project.zip': 0 images, 0 runs." };
    }),
  };
});

const model = describedModel('tiny', [layerRow('gap', 'GlobalAveragePooling2D', [8])]);
const sampleImages = () => [0, 1].map((n) => ({ path: `sample/${n}/a.png`, className: String(n), pixels: new Uint8Array(3) }));
const photo = (cls: string, n: number) => ({
  path: `pets/${cls}/${n}.png`,
  className: cls,
  pixels: new Uint8Array(3),
  source: new Blob([Uint8Array.from({ length: 30 + n }, (_, i) => (i * 3 + n) & 255)], { type: 'image/png' }),
});
const names = async () => (await listProjects()).map((p) => p.name).sort();

describe('projects', () => {
  it('lists, switches, saves first, stays read-only, refuses a taken-over save, opens a file as a new project and deletes', async () => {
    const s = useStudio.getState();
    s.modelLoaded(model, {}, { kind: 'builtin', id: 'digits', label: 'Digits CNN' });
    s.loadSample('digits', sampleImages());
    expect(await reopenStoredProject()).toBe(false);
    startAutosave(false);

    // The first change makes the project: saved, listed, remembered, written by this tab.
    useStudio.getState().addUserImages('pets', [photo('dog', 1), photo('cat', 2)], [], []);
    await flushAutosave();
    const pets = useStudio.getState().project!;
    expect(pets.name).toBe('pets');
    expect(useStudio.getState().autosave.kind).toBe('saved');
    expect(useStudio.getState().projectAccess).toBe('writer');
    expect(await lastProjectId()).toBe(pets.id);
    expect(await listProjects()).toMatchObject([{ id: pets.id, images: 2 }]);

    // New project: the pristine studio emptied, listed at once.
    expect(await newProject('empty')).toMatchObject({ ok: true });
    expect(useStudio.getState().images).toHaveLength(0);
    expect(await names()).toEqual(['New project', 'pets']);
    const fresh = useStudio.getState().project!;

    // Back to pets; a change there is saved before switching away.
    expect(await switchToProject(pets.id)).toMatchObject({
      ok: true,
      message: expect.stringMatching(/^Opened the project 'pets' saved .*: 2 images, 0 runs\./),
    });
    expect(useStudio.getState().images).toHaveLength(2);
    expect(await lastProjectId()).toBe(pets.id);
    useStudio.getState().setConfig({ epochs: 3 });
    expect(await switchToProject(fresh.id)).toMatchObject({ ok: true });
    const stored = await loadStoredProject(pets.id);
    expect(stored.kind === 'project' && stored.snapshot.training.config.epochs).toBe(3);
    expect(await switchToProject(pets.id)).toMatchObject({ ok: true });
    expect(useStudio.getState().config.epochs).toBe(3);

    // Read-only: nothing is saved.
    useStudio.getState().projectAccessChanged('read-only');
    useStudio.getState().setConfig({ epochs: 5 });
    await flushAutosave();
    const still = await loadStoredProject(pets.id);
    expect(still.kind === 'project' && still.snapshot.training.config.epochs).toBe(3);

    // Another tab became the writer: the save is refused inside its transaction, and this tab is told.
    useStudio.getState().projectAccessChanged('writer');
    await claimWriter(pets.id, 'another-tab');
    useStudio.getState().setConfig({ epochs: 6 });
    await flushAutosave();
    expect(useStudio.getState().projectAccess).toBe('taken-over');
    expect(useStudio.getState().autosave).toMatchObject({ kind: 'failed', message: 'Not saved: another tab took this project over.' });
    const unchanged = await loadStoredProject(pets.id);
    expect(unchanged.kind === 'project' && unchanged.snapshot.training.config.epochs).toBe(3);

    // A project file opens as a new project: pets stays as it was saved.
    const file = await import('./projectFile').then((m) => m.snapshotOfStudio(useStudio.getState(), { readFiles: false }));
    opened.snapshot = { ...file.snapshot, name: 'other', dataset: { ...file.snapshot.dataset, name: 'other', images: [], classNames: ['x'] } };
    const outcome = await openProjectFileAsProject(new File([], 'other.transfer-project.zip'));
    expect(outcome).toMatchObject({ ok: true, message: expect.stringContaining("It is a new project; 'pets' stays as it was saved.") });
    expect(useStudio.getState().project!.name).toBe('other');
    expect(await names()).toEqual(['New project', 'other', 'pets']);

    // Deleting the open project: gone from the list, the studio empty and unlisted.
    const other = useStudio.getState().project!;
    expect(await deleteStoredProject(other.id)).toMatchObject({
      ok: true,
      message: expect.stringMatching(/^Deleted 'other': .* freed\. This is a new, empty project\.$/),
    });
    expect(useStudio.getState().project).toBeNull();
    expect(useStudio.getState().images).toHaveLength(0);
    expect(await names()).toEqual(['New project', 'pets']);
  });
});
