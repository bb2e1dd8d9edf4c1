import { describe, expect, it } from 'vitest';
import { wasmThreadsFor } from './backend';

describe('wasm’s thread count', () => {
  it('uses both cores of a 2-core machine, half of them above that, at most 4 (tfjs’ pool)', () => {
    expect([undefined, 1, 2, 3, 4, 6, 8, 16].map(wasmThreadsFor)).toEqual([1, 1, 2, 2, 2, 3, 4, 4]);
  });
});
