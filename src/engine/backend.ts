import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { BackendName, BackendPreference } from '../core/types';

const ORDER: BackendName[] = ['webgpu', 'webgl', 'cpu'];

/**
 * Starts the first backend that works, in the order WebGPU, WebGL, CPU
 * (or the preferred one, then CPU). `tf.setBackend` answers false when a
 * backend cannot start (TFJS-FACTS #10), so each answer is checked. WebGL on
 * a software rasteriser is refused unless `allowSoftwareWebgl` (benchmarks).
 * `notes` says why earlier candidates were passed over.
 */
export async function selectBackend(preference: BackendPreference, allowSoftwareWebgl: boolean): Promise<{ backend: BackendName; notes: string[] }> {
  if (allowSoftwareWebgl) tf.env().set('SOFTWARE_WEBGL_ENABLED', true);
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
        return { backend: name, notes };
      }
      notes.push(`${name}: could not start (no adapter or context)`);
    } catch (error) {
      notes.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new Error(`No tfjs backend could start (${notes.join('; ')}).`);
}
