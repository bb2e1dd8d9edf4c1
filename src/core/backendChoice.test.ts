import { describe, expect, it } from 'vitest';
import { backendWithProbes, probesText } from './backendChoice';

describe('the measured backends in words', () => {
  it('lists the timed ones fastest first, then those not timed', () => {
    const probes = [
      { backend: 'webgl', msPerStep: 38_012.4 },
      { backend: 'wasm', msPerStep: 1_234.4 },
      { backend: 'webgpu', msPerStep: null, error: 'no adapter' },
    ];
    expect(probesText(probes)).toBe('wasm 1,234 · webgl 38,012 ms/step; webgpu not timed');
    expect(backendWithProbes('wasm', probes)).toBe('wasm (measured: wasm 1,234 · webgl 38,012 ms/step; webgpu not timed)');
  });

  it('is the bare name when nothing was compared (forced by ?backend=, a cached head, one candidate)', () => {
    expect(backendWithProbes('wasm', undefined)).toBe('wasm');
    expect(backendWithProbes('cpu', [{ backend: 'cpu', msPerStep: 12 }])).toBe('cpu');
    const alone = [
      { backend: 'wasm', msPerStep: null, error: 'not timed: no other backend could run' },
      { backend: 'webgl', msPerStep: null, error: 'could not start' },
    ];
    expect(backendWithProbes('wasm', alone)).toBe('wasm');
  });
});
