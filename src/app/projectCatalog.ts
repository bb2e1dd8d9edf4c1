/**
 * The list of projects kept in this browser (app/projectStore's database): list, rename, duplicate (the
 * parts are shared, so nothing but the manifest is written), delete (frees exactly the parts no other
 * project names), what each uses, the last project opened, and which tab may write a project.
 */
import {
  distinct,
  inTransaction,
  LAST_PROJECT_KEY,
  newProjectId,
  PROJECT_DB_NAME,
  projectDatabase,
  sweepParts,
  writerKey,
  type ProjectSummary,
  type VersionsRecord,
} from './projectDb';

/** True for a summary of the shape this studio writes (another is shown as damaged, not half). */
function isSummary(value: unknown): value is ProjectSummary {
  const v = value as Partial<ProjectSummary> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.id === 'string' &&
    typeof v.name === 'string' &&
    typeof v.savedAt === 'string' &&
    typeof v.createdAt === 'string' &&
    [v.images, v.runs, v.bytes].every((n) => typeof n === 'number' && Number.isFinite(n)) &&
    typeof v.weights === 'boolean'
  );
}

/** What the list shows for a project whose summary is damaged: its id and that it is damaged, so it can still be deleted. */
function damaged(id: string): ProjectSummary {
  return { id, name: 'Damaged project', createdAt: '', savedAt: '', images: 0, runs: 0, weights: false, bytes: 0 };
}

/** Every stored project, the most recently saved first; one whose summary is damaged is listed as such (at the end). */
export async function listProjects(dbName = PROJECT_DB_NAME): Promise<ProjectSummary[]> {
  const tx = (await projectDatabase(dbName)).transaction('projects');
  const [ids, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
  const all = ids.map((id, i) => (isSummary(values[i]) ? values[i] : damaged(id)));
  return all.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0));
}

/** One project's summary, or undefined. */
export async function projectSummary(id: string, dbName = PROJECT_DB_NAME): Promise<ProjectSummary | undefined> {
  const summary = await (await projectDatabase(dbName)).get('projects', id);
  return summary === undefined ? undefined : isSummary(summary) ? summary : damaged(id);
}

/** Renames project `id` in the list (its manifest takes the name at its next save); the summary after, or undefined when there is no such project. */
export async function renameProject(id: string, name: string, dbName = PROJECT_DB_NAME): Promise<ProjectSummary | undefined> {
  const db = await projectDatabase(dbName);
  let renamed: ProjectSummary | undefined;
  await inTransaction(db, ['projects'], async (tx) => {
    const summary = await tx.objectStore('projects').get(id);
    if (!summary) return;
    renamed = { ...summary, name };
    await tx.objectStore('projects').put(renamed, id);
  });
  return renamed;
}

/** A copy of project `id` named `name` (both versions; every part shared, none written); the copy's summary, or undefined when there is no such project. */
export async function duplicateProject(id: string, name: string, dbName = PROJECT_DB_NAME): Promise<ProjectSummary | undefined> {
  const db = await projectDatabase(dbName);
  const copyId = newProjectId();
  let copy: ProjectSummary | undefined;
  await inTransaction(db, ['projects', 'versions'], async (tx) => {
    const [summary, versions] = await Promise.all([tx.objectStore('projects').get(id), tx.objectStore('versions').get(id)]);
    if (!summary || !versions) return;
    const now = new Date().toISOString();
    copy = { ...summary, id: copyId, name, createdAt: now };
    await Promise.all([tx.objectStore('versions').put(versions, copyId), tx.objectStore('projects').put(copy, copyId)]);
  });
  return copy;
}

/** What deleting a project frees: its parts that no other project (or save under way) names, in bytes; and the bytes it names in all. */
export interface ProjectUsage {
  bytes: number;
  /** Bytes only this project uses: what deleting it frees. */
  ownBytes: number;
}

