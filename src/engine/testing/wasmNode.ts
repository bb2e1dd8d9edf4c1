/**
 * The wasm backend in Node (Vitest, the benchmark): its .wasm files are read
 * from the installed package (no network), and the studio's gradient kernels
 * are registered as the worker registers them.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradients } from '../wasmKernels';

let ready: Promise<void> | null = null;

/** Makes the wasm backend usable in Node (once) and returns with the previously active backend still active. */
export function prepareWasmInNode(): Promise<void> {
  ready ??= (async () => {
    const pkg = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    setWasmPaths(`${join(pkg, 'dist')}/`);
    registerWasmGradients();
    const before = tf.getBackend();
    if (!(await tf.setBackend('wasm'))) throw new Error('The wasm backend did not start in Node.');
    if (before) await tf.setBackend(before);
  })();
  return ready;
}
