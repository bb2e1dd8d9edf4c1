/**
 * Node-only access to the committed built-in model and sample (public/), for
 * tests and the benchmark: the same loading code path the worker uses, fed
 * from disk instead of fetch.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packImages } from '../../data/pixels';
import { stratifiedSplit } from '../../data/split';
import type { ImageSet } from '../batches';
import { loadLayersModelFromFiles, loadLayersModelFromFileSet, type LoadedModel } from '../modelFiles';

// import.meta.url, not __dirname: tsx runs the bench as an ES module, where __dirname is undefined.
const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), '../../../public');

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

/** Folder of the generated built-in MobileNetV2 (scripts/builtInModels.ts; not committed). */
export const MOBILENET_V2_DIR = join(PUBLIC, 'models/mobilenet_v2');

/**
 * The generated MobileNetV2 files as a user would pick them: model.json and
 * weights.bin, each `{name, buffer}` read from disk.
 */
export function readMobileNetV2FilesFromDisk(): { name: string; buffer: ArrayBuffer }[] {
  return ['model.json', 'weights.bin'].map((name) => {
    const path = join(MOBILENET_V2_DIR, name);
    if (!existsSync(path)) throw new Error(`'${path}' is missing: it is generated from the nsfwjs package. Run 'npm run models' first.`);
    const bytes = readFileSync(path);
    return { name, buffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
  });
}

/** Loads the generated MobileNetV2 through loadLayersModelFromFileSet, the path a user's picked files take. */
export function loadMobileNetV2FromDisk(): Promise<LoadedModel> {
  return loadLayersModelFromFileSet(readMobileNetV2FilesFromDisk());
}

/** The built-in sample split as the studio splits it (stratified, seeded): 28×28×1 train and validation sets. */
export function splitSampleFromDisk(validationFraction: number, seed: number): { train: ImageSet; validation: ImageSet } {
  const sample = loadSampleFromDisk();
  const split = stratifiedSplit(sample.labels, { validationFraction, seed });
  const shape = { height: 28, width: 28, channels: 1 } as const;
  const size = shape.height * shape.width;
  const gather = (indices: Int32Array): ImageSet => ({
    pixels: packImages(
      Array.from(indices, (i) => sample.pixels.subarray(i * size, (i + 1) * size)),
      shape,
    ),
    labels: Int32Array.from(indices, (i) => sample.labels[i]),
    shape,
  });
  return { train: gather(split.train), validation: gather(split.validation) };
}
