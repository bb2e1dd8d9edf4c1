import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName, BackendPreference } from '../core/types';
import { pointAtBundledWasm } from './wasmAssets';
import { registerWasmGradients } from './wasmKernels';

/** Auto's order of trial at start-up; the run then measures (engine/trainBackend.ts) whether another of those that started is faster. */
export const ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

let wasmPrepared = false;

/**
 * How many threads wasm computes on, from the logical cores: tfjs' own rule is half of them (it assumes two
 * hyperthreads per core), which leaves a 2-core machine on one thread and one core idle while PyTorch uses
 * both. At least 2 where there are 2 cores, half of them above that, at most 4 (tfjs' pool of Web Workers).
 * Measured on a quiet 2-core machine (bench/cpu.html ?threads=1 / 2, MobileNetV2): 2 threads made the
 * forward pass 2.0×, a full fine-tuning step 1.5× and a last-two-blocks step 1.5× faster. On a machine busy
 * with other work, threads that wait for a core are slower than one (the bench records the load average).
 */
export function wasmThreadsFor(logicalCores: number | undefined): number {
  const cores = Math.max(1, Math.floor(logicalCores ?? 1));
  return Math.min(4, cores < 2 ? 1 : Math.max(2, Math.floor(cores / 2)));
}

/**
 * The wasm backend's binaries (bundled, same origin), its thread count and the gradient kernels it lacks; once,
 * before the backend starts. tfjs sizes its pool of Web Workers from half of `navigator.hardwareConcurrency`
 * (emscripten reads it when the module starts), so the pool is given room for the threads asked for.
 */
export function prepareWasm(threads = wasmThreadsFor(globalThis.navigator?.hardwareConcurrency)): void {
  if (wasmPrepared) return;
  wasmPrepared = true;
  pointAtBundledWasm();
  const nav = globalThis.navigator as { hardwareConcurrency?: number } | undefined;
  if (nav && threads > 1 && (nav.hardwareConcurrency ?? 1) < 2 * threads)
    Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  setThreadsCount(threads);
  registerWasmGradients();
}

/** How the wasm backend runs here, for the status line's notes: SIMD, threads, and why not threads. */
export async function wasmDetails(): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const count = threads ? getThreadsCount() : 1;
  const how = threads
    ? `${count} thread${count === 1 ? '' : 's'} (threaded build)`
    : isolated
      ? 'single-threaded'
      : 'single-threaded (the page is not cross-origin isolated: no SharedArrayBuffer)';
  return `wasm: ${simd ? 'SIMD' : 'no SIMD'}, ${how}`;
}

/**
 * Starts the first backend that works, in the order WebGPU, WebGL, wasm, CPU
 * (or the preferred one, then CPU). `tf.setBackend` answers false when a
 * backend cannot start (TFJS-FACTS #10), so each answer is checked. WebGL on
 * a software rasteriser is refused unless `allowSoftwareWebgl` (benchmarks).
 * `notes` says why earlier candidates were passed over, and how wasm runs.
 */
export async function selectBackend(preference: BackendPreference, allowSoftwareWebgl: boolean): Promise<{ backend: BackendName; notes: string[] }> {
  if (allowSoftwareWebgl) tf.env().set('SOFTWARE_WEBGL_ENABLED', true);
  prepareWasm();
  const candidates = preference === 'auto' ? ORDER : [preference, 'cpu' as const];
  const notes: string[] = [];
  for (const name of candidates) {
    if (name === 'webgpu' && !(globalThis.navigator && 'gpu' in globalThis.navigator)) {
      notes.push('webgpu: this browser offers no navigator.gpu');
      continue;
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        if (name === 'wasm') notes.push(await wasmDetails());
        return { backend: name, notes };
      }
      notes.push(`${name}: could not start (no adapter or context)`);
    } catch (error) {
      notes.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new Error(`No tfjs backend could start (${notes.join('; ')}).`);
}
