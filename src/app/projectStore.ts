/**
 * The browser's copy of the user's projects, in IndexedDB (through `idb`), database `transfer-studio`, schema 2:
 * - `projects`: one small summary per project (id, name, times, counts, bytes): what the project list reads;
 * - `versions`: per project, the manifest JSON of its current save and of the one before, each with the
 *   storage key of every part it names; `keys` (index `byKey`, multiEntry) lists the content keys both use;
 * - `parts`: each part's bytes under `sha256:<hex>` of its content, shared by every project and version
 *   that names the same bytes (a duplicate writes no part);
 * - `pending`: the keys a save is writing now (index `byKey`), so no sweep removes them before its manifest lands;
 * - `meta`: the last open project and, per project, the tab allowed to write it.
 * A save writes the new parts first, then, in one transaction, the manifest, the summary, and the removal of
 * the parts nothing names any more: a save cut short leaves the previous version readable and listed.
 * Schema 1 (one project under 'current') is migrated in the upgrade, so an autosave made before survives.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { parseProjectManifest, projectManifestText, type ProjectSnapshot } from '../core/project';
import { projectPartRefs } from '../core/projectIntegrity';

export const PROJECT_DB_NAME = 'transfer-studio';
/** The database's schema version: 2 since several projects are kept. */
export const PROJECT_DB_VERSION = 2;

/** One project in the list: what the switcher shows without reading its manifest. */
export interface ProjectSummary {
  id: string;
  name: string;
  createdAt: string;
  savedAt: string;
  images: number;
  runs: number;
  /** The last run's trained weights are kept. */
  weights: boolean;
  /** Bytes of the current version: its manifest and every distinct part it names (parts shared with other projects included). */
  bytes: number;
}

/** One saved version of a project: its manifest text, its time, and where each part it names is stored. */
export interface StoredVersion {
  manifest: string;
  savedAt: string;
  /** Part name → content key. */
  parts: Record<string, string>;
  /** Content key → bytes. */
  sizes: Record<string, number>;
}

/** A project's versions: the current one and the one before (opened when the current one is damaged). */
export interface VersionsRecord {
  current: StoredVersion;
  previous: StoredVersion | null;
  /** Every content key `current` and `previous` name (the `byKey` index). */
  keys: string[];
}

/** A save under way: the content keys it is writing. */
export interface PendingRecord {
  startedAt: string;
  keys: string[];
}

/** The schema 1 record (the one project, under 'current'), read only by the migration. */
interface SchemaOneRecord {
  manifest: string;
  savedAt: string;
  parts: Record<string, string>;
}

/** The database's stores (schema 2). */
export interface ProjectDB extends DBSchema {
  projects: { key: string; value: ProjectSummary };
  versions: { key: string; value: VersionsRecord; indexes: { byKey: string } };
  parts: { key: string; value: Uint8Array };
  pending: { key: string; value: PendingRecord; indexes: { byKey: string } };
  meta: { key: string; value: string };
}

/** The meta key of the last project opened in this browser. */
export const LAST_PROJECT_KEY = 'lastProjectId';
/** The meta key naming the tab that may write project `id`. */
export const writerKey = (id: string) => `writer:${id}`;

const handles = new Map<string, Promise<IDBPDatabase<ProjectDB>>>();

/** The project database `name` (opened once, upgraded to schema 2 on the way). */
export function projectDatabase(name = PROJECT_DB_NAME): Promise<IDBPDatabase<ProjectDB>> {
  let handle = handles.get(name);
  if (!handle) {
    handle = openProjectDB(name);
    handles.set(name, handle);
    handle.catch(() => handles.delete(name));
  }
  return handle;
}

