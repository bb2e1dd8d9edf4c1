/** One backend's measured training step at a run's start (the worker's pick by measurement, issue 15). */
export interface BackendProbe {
  backend: string;
  /** ms per step of the run's plan; null when it could not run or was given up on (`error` says why). */
  msPerStep: number | null;
  error?: string;
}

/** "wasm 1,234 · webgl 38,000 ms/step; webgpu not timed": fastest first, for the status line and the run's record. */
export function probesText(probes: readonly BackendProbe[]): string {
  const ran = probes.filter((p) => p.msPerStep !== null).sort((a, b) => a.msPerStep! - b.msPerStep!);
  const figures = ran.map((p) => `${p.backend} ${Math.round(p.msPerStep!).toLocaleString('en-US')}`).join(' · ');
  const others = probes.filter((p) => p.msPerStep === null).map((p) => `${p.backend} not timed`);
  return [figures ? `${figures} ms/step` : '', ...others].filter(Boolean).join('; ');
}

/** The record's backend: the name, and what the pick measured when it compared two or more ("wasm (measured: …)"). */
export function backendWithProbes(backend: string, probes: readonly BackendProbe[] | undefined): string {
  return probes && probes.filter((p) => p.msPerStep !== null).length > 1 ? `${backend} (measured: ${probesText(probes)})` : backend;
}

/** What a backend says when a step asked for more memory than it could get (wasm heap, WebGL/WebGPU buffers, the JS heap). */
const OUT_OF_MEMORY =
  /out of memory|\bOOM\b|Cannot enlarge memory|Maximum memory size exceeded|Memory\.grow|Array buffer allocation failed|could not allocate|allocation failed|GPUOutOfMemoryError|CONTEXT_LOST_WEBGL|memory access out of bounds|Aborted\(/i;

/**
 * The run's failure in words a user can act on when it was memory: which backend ran out at which batch size,
 * and a smaller batch to try (half, at least 1) — or, at batch 1, to freeze more layers. Null for any other error.
 */
export function outOfMemoryAdvice(message: string, batchSize: number, backend: string | null): string | null {
  if (!OUT_OF_MEMORY.test(message)) return null;
  const on = backend ? ` on ${backend}` : '';
  const next =
    batchSize > 1
      ? `Try batch size ${Math.max(1, Math.floor(batchSize / 2))}, or freeze more layers (frozen layers keep no activations for the backward pass).`
      : 'The batch size is already 1: freeze more layers (frozen layers keep no activations for the backward pass) or use a smaller model.';
  // wasm aborts when its 4 GiB heap is exhausted, and an aborted module cannot run again in the same worker.
  const again = backend === 'wasm' ? ' The wasm backend cannot run again after this: reload the page to go on.' : '';
  return `Out of memory${on} at batch size ${batchSize}: a training step of this plan needs more memory than the browser gave it. ${next}${again}`;
}
