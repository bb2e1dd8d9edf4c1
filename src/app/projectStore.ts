/**
 * The browser's copy of the current project, in IndexedDB (through `idb`): database `transfer-studio`,
 * store `projects` (the manifest JSON under key 'current', with `savedAt` and the storage key of each part
 * it names) and store `parts` (each part's bytes under `sha256:<hex>` of its content, so a save writes only
 * the parts not stored yet). A save writes the new parts first, then, in one transaction, the manifest and
 * the removal of the parts no manifest names any more: a save cut short leaves the previous one readable.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { parseProjectManifest, projectManifestText, type ProjectSnapshot } from '../core/project';
import { projectPartRefs } from '../core/projectIntegrity';

export const PROJECT_DB_NAME = 'transfer-studio';
const CURRENT = 'current';

/** The manifest record: its JSON text, when it was saved, and where each part it names is stored. */
export interface StoredProjectRecord {
  manifest: string;
  savedAt: string;
  parts: Record<string, string>;
}

interface ProjectDB extends DBSchema {
  projects: { key: string; value: StoredProjectRecord };
  parts: { key: string; value: Uint8Array };
}

/** A part to save: its name in the manifest, and its bytes (read only when the part is not stored yet). */
export interface PartSource {
  key: string;
  read: () => Promise<Uint8Array>;
}

/** What a save wrote, or why it did not; `neededBytes` is what the new parts would take. */
export type StoreSaveOutcome =
  { ok: true; savedAt: string; written: number; writtenBytes: number } | { ok: false; reason: 'quota' | 'error'; message: string; neededBytes: number };

/** What loading found: nothing, a project, or a stored project that cannot be used (and why). */
export type StoreLoadOutcome =
  { kind: 'none' } | { kind: 'project'; snapshot: ProjectSnapshot; parts: Map<string, Uint8Array>; savedAt: string } | { kind: 'unusable'; reason: string };

let opened: Promise<IDBPDatabase<ProjectDB>> | null = null;

function database(name: string): Promise<IDBPDatabase<ProjectDB>> {
  if (name !== PROJECT_DB_NAME) return openProjectDB(name);
  opened ??= openProjectDB(name);
  return opened;
}

function openProjectDB(name: string): Promise<IDBPDatabase<ProjectDB>> {
  return openDB<ProjectDB>(name, 1, {
    upgrade(db) {
      db.createObjectStore('projects');
      db.createObjectStore('parts');
    },
  });
}

/** The storage key of some bytes: `sha256:<hex>` of their content. */
export async function contentKey(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function isQuota(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** New parts are written in batches of about this many bytes, each batch one transaction. */
const BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Saves `snapshot` as the current project; `parts` gives, for each part the manifest names, its storage
 * key and a way to read it. Only the parts whose key is not stored yet are read and written.
 */
export async function saveStoredProject(
  snapshot: ProjectSnapshot,
  parts: ReadonlyMap<string, PartSource>,
  dbName = PROJECT_DB_NAME,
): Promise<StoreSaveOutcome> {
  let neededBytes = 0;
  try {
    const db = await database(dbName);
    const stored = new Set(await db.getAllKeys('parts'));
    const refs = projectPartRefs(snapshot);
    const keys: Record<string, string> = {};
    const missing: { key: string; source: PartSource; bytes: number }[] = [];
    for (const ref of refs) {
      const source = parts.get(ref.part);
      if (!source) throw new Error(`the part '${ref.part}' (${ref.field}) is not at hand`);
      keys[ref.part] = source.key;
      if (!stored.has(source.key) && !missing.some((m) => m.key === source.key)) missing.push({ key: source.key, source, bytes: ref.bytes });
    }
    neededBytes = missing.reduce((sum, m) => sum + m.bytes, 0);
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
      const tx = db.transaction('parts', 'readwrite');
      await Promise.all([...batch.map(({ key, data }) => tx.store.put(data, key)), tx.done]);
      writtenBytes += size;
    }
    const record: StoredProjectRecord = { manifest: projectManifestText(snapshot), savedAt: snapshot.savedAt, parts: keys };
    const tx = db.transaction(['projects', 'parts'], 'readwrite');
    const referenced = new Set(Object.values(keys));
    const partStore = tx.objectStore('parts');
    const work: Promise<unknown>[] = [tx.objectStore('projects').put(record, CURRENT)];
    for (const key of await partStore.getAllKeys()) if (!referenced.has(key)) work.push(partStore.delete(key));
    await Promise.all([...work, tx.done]);
    return { ok: true, savedAt: snapshot.savedAt, written: missing.length, writtenBytes };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: isQuota(error) ? 'quota' : 'error', message, neededBytes };
  }
}

/** The current project as saved: the manifest parsed and checked, and its parts at the sizes it states. */
export async function loadStoredProject(dbName = PROJECT_DB_NAME): Promise<StoreLoadOutcome> {
  let record: StoredProjectRecord | undefined;
  let db: IDBPDatabase<ProjectDB>;
  try {
    db = await database(dbName);
    record = await db.get('projects', CURRENT);
  } catch (error) {
    return { kind: 'unusable', reason: `the browser's storage could not be read (${(error as Error).message})` };
  }
  if (!record) return { kind: 'none' };
  let json: unknown;
  try {
    json = JSON.parse(record.manifest);
  } catch (error) {
    return { kind: 'unusable', reason: `its manifest is not valid JSON (${(error as Error).message})` };
  }
  const parsed = parseProjectManifest(json);
  if (!parsed.ok) return { kind: 'unusable', reason: parsed.reason };
  const snapshot = parsed.manifest;
  const parts = new Map<string, Uint8Array>();
  for (const ref of projectPartRefs(snapshot)) {
    const key = record.parts?.[ref.part];
    const data = key ? await db.get('parts', key) : undefined;
    if (!data) return { kind: 'unusable', reason: `the part '${ref.part}' that ${ref.field} names is missing` };
    if (data.length !== ref.bytes) return { kind: 'unusable', reason: `'${ref.part}' holds ${data.length} bytes, but ${ref.field}.bytes says ${ref.bytes}` };
    parts.set(ref.part, data);
  }
  return { kind: 'project', snapshot, parts, savedAt: record.savedAt };
}

/** Removes the saved project (its manifest and every part). */
export async function clearStoredProject(dbName = PROJECT_DB_NAME): Promise<void> {
  const db = await database(dbName);
  const tx = db.transaction(['projects', 'parts'], 'readwrite');
  await Promise.all([tx.objectStore('projects').clear(), tx.objectStore('parts').clear(), tx.done]);
}

/** Test hook: the raw manifest record (or undefined), and the number of stored parts. */
export async function storedProjectRecord(dbName = PROJECT_DB_NAME): Promise<{ record: StoredProjectRecord | undefined; parts: number }> {
  const db = await database(dbName);
  return { record: await db.get('projects', CURRENT), parts: await db.count('parts') };
}
