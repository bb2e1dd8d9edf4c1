/**
 * What the browser says of this site's storage: space used and the quota (`navigator.storage.estimate()`),
 * whether it is persistent, and the request to make it so (`navigator.storage.persist()`), each answered in
 * words for the project switcher. Where the Storage API is missing, each answer says so.
 */

/** Bytes as people read them: `512 B`, `12.3 KB`, `4.5 MB`, `1.2 GB` (decimal units, as browsers report quota). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** The part of `navigator.storage` used here. */
export interface StorageManagerLike {
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
  persisted?: () => Promise<boolean>;
  persist?: () => Promise<boolean>;
}

function browserStorage(): StorageManagerLike | undefined {
  return typeof navigator === 'undefined' ? undefined : (navigator as { storage?: StorageManagerLike }).storage;
}

/** Space used and the quota, in bytes, or null where the browser does not say. */
export async function storageEstimate(storage = browserStorage()): Promise<{ usage: number; quota: number } | null> {
  if (!storage?.estimate) return null;
  try {
    const { usage, quota } = await storage.estimate();
    return usage === undefined || quota === undefined ? null : { usage, quota };
  } catch {
    return null;
  }
}

/** `Storage: 12.3 MB used of 1.2 GB (1%)`, or why it is not known. */
export function estimateText(estimate: { usage: number; quota: number } | null): string {
  if (!estimate) return 'Storage used: this browser does not say.';
  const share = estimate.quota > 0 ? ` (${Math.min(100, Math.round((estimate.usage / estimate.quota) * 100))}%)` : '';
  return `Storage: ${formatBytes(estimate.usage)} used of ${formatBytes(estimate.quota)}${share}.`;
}

/** Whether the site's storage is persistent: true, false, or null where the browser does not say. */
export async function isPersisted(storage = browserStorage()): Promise<boolean | null> {
  if (!storage?.persisted) return null;
  return storage.persisted().catch(() => null);
}

/** Asks the browser to keep this site's data (navigator.storage.persist()); its answer, or null where it cannot be asked. */
export async function requestPersistence(storage = browserStorage()): Promise<boolean | null> {
  if (!storage?.persist) return null;
  return storage.persist().catch(() => null);
}

/** The answer in words: what it means for the saved projects. */
export function persistenceText(persisted: boolean | null): string {
  if (persisted === null) return 'This browser cannot be asked to keep the data: save project files to be sure.';
  if (persisted) return 'Persistent: granted. The browser will not clear the saved projects on its own, even when space runs low.';
  return 'Persistent: not granted. The browser may clear the saved projects when space runs low; save project files of the ones you need.';
}