/** The storage project `id` uses, and how much of it is its own (not shared with another project); undefined when there is no such project. */
export async function projectUsage(id: string, dbName = PROJECT_DB_NAME): Promise<ProjectUsage | undefined> {
  const db = await projectDatabase(dbName);
  const tx = db.transaction(['versions', 'pending']);
  const record = await tx.objectStore('versions').get(id);
  if (!record) return undefined;
  const sizes = { ...(record.previous?.sizes ?? {}), ...record.current.sizes };
  let bytes = record.current.manifest.length + (record.previous?.manifest.length ?? 0);
  let ownBytes = bytes;
  for (const key of distinct(record.current, record.previous)) {
    bytes += sizes[key] ?? 0;
    const [named, writing] = await Promise.all([tx.objectStore('versions').index('byKey').count(key), tx.objectStore('pending').index('byKey').count(key)]);
    if (named <= 1 && writing === 0) ownBytes += sizes[key] ?? 0;
  }
  return { bytes, ownBytes };
}

/** The content keys a versions record names, with their sizes where stated; read defensively (a damaged record is deleted too). */
function recordKeys(record: VersionsRecord | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const version of [record?.current, record?.previous]) {
    const sizes: unknown = version?.sizes;
    if (typeof sizes === 'object' && sizes !== null)
      for (const [key, bytes] of Object.entries(sizes)) out.set(key, typeof bytes === 'number' && Number.isFinite(bytes) ? bytes : 0);
  }
  for (const key of Array.isArray(record?.keys) ? record.keys : []) if (typeof key === 'string' && !out.has(key)) out.set(key, 0);
  return out;
}

/** Deletes project `id`: its summary, versions and writer record, and every part nothing else names. The bytes freed (0 when there was no such project). */
export async function deleteProject(id: string, dbName = PROJECT_DB_NAME): Promise<number> {
  const db = await projectDatabase(dbName);
  let freed = 0;
  await inTransaction(db, ['projects', 'versions', 'parts', 'pending', 'meta'], async (tx) => {
    const [record, pending, last] = await Promise.all([
      tx.objectStore('versions').get(id),
      tx.objectStore('pending').get(id),
      tx.objectStore('meta').get(LAST_PROJECT_KEY),
    ]);
    const candidates = recordKeys(record);
    for (const key of Array.isArray(pending?.keys) ? pending.keys : []) if (typeof key === 'string' && !candidates.has(key)) candidates.set(key, 0);
    await Promise.all([
      tx.objectStore('projects').delete(id),
      tx.objectStore('versions').delete(id),
      tx.objectStore('pending').delete(id),
      tx.objectStore('meta').delete(writerKey(id)),
      ...(last === id ? [tx.objectStore('meta').delete(LAST_PROJECT_KEY)] : []),
    ]);
    const manifests = [record?.current, record?.previous].reduce((sum, v) => sum + (typeof v?.manifest === 'string' ? v.manifest.length : 0), 0);
    freed = manifests + (await sweepParts(tx, candidates));
  });
  return freed;
}

/** The id of the project last opened in this browser, or undefined. */
export async function lastProjectId(dbName = PROJECT_DB_NAME): Promise<string | undefined> {
  return (await projectDatabase(dbName)).get('meta', LAST_PROJECT_KEY);
}

/** Remembers `id` as the project to reopen on the next load. */
export async function rememberLastProject(id: string, dbName = PROJECT_DB_NAME): Promise<void> {
  await (await projectDatabase(dbName)).put('meta', id, LAST_PROJECT_KEY);
}

/** Names `tab` as the one tab that may write project `id` (a save from any other tab is then refused). */
export async function claimWriter(id: string, tab: string, dbName = PROJECT_DB_NAME): Promise<void> {
  await (await projectDatabase(dbName)).put('meta', tab, writerKey(id));
}

/** The number of stored parts (tests and the storage bench). */
export async function storedPartCount(dbName = PROJECT_DB_NAME): Promise<number> {
  return (await projectDatabase(dbName)).count('parts');
}