function openProjectDB(name: string): Promise<IDBPDatabase<ProjectDB>> {
  return openDB<ProjectDB>(name, PROJECT_DB_VERSION, {
    async upgrade(db, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) {
        db.createObjectStore('projects');
        db.createObjectStore('parts');
      }
      db.createObjectStore('versions').createIndex('byKey', 'keys', { multiEntry: true });
      db.createObjectStore('pending').createIndex('byKey', 'keys', { multiEntry: true });
      db.createObjectStore('meta');
      if (oldVersion === 1) await migrateSchemaOne(tx as unknown as IDBPTransaction<ProjectDB, StoreNames<ProjectDB>[], 'versionchange'>);
    },
    // Another tab upgrading the schema: close, so its upgrade is not blocked; the next call opens anew.
    blocking(_current, _next, event) {
      (event.target as IDBDatabase).close();
      handles.delete(name);
    },
  });
}

/** Schema 1 → 2: the one project under 'current' becomes a listed project with a fresh id, and the last open one. */
async function migrateSchemaOne(tx: IDBPTransaction<ProjectDB, StoreNames<ProjectDB>[], 'versionchange'>): Promise<void> {
  const projects = tx.objectStore('projects');
  const old = (await projects.get('current')) as unknown as SchemaOneRecord | undefined;
  await projects.delete('current');
  if (!old) return;
  const id = newProjectId();
  const version = versionOf(old.manifest, old.savedAt, old.parts ?? {});
  await tx.objectStore('versions').put({ current: version, previous: null, keys: distinct(version) }, id);
  await projects.put(summaryOf(id, version, { name: null, createdAt: old.savedAt }), id);
  await tx.objectStore('meta').put(id, LAST_PROJECT_KEY);
}

/** A fresh project id. */
export function newProjectId(): string {
  return `p-${crypto.randomUUID()}`;
}

/** The manifest's counts and its parts' sizes by content key, as far as the manifest can be read (an unreadable one counts nothing). */
function readManifest(manifest: string): { snapshot: ProjectSnapshot | null; sizes: Map<string, number> } {
  try {
    const parsed = parseProjectManifest(JSON.parse(manifest));
    if (!parsed.ok) return { snapshot: null, sizes: new Map() };
    return { snapshot: parsed.manifest, sizes: new Map(projectPartRefs(parsed.manifest).map((ref) => [ref.part, ref.bytes])) };
  } catch {
    return { snapshot: null, sizes: new Map() };
  }
}

/** A version record from a manifest text and its part → key map (sizes taken from the manifest). */
function versionOf(manifest: string, savedAt: string, parts: Record<string, string>): StoredVersion {
  const bytesByPart = readManifest(manifest).sizes;
  const sizes: Record<string, number> = {};
  for (const [part, key] of Object.entries(parts)) sizes[key] = bytesByPart.get(part) ?? 0;
  return { manifest, savedAt, parts, sizes };
}

/** The distinct content keys of some versions. */
export function distinct(...versions: (StoredVersion | null | undefined)[]): string[] {
  const keys = new Set<string>();
  for (const version of versions) if (version) for (const key of Object.values(version.parts)) keys.add(key);
  return [...keys];
}

/** The summary of a project whose current version is `version`. */
export function summaryOf(id: string, version: StoredVersion, keep: { name: string | null; createdAt: string }): ProjectSummary {
  const { snapshot } = readManifest(version.manifest);
  const bytes = version.manifest.length + Object.values(version.sizes).reduce((sum, n) => sum + n, 0);
  return {
    id,
    name: keep.name ?? (snapshot?.name || 'Saved project'),
    createdAt: keep.createdAt,
    savedAt: version.savedAt,
    images: snapshot?.dataset.images.length ?? 0,
    runs: snapshot?.runs.length ?? 0,
    weights: !!snapshot?.weights,
    bytes,
  };
}

/** A part to save: its storage key (content hash), and its bytes (read only when the part is not stored yet). */
export interface PartSource {
  key: string;
  read: () => Promise<Uint8Array>;
}

