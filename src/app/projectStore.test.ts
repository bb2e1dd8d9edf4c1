/**
 * app/projectStore and app/projectCatalog: several projects in IndexedDB (fake-indexeddb here) — round trip,
 * only new parts written, parts shared by content and freed exactly when nothing names them, the schema 1
 * migration, the previous version opened when the current one is damaged, a quota failure that leaves the
 * listed version as it was, and a save refused once another tab is the writer.
 */
import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStudioStore, type StudioStore } from '../store/store';
import { snapshotOfStudio } from './projectFile';
import { claimWriter, deleteProject, duplicateProject, lastProjectId, listProjects, projectUsage, renameProject, storedPartCount } from './projectCatalog';
import { onUpgradeBlocked } from './projectDb';
import { clearUnfinishedSave, contentKey, loadStoredProject, projectDatabase, saveStoredProject, type PartSource } from './projectStore';
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

/** A studio with the tiny model and images `numbers` (dogs for even numbers, cats for odd). */
function studioWith(numbers: number[]): StudioStore {
  const store = createStudioStore();
  store.getState().modelLoaded(model, {}, { kind: 'builtin', id: 'digits', label: 'Digits CNN' });
  store.getState().addUserImages(
    'pets',
    numbers.map((n) => image(n % 2 ? 'cat' : 'dog', n)),
    [],
    [],
  );
  return store;
}

let dbCount = 0;
const freshDb = () => `test-db-${++dbCount}`;

async function save(id: string, store: StudioStore, dbName: string, extra: { name?: string; writer?: string; savedAt?: Date } = {}) {
  const { snapshot, files } = await snapshotOfStudio(store.getState(), { readFiles: false, savedAt: extra.savedAt });
  return saveStoredProject(id, snapshot, await sourcesOf(files), { dbName, name: extra.name, writer: extra.writer });
}

afterEach(() => vi.restoreAllMocks());

