/** app/storageInfo: bytes in words, the estimate and the persistence answer from a stand-in navigator.storage, and what each answer means. */
import { describe, expect, it, vi } from 'vitest';
import { estimateText, formatBytes, isPersisted, persistenceText, requestPersistence, storageEstimate } from './storageInfo';

describe('storageInfo', () => {
  it('writes bytes in decimal units, as browsers report quota', () => {
    expect([0, 999, 1000, 12_345, 4_560_000, 1_234_000_000, 5e12].map(formatBytes)).toEqual(['0 B', '999 B', '1.0 KB', '12 KB', '4.6 MB', '1.2 GB', '5.0 TB']);
  });

  it('reads the estimate and says it in words; a browser without it is said to not say', async () => {
    const estimate = await storageEstimate({ estimate: async () => ({ usage: 12_300_000, quota: 1_200_000_000 }) });
    expect(estimate).toEqual({ usage: 12_300_000, quota: 1_200_000_000 });
    expect(estimateText(estimate)).toBe('Storage: 12 MB used of 1.2 GB (1%).');
    expect(await storageEstimate({})).toBeNull();
    expect(await storageEstimate({ estimate: () => Promise.reject(new Error('denied')) })).toBeNull();
    expect(estimateText(null)).toBe('Storage used: this browser does not say.');
  });

  it('asks for persistence and says what the answer means for the saved projects', async () => {
    const persist = vi.fn(async () => false);
    expect(await requestPersistence({ persist })).toBe(false);
    expect(persist).toHaveBeenCalledOnce();
    expect(await isPersisted({ persisted: async () => true })).toBe(true);
    expect(await requestPersistence({})).toBeNull();
    expect(persistenceText(true)).toMatch(/^Persistent: granted\. The browser will not clear the saved projects/);
    expect(persistenceText(false)).toMatch(/^Persistent: not granted\. The browser may clear the saved projects when space runs low/);
    expect(persistenceText(null)).toMatch(/cannot be asked/);
  });
});