/** What a save wrote, or why it did not; `neededBytes` is what the new parts would take; 'taken-over': another tab writes this project now. */
export type StoreSaveOutcome =
  | { ok: true; savedAt: string; written: number; writtenBytes: number; summary: ProjectSummary }
  | { ok: false; reason: 'quota' | 'error' | 'taken-over'; message: string; neededBytes: number };

/** The storage key of some bytes: `sha256:<hex>` of their content. */
export async function contentKey(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** True for the errors browsers raise when the origin's storage is full. */
export function isQuotaError(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** New parts are written in batches of about this many bytes, each batch one transaction. */
const BATCH_BYTES = 32 * 1024 * 1024;

/** Options of a save: the name to list it under (else the one it has, else the manifest's), and the tab that must still be its writer. */
export interface SaveOptions {
  name?: string;
  writer?: string;
  dbName?: string;
}

/** Thrown inside the manifest transaction when another tab became the project's writer. */
class TakenOver extends Error {
  constructor() {
    super('another tab took this project over');
    this.name = 'TakenOver';
  }
}

/**
 * Runs `work` in one read-write transaction over `stores`, waiting for it to commit; a request or `work`
 * that fails aborts the whole transaction, and the error thrown is the transaction's own when it has one
 * (a QuotaExceededError arrives that way), else the first one.
 */
export async function inTransaction<S extends StoreNames<ProjectDB>[]>(
  db: IDBPDatabase<ProjectDB>,
  stores: S,
  work: (tx: IDBPTransaction<ProjectDB, S, 'readwrite'>) => Promise<unknown>,
): Promise<void> {
  const tx = db.transaction(stores, 'readwrite');
  try {
    await work(tx);
    await tx.done;
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // already finished or aborted
    }
    await tx.done.catch(() => undefined);
    throw tx.error ?? error;
  }
}

/** The parts a save must write: the keys not stored yet, with their sources and sizes; and every part's key and size. */
async function plan(db: IDBPDatabase<ProjectDB>, snapshot: ProjectSnapshot, parts: ReadonlyMap<string, PartSource>) {
  const stored = new Set(await db.getAllKeys('parts'));
  const keys: Record<string, string> = {};
  const sizes: Record<string, number> = {};
  const missing: { key: string; source: PartSource; bytes: number }[] = [];
  for (const ref of projectPartRefs(snapshot)) {
    const source = parts.get(ref.part);
    if (!source) throw new Error(`the part '${ref.part}' (${ref.field}) is not at hand`);
    keys[ref.part] = source.key;
    if (!(source.key in sizes) && !stored.has(source.key)) missing.push({ key: source.key, source, bytes: ref.bytes });
    sizes[source.key] = ref.bytes;
  }
  return { keys, sizes, missing };
}

/** Writes `missing` in batches of about BATCH_BYTES, each one transaction; the bytes written. */
async function writeParts(db: IDBPDatabase<ProjectDB>, missing: { key: string; source: PartSource; bytes: number }[]): Promise<number> {
  let writtenBytes = 0;
  for (let start = 0; start < missing.length;) {
    const batch: { key: string; data: Uint8Array }[] = [];
    let size = 0;
    while (start < missing.length && (batch.length === 0 || size + missing[start].bytes <= BATCH_BYTES)) {
      const data = await missing[start].source.read();
      batch.push({ key: missing[start].key, data });
      size += data.length;
      start++;
    }
    await inTransaction(db, ['parts'], (tx) => {
      const puts: Promise<unknown>[] = [];
      // A put that throws (a full disk, in some browsers) aborts the batch: the puts before it then fail too, handled here.
      for (const { key, data } of batch) {
        const put = tx.objectStore('parts').put(data, key);
        put.catch(() => undefined);
        puts.push(put);
      }
      return Promise.all(puts);
    });
    writtenBytes += size;
  }
  return writtenBytes;
}

/**
 * In a transaction over versions, pending and parts: removes each of `candidates` that no version of any
 * project and no save under way names any more. Returns the bytes freed (as the versions stated them).
 */
export async function sweepParts(
  tx: IDBPTransaction<ProjectDB, ('versions' | 'pending' | 'parts' | 'projects' | 'meta')[], 'readwrite'>,
  candidates: Map<string, number>,
): Promise<number> {
  let freed = 0;
  for (const [key, bytes] of candidates) {
    const [named, writing] = await Promise.all([tx.objectStore('versions').index('byKey').count(key), tx.objectStore('pending').index('byKey').count(key)]);
    if (named === 0 && writing === 0) {
      await tx.objectStore('parts').delete(key);
      freed += bytes;
    }
  }
  return freed;
}

/** Keys (with sizes) named by `before` but not by `after`. */
function dropped(before: StoredVersion[], pending: PendingRecord | undefined, after: Set<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const version of before) for (const [key, bytes] of Object.entries(version.sizes)) if (!after.has(key)) out.set(key, bytes);
  for (const key of pending?.keys ?? []) if (!after.has(key) && !out.has(key)) out.set(key, 0);
  return out;
}

