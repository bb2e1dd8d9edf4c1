/**
 * Where the browser finds tfjs' WebAssembly binaries: Vite copies the three
 * files from the installed package into the build (hashed names, same origin)
 * and hands their URLs here, so the wasm backend never reaches the network.
 * Browser only (the `?url` imports are Vite's); Node uses testing/wasmNode.ts.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The binaries by the names tfjs asks for. */
export const WASM_FILES = {
  'tfjs-backend-wasm.wasm': plain,
  'tfjs-backend-wasm-simd.wasm': simd,
  'tfjs-backend-wasm-threaded-simd.wasm': threadedSimd,
} as const;

/** Points the wasm backend at the bundled binaries; call before `tf.setBackend('wasm')`. */
export function pointAtBundledWasm(): void {
  setWasmPaths(WASM_FILES);
}
