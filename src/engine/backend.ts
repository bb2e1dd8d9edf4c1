import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName, BackendPreference } from '../core/types';
import { pointAtBundledWasm } from './wasmAssets';
import { registerWasmGradients } from './wasmKernels';

/** Auto's order of trial at start-up; the run then measures (engine/trainBackend.ts) whether another of those that started is faster. */
export const ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

let wasmPrepared = false;

/** The wasm backend's binaries (bundled, same origin) and the gradient kernels it lacks; once. */
export function prepareWasm(): void {
  if (wasmPrepared) return;
  wasmPrepared = true;
  pointAtBundledWasm();
  // Threads: tfjs' own count, half of navigator.hardwareConcurrency (it assumes two hyperthreads per core), so one
  // thread on a 2-core machine. Showing it the doubled count gave 2 threads that were 1.5–3× slower on this shared
  // 2-core machine (measured with bench/cpu.html), so the default stands.
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
