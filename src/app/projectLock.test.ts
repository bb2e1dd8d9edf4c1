/** app/projectLock: two tabs over one lock manager (a small model of Web Locks' ifAvailable and steal): one writer, read-only, take over, release. */
import { describe, expect, it, vi } from 'vitest';
import { createProjectLock, lockName, projectsHeld, type LockManagerLike } from './projectLock';

/** Web Locks as the spec has them for exclusive locks, without queueing: ifAvailable answers null when held; steal rejects the holder's request with an AbortError. */
function fakeLocks(): LockManagerLike & { holders: () => string[] } {
  const held = new Map<string, { reject: (error: Error) => void }>();
  return {
    holders: () => [...held.keys()],
    query: async () => ({ held: [...held.keys(), 'some-other-lock'].map((name) => ({ name })) }),
    request(name, options, callback) {
      if (held.has(name) && options.ifAvailable) return Promise.resolve(callback(null));
      if (held.has(name) && !options.steal) throw new Error('the fake does not queue');
      if (held.has(name)) {
        held.get(name)!.reject(new DOMException('The lock was stolen.', 'AbortError'));
        held.delete(name);
      }
      return new Promise((resolve, reject) => {
        const entry = { reject };
        held.set(name, entry);
        void Promise.resolve(callback({ name })).then((value) => {
          if (held.get(name) === entry) held.delete(name);
          resolve(value);
        });
      });
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('projectLock', () => {
  it('gives the first tab the project and the second read-only; taking over makes the second the writer and tells the first', async () => {
    const locks = fakeLocks();
    const lostA = vi.fn();
    const lostB = vi.fn();
    const a = createProjectLock(locks, lostA);
    const b = createProjectLock(locks, lostB);
    expect(await a.acquire('p1')).toBe('writer');
    expect(await b.acquire('p1')).toBe('read-only');
    expect(b.held()).toBeNull();
    expect(locks.holders()).toEqual([lockName('p1')]);

    expect(await b.takeOver('p1')).toBe('writer');
    await tick();
    expect(lostA).toHaveBeenCalledWith('p1');
    expect(lostB).not.toHaveBeenCalled();
    expect(a.held()).toBeNull();
    expect(b.held()).toBe('p1');
    // The first tab asks again: read-only now.
    expect(await a.acquire('p1')).toBe('read-only');
    expect(await projectsHeld(locks)).toEqual(new Set(['p1']));
    expect(await projectsHeld(undefined)).toEqual(new Set());
  });

  it('lets go of one project to hold another, so a second tab can then have the first; a release is not a loss', async () => {
    const locks = fakeLocks();
    const lost = vi.fn();
    const a = createProjectLock(locks, lost);
    const b = createProjectLock(locks, vi.fn());
    expect(await a.acquire('p1')).toBe('writer');
    expect(await a.acquire('p1')).toBe('writer');
    expect(await a.acquire('p2')).toBe('writer');
    await tick();
    expect(await b.acquire('p1')).toBe('writer');
    expect(locks.holders().sort()).toEqual([lockName('p1'), lockName('p2')]);
    a.release();
    await tick();
    expect(locks.holders()).toEqual([lockName('p1')]);
    expect(lost).not.toHaveBeenCalled();
  });

  it('without Web Locks every tab writes (the studio works as before)', async () => {
    const a = createProjectLock(undefined, vi.fn());
    expect(await a.acquire('p1')).toBe('writer');
    expect(await a.takeOver('p1')).toBe('writer');
    expect(a.held()).toBe('p1');
  });
});
