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
