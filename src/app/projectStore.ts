/**
 * Saving and loading one project in the browser's project database (app/projectDb: stores, schema, migration).
 * A save writes the new parts first (content-keyed, listed in `pending` meanwhile), then, in one transaction,
 * the manifest as the project's current version (the one before kept as its fallback), the summary, and the
 * removal of the parts nothing names any more: a save cut short leaves the previous version readable and
 * listed. A load opens the current version, or the one before when the current one is damaged, saying why.
 */
import type { IDBPDatabase } from 'idb';
import { parseProjectManifest, projectManifestText, type ProjectSnapshot } from '../core/project';
import { projectPartRefs } from '../core/projectIntegrity';
import {
  distinct,
  inTransaction,
  PROJECT_DB_NAME,
  projectDatabase,
  summaryOf,
  sweepParts,
  writerKey,
  storedSize,
  type PendingRecord,
  type ProjectDB,
  type StoredBytes,
  type ProjectSummary,
  type StoredVersion,
  type VersionsRecord,
} from './projectDb';

export { newProjectId, PROJECT_DB_NAME, projectDatabase, type ProjectSummary } from './projectDb';

/** A part to save: its storage key (content hash), and its bytes (asked for only when the part is not stored yet; a Blob is stored as it is). */
export interface PartSource {
  key: string;
  read: () => Promise<StoredBytes>;
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
/** …and of at most this many parts (each put of a Blob costs the main thread a little; a long transaction adds up). */
const BATCH_PARTS = 200;

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
    const batch: { key: string; data: StoredBytes }[] = [];
    let size = 0;
    while (start < missing.length && (batch.length === 0 || (size + missing[start].bytes <= BATCH_BYTES && batch.length < BATCH_PARTS))) {
      const data = await missing[start].source.read();
      batch.push({ key: missing[start].key, data });
      size += storedSize(data);
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

/** True for a version of the shape this studio writes (its maps are objects, its manifest text). */
function isStoredVersion(value: unknown): value is StoredVersion {
  const v = value as Partial<StoredVersion> | null | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.manifest === 'string' &&
    typeof v.parts === 'object' &&
    v.parts !== null &&
    typeof v.sizes === 'object' &&
    v.sizes !== null
  );
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
      // Versions of another shape (damaged) are not kept as the fallback, nor read for what to sweep.
      const before = [old?.current, old?.previous].filter(isStoredVersion);
      const previous = isStoredVersion(old?.current) ? old.current : null;
      const record: VersionsRecord = { current: version, previous, keys: distinct(version, previous) };
      const name = typeof listed?.name === 'string' ? listed.name : null;
      const createdAt = typeof listed?.createdAt === 'string' ? listed.createdAt : version.savedAt;
      summary = summaryOf(id, version, { name: options.name ?? name, createdAt }, snapshot);
      await Promise.all([tx.objectStore('versions').put(record, id), tx.objectStore('projects').put(summary, id), tx.objectStore('pending').delete(id)]);
      await sweepParts(tx, dropped(before, Array.isArray(pending?.keys) ? pending : undefined, new Set(record.keys)));
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

/**
 * Clears what a save of project `id` cut short left behind (its pending record, and the parts it wrote that
 * nothing names). Only for the tab that holds the project's lock: no other tab is saving it then.
 */
export async function clearUnfinishedSave(id: string, dbName = PROJECT_DB_NAME): Promise<void> {
  const db = await projectDatabase(dbName);
  const pending = await db.get('pending', id);
  if (pending) await abandonSave(db, id, pending);
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
  if (typeof version.parts !== 'object' || version.parts === null) return { ok: false, reason: 'its record names no parts' };
  const refs = projectPartRefs(snapshot);
  // Every get in one transaction at once; the Blobs are read after it (awaiting anything else would end it).
  const tx = db.transaction('parts');
  const keyOf = (part: string) => (typeof version.parts[part] === 'string' ? version.parts[part] : undefined);
  const stored = await Promise.all(refs.map((ref) => (keyOf(ref.part) ? tx.store.get(keyOf(ref.part)!) : undefined)));
  for (const [i, ref] of refs.entries()) {
    const data = stored[i];
    if (!(data instanceof Uint8Array) && !(data instanceof Blob)) return { ok: false, reason: `the part '${ref.part}' that ${ref.field} names is missing` };
    const size = storedSize(data);
    if (size !== ref.bytes) return { ok: false, reason: `'${ref.part}' holds ${size} bytes, but ${ref.field}.bytes says ${ref.bytes}` };
  }
  const bytes = await Promise.all(stored.map((data) => (data instanceof Uint8Array ? data : data!.arrayBuffer().then((buffer) => new Uint8Array(buffer)))));
  return { ok: true, snapshot, parts: new Map(refs.map((ref, i) => [ref.part, bytes[i]])) };
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
  try {
    return await chooseVersion(db, record, summary, pending);
  } catch (error) {
    // A record of another shape than this studio writes (damaged, or written by hand): named, never thrown.
    return { kind: 'unusable', reason: `its stored record is damaged (${(error as Error).message})` };
  }
}

/** The current version of `record` when it reads back, else the one before it, saying why. */
async function chooseVersion(
  db: IDBPDatabase<ProjectDB>,
  record: VersionsRecord,
  summary: ProjectSummary,
  pending: PendingRecord | undefined,
): Promise<StoreLoadOutcome> {
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
