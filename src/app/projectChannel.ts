/**
 * Tabs of the studio tell each other when they save a project, over a BroadcastChannel: a tab that has the
 * project open read-only says that the other tab saved it (and at what time), and an open project list
 * refreshes. Only the message's shape is trusted, after a check; without BroadcastChannel nothing is sent.
 */

/** What a tab announces: project `id` was saved at `savedAt` (ISO time). */
export interface SavedAnnouncement {
  kind: 'saved';
  id: string;
  savedAt: string;
}

const CHANNEL = 'transfer-studio-projects';
let channel: BroadcastChannel | null | undefined;

function open(): BroadcastChannel | null {
  if (channel === undefined) channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(CHANNEL);
  return channel;
}

/** True for a message of the shape announceSaved sends. */
export function isSavedAnnouncement(data: unknown): data is SavedAnnouncement {
  const d = data as Partial<SavedAnnouncement> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.kind === 'saved' &&
    typeof d.id === 'string' &&
    typeof d.savedAt === 'string' &&
    !Number.isNaN(Date.parse(d.savedAt))
  );
}

/** Tells the other tabs that project `id` was saved at `savedAt`. */
export function announceSaved(id: string, savedAt: string): void {
  open()?.postMessage({ kind: 'saved', id, savedAt } satisfies SavedAnnouncement);
}

/** Calls `listener` for each save another tab announces; returns the unsubscribe. */
export function onSavedElsewhere(listener: (announcement: SavedAnnouncement) => void): () => void {
  const c = open();
  if (!c) return () => undefined;
  const handle = (event: MessageEvent) => {
    if (isSavedAnnouncement(event.data)) listener(event.data);
  };
  c.addEventListener('message', handle);
  return () => c.removeEventListener('message', handle);
}
