/** app/projectChannel: a save announced in one tab reaches the others (Node's BroadcastChannel stands in for two tabs); messages of another shape are ignored. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { announceSaved, isSavedAnnouncement, onSavedElsewhere } from './projectChannel';

const other = new BroadcastChannel('transfer-studio-projects');
afterEach(() => vi.restoreAllMocks());

describe('projectChannel', () => {
  it('announces a save to the other tabs, and hears only well-formed announcements from them', async () => {
    const heard: unknown[] = [];
    other.onmessage = (event) => heard.push(event.data);
    announceSaved('p-1', '2026-01-01T10:00:00.000Z');
    await vi.waitFor(() => expect(heard).toEqual([{ kind: 'saved', id: 'p-1', savedAt: '2026-01-01T10:00:00.000Z' }]));

    const listener = vi.fn();
    const stop = onSavedElsewhere(listener);
    for (const junk of [null, 'saved', { kind: 'saved', id: 3, savedAt: '2026-01-01T10:00:00Z' }, { kind: 'saved', id: 'p', savedAt: 'yesterday' }])
      other.postMessage(junk);
    other.postMessage({ kind: 'saved', id: 'p-2', savedAt: '2026-01-01T11:00:00.000Z' });
    await vi.waitFor(() => expect(listener).toHaveBeenCalledTimes(1));
    expect(listener).toHaveBeenCalledWith({ kind: 'saved', id: 'p-2', savedAt: '2026-01-01T11:00:00.000Z' });
    stop();
    other.close();
    expect(isSavedAnnouncement({ kind: 'saved', id: 'x', savedAt: '2026-01-01T11:00:00.000Z' })).toBe(true);
  });
});
