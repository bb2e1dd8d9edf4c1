/** app/projectStore: the autosaved project in IndexedDB (fake-indexeddb here): round trip, only new parts written, unusable records named. */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it, vi } from 'vitest';
import { createStudioStore } from '../store/store';
import { snapshotOfStudio } from './projectFile';
import { contentKey, loadStoredProject, saveStoredProject, storedProjectRecord, type PartSource } from './projectStore';
import { describedModel, layerRow } from '../store/testing/modelDescription';

vi.mock('./studio', () => ({ importModelFiles: vi.fn(), loadBuiltInModel: vi.fn(), loadModelFromUrl: vi.fn(), reloadSample: vi.fn(), studioClient: vi.fn() }));

const model = describedModel('tiny', [layerRow('gap', 'GlobalAveragePooling2D', [8])]);
const png = (n: number) => new Blob([Uint8Array.from({ length: 20 + n }, (_, i) => (i * 7 + n) & 255)], { type: 'image/png' });
const image = (cls: string, n: number) => ({ path: `pets/${cls}/${n}.png`, className: cls, pixels: new Uint8Array(8 * 8 * 3), source: png(n) });

async function sourcesOf(files: Map<string, Blob>): Promise<Map<string, PartSource>> {
  const out = new Map<string, PartSource>();
  for (const [part, blob] of files) {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    out.set(part, { key: await contentKey(bytes), read: async () => bytes });
  }
  return out;
}

describe('projectStore', () => {
  it('saves and loads the snapshot; a second save writes only the new parts and drops the ones no longer named', async () => {
    const db = 'test-roundtrip';
    const store = createStudioStore();
    store.getState().modelLoaded(model, {}, { kind: 'builtin', id: 'digits', label: 'Digits CNN' });
    store.getState().addUserImages('pets', [image('dog', 1), image('cat', 2), image('cat', 3)], [], []);
    store.getState().setConfig({ epochs: 1 });
    const first = await snapshotOfStudio(store.getState(), { readFiles: false });
    expect(first.parts.size).toBe(0);
    const saved = await saveStoredProject(first.snapshot, await sourcesOf(first.files), db);
    expect(saved).toMatchObject({ ok: true, written: 3 });
    const loaded = await loadStoredProject(db);
    if (loaded.kind !== 'project') throw new Error(loaded.kind);
    expect(loaded.snapshot).toEqual(JSON.parse(JSON.stringify(first.snapshot)));
    expect([...loaded.parts.keys()].sort()).toEqual([...first.files.keys()].sort());
    expect(loaded.snapshot.training.config.epochs).toBe(1);

    store.getState().addUserImages('pets', [image('dog', 4)], [], []);
    const second = await snapshotOfStudio(store.getState(), { readFiles: false });
    expect(await saveStoredProject(second.snapshot, await sourcesOf(second.files), db)).toMatchObject({ ok: true, written: 1 });
    expect((await storedProjectRecord(db)).parts).toBe(4);

    const fewer = createStudioStore();
    fewer.getState().addUserImages('pets', [image('dog', 1)], [], []);
    const third = await snapshotOfStudio(fewer.getState(), { readFiles: false });
    expect(await saveStoredProject(third.snapshot, await sourcesOf(third.files), db)).toMatchObject({ ok: true, written: 0 });
    expect((await storedProjectRecord(db)).parts).toBe(1);
  });

  it('names a stored project it cannot use (a newer schema, bad JSON, a missing part) and has none before a save', async () => {
    const db = 'test-unusable';
    expect((await loadStoredProject(db)).kind).toBe('none');
    const raw = await openDB(db, 1);
    await raw.put('projects', { manifest: JSON.stringify({ format: 'transfer-studio-project', schemaVersion: 99 }), savedAt: '', parts: {} }, 'current');
    const newer = await loadStoredProject(db);
    expect(newer.kind).toBe('unusable');
    expect(newer.kind === 'unusable' && newer.reason).toMatch(/99|version|newer/i);
    await raw.put('projects', { manifest: '{not json', savedAt: '', parts: {} }, 'current');
    expect(await loadStoredProject(db)).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/not valid JSON/) });

    const store = createStudioStore();
    store.getState().addUserImages('pets', [image('dog', 1)], [], []);
    const { snapshot, files } = await snapshotOfStudio(store.getState(), { readFiles: false });
    expect((await saveStoredProject(snapshot, await sourcesOf(files), db)).ok).toBe(true);
    await raw.clear('parts');
    expect(await loadStoredProject(db)).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/is missing/) });
    raw.close();
  });
});
