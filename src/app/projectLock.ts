/**
 * One writer per project across tabs, with the Web Locks API: a tab that opens a project asks for the lock
 * `transfer-studio:project:<id>` with `ifAvailable`; when another tab holds it, this tab opens the project
 * read-only. "Take over here" asks with `steal`: the browser releases the other tab's lock (its request
 * rejects with an AbortError), which is how that tab learns it is read-only now. Without Web Locks (an old
 * browser) every tab writes, as before. The lock manager is passed in, so the logic runs under Vitest.
 */

/** The part of `navigator.locks` this module uses. */
export interface LockManagerLike {
  request(name: string, options: { ifAvailable?: boolean; steal?: boolean }, callback: (lock: unknown) => Promise<void> | void): Promise<unknown>;
  query?: () => Promise<{ held?: { name?: string }[] }>;
}

/** What a tab gets for a project: it writes it, or another tab does. */
export type LockAnswer = 'writer' | 'read-only';

/** The lock a tab holds (at most one project at a time). */
export interface ProjectLock {
  /** Asks for project `id`'s lock without waiting, after letting go of any other: 'writer' when granted. */
  acquire(id: string): Promise<LockAnswer>;
  /** Takes project `id`'s lock from the tab that holds it ('writer' once granted). */
  takeOver(id: string): Promise<LockAnswer>;
  /** Lets go of the lock held now, if any. */
  release(): void;
  /** The project whose lock this tab holds, or null. */
  held(): string | null;
}

/** The lock's name for project `id`. */
export const lockName = (id: string) => `transfer-studio:project:${id}`;

/**
 * A project lock over `locks` (navigator.locks; undefined: no Web Locks, every acquire is granted).
 * `onLost(id)` is called when another tab takes the lock of project `id` away.
 */
export function createProjectLock(locks: LockManagerLike | undefined, onLost: (id: string) => void): ProjectLock {
  let current: { id: string; release: () => void } | null = null;

  const hold = (id: string, options: { ifAvailable?: boolean; steal?: boolean }): Promise<LockAnswer> => {
    if (!locks) {
      current = { id, release: () => undefined };
      return Promise.resolve('writer');
    }
    return new Promise<LockAnswer>((answer) => {
      let mine: { id: string; release: () => void } | null = null;
      locks
        .request(lockName(id), options, (lock) => {
          if (!lock) {
            answer('read-only');
            return;
          }
          return new Promise<void>((release) => {
            mine = { id, release };
            current = mine;
            answer('writer');
          });
        })
        .catch((error: unknown) => {
          // A stolen lock: its request rejects with an AbortError. Tell the tab, unless it already let go.
          if ((error as { name?: string } | null)?.name !== 'AbortError') return;
          if (mine && current === mine) {
            current = null;
            onLost(id);
          }
        });
    });
  };

  const release = () => {
    const held = current;
    current = null;
    held?.release();
  };

  return {
    acquire(id) {
      if (current?.id === id) return Promise.resolve('writer');
      release();
      return hold(id, { ifAvailable: true });
    },
    takeOver(id) {
      if (current?.id === id) return Promise.resolve('writer');
      release();
      return hold(id, { steal: true });
    },
    release,
    held: () => current?.id ?? null,
  };
}

/** The browser's lock manager, or undefined where Web Locks are missing. */
export function browserLocks(): LockManagerLike | undefined {
  const locks = typeof navigator === 'undefined' ? undefined : (navigator as { locks?: LockManagerLike }).locks;
  return locks && typeof locks.request === 'function' ? locks : undefined;
}

/** The ids of the projects whose lock some tab holds (this one's included: leave out `lock.held()`); empty without Web Locks. */
export async function projectsHeld(locks: LockManagerLike | undefined = browserLocks()): Promise<Set<string>> {
  const prefix = lockName('');
  const held = new Set<string>();
  const state = await locks?.query?.().catch(() => undefined);
  for (const lock of state?.held ?? []) if (lock.name?.startsWith(prefix)) held.add(lock.name.slice(prefix.length));
  return held;
}