describe('projectStore', () => {
  it('saves and loads a project; a second save writes only the new parts; parts neither of the last two versions name are removed', async () => {
    const db = freshDb();
    const store = studioWith([1, 2, 3]);
    store.getState().setConfig({ epochs: 1 });
    const first = await snapshotOfStudio(store.getState(), { readFiles: false });
    const saved = await saveStoredProject('a', first.snapshot, await sourcesOf(first.files), { dbName: db });
    expect(saved).toMatchObject({ ok: true, written: 3, summary: { id: 'a', name: 'pets', images: 3, runs: 0, weights: false } });
    const loaded = await loadStoredProject('a', db);
    if (loaded.kind !== 'project') throw new Error(loaded.kind);
    expect(loaded.snapshot).toEqual(JSON.parse(JSON.stringify(first.snapshot)));
    expect([...loaded.parts.keys()].sort()).toEqual([...first.files.keys()].sort());
    expect(loaded.recovered).toBeNull();

    store.getState().addUserImages('pets', [image('dog', 4)], [], []);
    expect(await save('a', store, db)).toMatchObject({ ok: true, written: 1 });
    expect(await storedPartCount(db)).toBe(4);
    // Down to one image: the version before (4 images) is kept as the fallback, so its parts stay…
    expect(await save('a', studioWith([1]), db)).toMatchObject({ ok: true, written: 0 });
    expect(await storedPartCount(db)).toBe(4);
    // …until a second save of the one-image project makes that one the version before.
    expect(await save('a', studioWith([1]), db)).toMatchObject({ ok: true, written: 0 });
    expect(await storedPartCount(db)).toBe(1);
  });

  it('stores a Blob part as it is and reads it back as the same bytes', async () => {
    const db = freshDb();
    const { snapshot, files } = await snapshotOfStudio(studioWith([1, 2]).getState(), { readFiles: false });
    const sources = new Map<string, PartSource>();
    for (const [part, blob] of files) sources.set(part, { key: await contentKey(new Uint8Array(await blob.arrayBuffer())), read: async () => blob });
    expect(await saveStoredProject('a', snapshot, sources, { dbName: db })).toMatchObject({ ok: true, written: 2 });
    const loaded = await loadStoredProject('a', db);
    if (loaded.kind !== 'project') throw new Error(loaded.kind);
    for (const [part, blob] of files) expect(loaded.parts.get(part)).toEqual(new Uint8Array(await blob.arrayBuffer()));
  });

  it('shares parts between projects: a duplicate writes none, and a delete frees exactly the parts no other project names', async () => {
    const db = freshDb();
    await save('a', studioWith([1, 2, 3]), db, { name: 'Pets' });
    expect(await save('b', studioWith([2, 3, 4]), db, { name: 'More pets' })).toMatchObject({ ok: true, written: 1 });
    expect(await storedPartCount(db)).toBe(4);
    const copy = await duplicateProject('a', 'Pets (copy)', db);
    expect(copy).toMatchObject({ name: 'Pets (copy)', images: 3 });
    expect(await storedPartCount(db)).toBe(4);
    expect((await listProjects(db)).map((p) => p.name).sort()).toEqual(['More pets', 'Pets', 'Pets (copy)']);
    const usage = await projectUsage('b', db);
    expect(usage!.ownBytes).toBeLessThan(usage!.bytes);

    // 'a' and its copy share every part: deleting 'a' frees only its manifests.
    const freedA = await deleteProject('a', db);
    expect(await storedPartCount(db)).toBe(4);
    expect(freedA).toBeGreaterThan(0);
    // The copy still opens with all its images.
    const copyLoaded = await loadStoredProject(copy!.id, db);
    expect(copyLoaded.kind === 'project' && copyLoaded.snapshot.dataset.images.length).toBe(3);
    // Deleting the copy frees image 1 (only it named it); 'b' keeps 2, 3, 4.
    const before = await projectUsage(copy!.id, db);
    const freed = await deleteProject(copy!.id, db);
    expect(freed).toBe(before!.ownBytes);
    expect(await storedPartCount(db)).toBe(3);
    expect((await listProjects(db)).map((p) => p.id)).toEqual(['b']);
    expect(await deleteProject('b', db)).toBeGreaterThan(0);
    expect(await storedPartCount(db)).toBe(0);
  });

  it('renames a project in the list and lists the most recently saved first', async () => {
    const db = freshDb();
    await save('old', studioWith([1]), db, { savedAt: new Date('2026-01-01T10:00:00Z') });
    await save('new', studioWith([2]), db, { savedAt: new Date('2026-01-02T10:00:00Z') });
    expect((await listProjects(db)).map((p) => p.id)).toEqual(['new', 'old']);
    expect(await renameProject('old', 'Holiday photos', db)).toMatchObject({ name: 'Holiday photos' });
    // The name stays through the next save.
    await save('old', studioWith([1, 3]), db, { savedAt: new Date('2026-01-03T10:00:00Z') });
    expect(await listProjects(db)).toMatchObject([{ id: 'old', name: 'Holiday photos', images: 2 }, { id: 'new' }]);
    expect(await renameProject('missing', 'x', db)).toBeUndefined();
  });

  it('migrates the schema 1 database (one project under "current") so the autosave made before comes back as a listed, last-open project', async () => {
    const db = freshDb();
    const { snapshot, files } = await snapshotOfStudio(studioWith([1, 2]).getState(), { readFiles: false });
    const raw = await openDB(db, 1, {
      upgrade(d) {
        d.createObjectStore('projects');
        d.createObjectStore('parts');
      },
    });
    const keys: Record<string, string> = {};
    for (const [part, source] of await sourcesOf(files)) {
      keys[part] = source.key;
      await raw.put('parts', await source.read(), source.key);
    }
    const { projectManifestText } = await import('../core/project');
    await raw.put('projects', { manifest: projectManifestText(snapshot), savedAt: snapshot.savedAt, parts: keys }, 'current');
    raw.close();

    const listed = await listProjects(db);
    expect(listed).toMatchObject([{ name: 'pets', images: 2, runs: 0, savedAt: snapshot.savedAt }]);
    expect(listed[0].bytes).toBeGreaterThan(40);
    expect(await lastProjectId(db)).toBe(listed[0].id);
    const loaded = await loadStoredProject(listed[0].id, db);
    expect(loaded.kind === 'project' && loaded.snapshot.dataset.images.map((i) => i.path)).toEqual(['pets/cat/1.png', 'pets/dog/2.png']);
  });

  it('waits for a tab of the older studio to close the schema 1 database, saying so meanwhile, then upgrades', async () => {
    const db = freshDb();
    const older = await openDB(db, 1, {
      upgrade(d) {
        d.createObjectStore('projects');
        d.createObjectStore('parts');
      },
    });
    const told = vi.fn();
    onUpgradeBlocked(told);
    const listing = listProjects(db);
    await vi.waitFor(() => expect(told).toHaveBeenCalled());
    older.close();
    expect(await listing).toEqual([]);
    onUpgradeBlocked(null);
  });

  it('opens the version before, with the reason, when the current one is damaged; names a project with no good version', async () => {
    const db = freshDb();
    await save('a', studioWith([1]), db);
    await save('a', studioWith([1, 3]), db);
    const handle = await projectDatabase(db);
    // Image 3 is only in the current version: without it the current version is half there.
    const three = await contentKey(new Uint8Array(await png(3).arrayBuffer()));
    await handle.delete('parts', three);
    const loaded = await loadStoredProject('a', db);
    if (loaded.kind !== 'project') throw new Error(loaded.kind);
    expect(loaded.snapshot.dataset.images).toHaveLength(1);
    expect(loaded.recovered).toMatch(/last save .* is damaged .*'dataset\/cat\/3\.png'.* is missing\); this is the version saved/);

    const record = (await handle.get('versions', 'a'))!;
    await handle.put('versions', { ...record, current: { ...record.current, manifest: '{not json' }, previous: null }, 'a');
    expect(await loadStoredProject('a', db)).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/not valid JSON/) });
    await handle.put(
      'versions',
      { ...record, current: { ...record.current, manifest: JSON.stringify({ format: 'transfer-studio-project', schemaVersion: 99 }) }, previous: null },
      'a',
    );
    expect(await loadStoredProject('a', db)).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/99/) });
    expect(await loadStoredProject('nothing-here', db)).toEqual({ kind: 'none' });
  });

  it('never throws on a stored record of any shape: the list shows it (as damaged when it is), a load names it (property test)', async () => {
    const db = freshDb();
    await save('good', studioWith([1]), db);
    const handle = await projectDatabase(db);
    const hostile = fc.oneof(
      fc.jsonValue(),
      fc.record({ current: fc.jsonValue(), previous: fc.jsonValue(), keys: fc.jsonValue() }),
      fc.record({
        current: fc.record({ manifest: fc.string(), savedAt: fc.string(), parts: fc.jsonValue(), sizes: fc.jsonValue() }),
        previous: fc.constant(null),
      }),
    );
    await fc.assert(
      fc.asyncProperty(hostile, fc.jsonValue(), async (versions, summary) => {
        await handle.put('versions', versions as never, 'bad');
        await handle.put('projects', summary as never, 'bad');
        const loaded = await loadStoredProject('bad', db);
        expect(['none', 'unusable']).toContain(loaded.kind);
        const listed = await listProjects(db);
        expect(listed.map((p) => p.id)).toEqual(['good', 'bad']);
        expect(listed[1]).toMatchObject({ id: 'bad', name: 'Damaged project', images: 0, runs: 0, bytes: 0 });
      }),
      { numRuns: 60 },
    );
    expect((await loadStoredProject('good', db)).kind).toBe('project');
    // A damaged project can still be deleted from the list, whatever its records hold.
    for (const versions of [5, null, { current: 7, keys: 'x' }, { current: { sizes: { [`sha256:${'0'.repeat(64)}`]: 'big' }, manifest: 3 } }]) {
      await handle.put('versions', versions as never, 'bad');
      await handle.put('projects', { id: 'bad' } as never, 'bad');
      await deleteProject('bad', db);
      expect((await listProjects(db)).map((p) => p.id)).toEqual(['good']);
    }
    expect(await storedPartCount(db)).toBe(1);
    // A save over a damaged record writes a good one (nothing kept of the damage).
    await handle.put('versions', { current: 7, previous: 'x' } as never, 'good');
    expect(await save('good', studioWith([1, 2]), db)).toMatchObject({ ok: true });
    expect(await loadStoredProject('good', db)).toMatchObject({ kind: 'project', recovered: null });
  });

  it('says when a save was cut short (its pending record is still there), and opens the version saved before it', async () => {
    const db = freshDb();
    await save('a', studioWith([1]), db, { savedAt: new Date('2026-01-01T10:00:00Z') });
    const handle = await projectDatabase(db);
    await handle.put('pending', { startedAt: '2026-01-01T11:00:00.000Z', keys: ['sha256:abc'] }, 'a');
    await handle.put('parts', new Uint8Array([1, 2, 3]), 'sha256:abc');
    const loaded = await loadStoredProject('a', db);
    expect(loaded.kind === 'project' && loaded.recovered).toMatch(/a save started .* did not finish; this is the version saved/);
    // The tab that holds the project clears the leftovers: the part that save wrote, and the message next time.
    expect(await storedPartCount(db)).toBe(2);
    await clearUnfinishedSave('a', db);
    expect(await storedPartCount(db)).toBe(1);
    const again = await loadStoredProject('a', db);
    expect(again.kind === 'project' && again.recovered).toBeNull();
  });

  it('a save that runs out of quota says so with the bytes needed, leaves the listed version as it was, and keeps none of its parts', async () => {
    const db = freshDb();
    await save('a', studioWith([1]), db);
    const listedBefore = await listProjects(db);
    const put = IDBObjectStore.prototype.put;
    let puts = 0;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (this.name === 'parts' && ++puts > 1) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    });
    const outcome = await save('a', studioWith([1, 2, 3, 4]), db);
    expect(outcome).toMatchObject({ ok: false, reason: 'quota' });
    expect(!outcome.ok && outcome.neededBytes).toBe(22 + 23 + 24);
    vi.restoreAllMocks();
    expect(await listProjects(db)).toEqual(listedBefore);
    expect(await storedPartCount(db)).toBe(1);
    const loaded = await loadStoredProject('a', db);
    expect(loaded.kind === 'project' && [loaded.snapshot.dataset.images.length, loaded.recovered]).toEqual([1, null]);
  });

  it('refuses a save from a tab that is no longer the project’s writer, changing nothing', async () => {
    const db = freshDb();
    await claimWriter('a', 'tab-1', db);
    expect(await save('a', studioWith([1]), db, { writer: 'tab-1' })).toMatchObject({ ok: true });
    await claimWriter('a', 'tab-2', db);
    expect(await save('a', studioWith([1, 2]), db, { writer: 'tab-1' })).toMatchObject({ ok: false, reason: 'taken-over' });
    expect(await listProjects(db)).toMatchObject([{ images: 1 }]);
    expect(await storedPartCount(db)).toBe(1);
  });
});
