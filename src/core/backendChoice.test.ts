import { describe, expect, it } from 'vitest';
import { backendWithProbes, outOfMemoryAdvice, probesText } from './backendChoice';

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

describe('out of memory in words', () => {
  it('names the backend and the batch, and offers half the batch', () => {
    const wasm = 'RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded';
    expect(outOfMemoryAdvice(wasm, 32, 'wasm')).toBe(
      'Out of memory on wasm at batch size 32: a training step of this plan needs more memory than the browser gave it. Try batch size 16, or freeze more layers (frozen layers keep no activations for the backward pass). The wasm backend cannot run again after this: reload the page to go on.',
    );
    expect(outOfMemoryAdvice('Aborted(Cannot enlarge memory arrays to size 4294967296 bytes (OOM))', 5, 'wasm')).toMatch(/Try batch size 2,/);
    expect(outOfMemoryAdvice('GPUOutOfMemoryError: not enough memory left', 1, 'webgpu')).toMatch(
      /batch size is already 1: freeze more layers.*smaller model\.$/,
    );
    // What the wasm heap says when it is full (checked in Node: the 5th GiB) and every call after it.
    expect(outOfMemoryAdvice('RuntimeError: memory access out of bounds', 8, 'wasm')).toMatch(/^Out of memory on wasm at batch size 8: .*Try batch size 4/);
    expect(outOfMemoryAdvice('RuntimeError: Aborted(). Build with -sASSERTIONS for more info.', 8, 'wasm')).toMatch(/reload the page/);
  });

  it('leaves every other error alone', () => {
    expect(outOfMemoryAdvice("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'", 32, 'wasm')).toBeNull();
    expect(outOfMemoryAdvice('The cut layer is not a layer of this model', 8, null)).toBeNull();
  });
});