/**
 * Saves `snapshot` as the current version of project `id` (listed as `options.name`, or the name it has);
 * `parts` gives, for each part the manifest names, its storage key and a way to read it. Only the parts not
 * stored yet are read and written. With `options.writer`, the save is refused ('taken-over') when meta
 * names another tab as the project's writer. A failed save removes the parts it wrote that nothing names.
 */
export async function saveStoredProject(
  id: string,
  snapshot: ProjectSnapshot,
  parts: ReadonlyMap<string, PartSource>,
  options: SaveOptions = {},
): Promise<StoreSaveOutcome> {
  let neededBytes = 0;
  let db: IDBPDatabase<ProjectDB> | null = null;
  let started: PendingRecord | null = null;
  try {
    db = await projectDatabase(options.dbName);
    const { keys, sizes, missing } = await plan(db, snapshot, parts);
    neededBytes = missing.reduce((sum, m) => sum + m.bytes, 0);
    if (missing.length > 0) {
      started = { startedAt: new Date().toISOString(), keys: missing.map((m) => m.key) };
      await db.put('pending', started, id);
    }
    const writtenBytes = await writeParts(db, missing);
    const version: StoredVersion = { manifest: projectManifestText(snapshot), savedAt: snapshot.savedAt, parts: keys, sizes };
    let summary: ProjectSummary | null = null;
    await inTransaction(db, ['projects', 'versions', 'parts', 'pending', 'meta'], async (tx) => {
      const writer = await tx.objectStore('meta').get(writerKey(id));
      if (options.writer && writer !== undefined && writer !== options.writer) throw new TakenOver();
      const [old, listed, pending] = await Promise.all([
        tx.objectStore('versions').get(id),
        tx.objectStore('projects').get(id),
        tx.objectStore('pending').get(id),
      ]);
      const previous = old?.current ?? null;
      const record: VersionsRecord = { current: version, previous, keys: distinct(version, previous) };
      summary = summaryOf(id, version, { name: options.name ?? listed?.name ?? null, createdAt: listed?.createdAt ?? version.savedAt });
      await Promise.all([tx.objectStore('versions').put(record, id), tx.objectStore('projects').put(summary, id), tx.objectStore('pending').delete(id)]);
      await sweepParts(tx, dropped(old ? [old.current, ...(old.previous ? [old.previous] : [])] : [], pending, new Set(record.keys)));
    });
    return { ok: true, savedAt: snapshot.savedAt, written: missing.length, writtenBytes, summary: summary! };
  } catch (error) {
    if (db && started) await abandonSave(db, id, started).catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    const reason = error instanceof TakenOver ? 'taken-over' : isQuotaError(error) ? 'quota' : 'error';
    return { ok: false, reason, message, neededBytes };
  }
}

