/**
 * The project database: the user's projects in IndexedDB (through `idb`), database `transfer-studio`, schema 2:
 * - `projects`: one small summary per project (id, name, times, counts, bytes): what the project list reads;
 * - `versions`: per project, the manifest JSON of its current save and of the one before, each with the
 *   storage key of every part it names; `keys` (index `byKey`, multiEntry) lists the content keys both use;
 * - `parts`: each part's bytes under `sha256:<hex>` of its content, shared by every project and version
 *   that names the same bytes (a duplicate writes no part);
 * - `pending`: the keys a save is writing now (index `byKey`), so no sweep removes them before its manifest lands;
 * - `meta`: the last open project and, per project, the tab allowed to write it.
 * This module opens it (migrating schema 1, one project under 'current', in the upgrade), names its records,
 * and holds the helpers every writer shares: one checked read-write transaction, and the sweep of parts that
 * nothing names any more. Saving and loading are app/projectStore's; the list is app/projectCatalog's.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { parseProjectManifest, type ProjectSnapshot } from '../core/project';
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

/** A part's bytes as stored: a Blob (the browser copies it to disk off the main thread) or, for bytes made in memory, a Uint8Array. */
export type StoredBytes = Uint8Array | Blob;

/** The number of bytes of a stored part. */
export function storedSize(data: StoredBytes): number {
  return data instanceof Uint8Array ? data.length : data.size;
}

/** The database's stores (schema 2). */
export interface ProjectDB extends DBSchema {
  projects: { key: string; value: ProjectSummary };
  versions: { key: string; value: VersionsRecord; indexes: { byKey: string } };
  parts: { key: string; value: StoredBytes };
  pending: { key: string; value: PendingRecord; indexes: { byKey: string } };
  meta: { key: string; value: string };
}

/** The meta key of the last project opened in this browser. */
export const LAST_PROJECT_KEY = 'lastProjectId';
/** The meta key naming the tab that may write project `id`. */
export const writerKey = (id: string) => `writer:${id}`;

const handles = new Map<string, Promise<IDBPDatabase<ProjectDB>>>();
let upgradeBlocked: (() => void) | null = null;

/** Calls `tell` when opening the database must wait for another tab (an older studio) to close it. */
export function onUpgradeBlocked(tell: (() => void) | null): void {
  upgradeBlocked = tell;
}

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
    // A tab of an older studio keeps the database open at schema 1: the upgrade waits until it closes.
    blocked() {
      upgradeBlocked?.();
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

/** The summary of a project whose current version is `version` (`snapshot`: its manifest, when at hand, so it is not parsed and checked again). */
export function summaryOf(
  id: string,
  version: StoredVersion,
  keep: { name: string | null; createdAt: string },
  snapshot: ProjectSnapshot | null = readManifest(version.manifest).snapshot,
): ProjectSummary {
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
