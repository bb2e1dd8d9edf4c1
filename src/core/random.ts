/**
 * Seeded pseudo-random numbers (mulberry32): the same seed gives the same
 * shuffles and splits in the worker, in Node and in scripts.
 */

/** A function returning uniform floats in [0, 1), deterministic for a given 32-bit seed. */
export type Random = () => number;

/** Creates a mulberry32 generator from a 32-bit integer seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles `items` in place (Fisher–Yates) with the given generator and returns it. */
export function shuffleInPlace<T>(items: T[] | Int32Array | Uint32Array, random: Random): typeof items {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}
