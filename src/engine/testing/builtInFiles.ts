/**
 * Node-only access to the committed built-in model and sample (public/), for
 * tests and the benchmark: the same loading code path the worker uses, fed
 * from disk instead of fetch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageSet } from '../batches';
import { loadLayersModelFromFiles, type LoadedModel } from '../modelFiles';

const PUBLIC = join(__dirname, '../../../public');

/** Loads public/models/digits through loadLayersModelFromFiles. */
export function loadBuiltInModelFromDisk(): Promise<LoadedModel> {
  const dir = join(PUBLIC, 'models/digits');
  return loadLayersModelFromFiles('model.json', readFileSync(join(dir, 'model.json'), 'utf8'), async (path) => {
    const bytes = readFileSync(join(dir, path));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  });
}

/** The built-in sample (public/sample/digits-5-9.*) as one image set with its class names. */
export function loadSampleFromDisk(): ImageSet & { classNames: string[] } {
  const manifest = JSON.parse(readFileSync(join(PUBLIC, 'sample/digits-5-9.json'), 'utf8')) as {
    labels: number[];
    classNames: string[];
    height: number;
    width: number;
    channels: number;
  };
  return {
    pixels: new Uint8Array(readFileSync(join(PUBLIC, 'sample/digits-5-9.bin'))),
    labels: Int32Array.from(manifest.labels),
    shape: { height: manifest.height, width: manifest.width, channels: manifest.channels },
    classNames: manifest.classNames,
  };
}