/** A save that failed: its pending record goes, and the parts it wrote that nothing else names. */
async function abandonSave(db: IDBPDatabase<ProjectDB>, id: string, started: PendingRecord): Promise<void> {
  await inTransaction(db, ['projects', 'versions', 'parts', 'pending', 'meta'], async (tx) => {
    const pending = await tx.objectStore('pending').get(id);
    if (pending?.startedAt === started.startedAt) await tx.objectStore('pending').delete(id);
    await sweepParts(tx, new Map(started.keys.map((key) => [key, 0])));
  });
}

/** What loading found: nothing, a project (with `recovered` saying why an older version was opened), or a stored project that cannot be used. */
export type StoreLoadOutcome =
  | { kind: 'none' }
  | { kind: 'project'; snapshot: ProjectSnapshot; parts: Map<string, Uint8Array>; savedAt: string; summary: ProjectSummary; recovered: string | null }
  | { kind: 'unusable'; reason: string };

/** One version read back: the manifest parsed and checked, and its parts at the sizes it states; or why it cannot be used. */
async function readVersion(
  db: IDBPDatabase<ProjectDB>,
  version: StoredVersion,
): Promise<{ ok: true; snapshot: ProjectSnapshot; parts: Map<string, Uint8Array> } | { ok: false; reason: string }> {
  let json: unknown;
  try {
    json = JSON.parse(version.manifest);
  } catch (error) {
    return { ok: false, reason: `its manifest is not valid JSON (${(error as Error).message})` };
  }
  const parsed = parseProjectManifest(json);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const snapshot = parsed.manifest;
  const parts = new Map<string, Uint8Array>();
  const tx = db.transaction('parts');
  for (const ref of projectPartRefs(snapshot)) {
    const key = version.parts?.[ref.part];
    const data = key ? await tx.store.get(key) : undefined;
    if (!data) return { ok: false, reason: `the part '${ref.part}' that ${ref.field} names is missing` };
    if (data.length !== ref.bytes) return { ok: false, reason: `'${ref.part}' holds ${data.length} bytes, but ${ref.field}.bytes says ${ref.bytes}` };
    parts.set(ref.part, data);
  }
  return { ok: true, snapshot, parts };
}

const when = (iso: string) => new Date(iso).toLocaleString('en-GB');

/**
 * Project `id` as saved: its current version, or, when that one cannot be used (a damaged manifest, a part
 * missing or of the wrong size), the version before it, with `recovered` saying why. A save that started
 * after the version opened and never finished is named in `recovered` too.
 */
export async function loadStoredProject(id: string, dbName = PROJECT_DB_NAME): Promise<StoreLoadOutcome> {
  let db: IDBPDatabase<ProjectDB>;
  let record: VersionsRecord | undefined;
  let summary: ProjectSummary | undefined;
  let pending: PendingRecord | undefined;
  try {
    db = await projectDatabase(dbName);
    [record, summary, pending] = await Promise.all([db.get('versions', id), db.get('projects', id), db.get('pending', id)]);
  } catch (error) {
    return { kind: 'unusable', reason: `the browser's storage could not be read (${(error as Error).message})` };
  }
  if (!record || !summary) return { kind: 'none' };
  const current = await readVersion(db, record.current);
  let recovered: string | null = null;
  let chosen = current;
  let version = record.current;
  if (!current.ok) {
    const previous = record.previous ? await readVersion(db, record.previous) : null;
    if (!previous?.ok) return { kind: 'unusable', reason: current.reason };
    chosen = previous;
    version = record.previous!;
    recovered = `its last save (${when(record.current.savedAt)}) is damaged (${current.reason}); this is the version saved ${when(version.savedAt)}`;
  } else if (pending && pending.startedAt > version.savedAt) {
    recovered = `a save started ${when(pending.startedAt)} did not finish; this is the version saved ${when(version.savedAt)}`;
  }
  if (!chosen.ok) return { kind: 'unusable', reason: chosen.reason };
  return { kind: 'project', snapshot: chosen.snapshot, parts: chosen.parts, savedAt: version.savedAt, summary, recovered };
}
