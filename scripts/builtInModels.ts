/**
 * `npm run models` (also run by postinstall, build, dev, test:unit and bench):
 * writes the built-in MobileNetV2 from the nsfwjs package into
 *
 *   public/models/mobilenet_v2/model.json, weights.bin   tfjs Layers model (uint8-quantized, as shipped)
 *   public/models/mobilenet_v2/NOTICE.txt                 origin and nsfwjs's MIT license
 *   public/models/mobilenet_v2/build-stamp.json           hash of the inputs and of each output
 *
 * The folder is generated, not committed. When the stamp's input hash (nsfwjs
 * files + this converter's source) matches and the outputs still have the
 * hashes it records, nothing is written. Prints one line either way.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  convertNsfwjsMobileNetV2,
  inputsHash,
  locateNsfwjs,
  NSFWJS_FILES,
  NsfwjsSourceError,
  readNsfwjsSources,
  sha256,
  WEIGHTS_FILE,
} from './builtInModelsLib';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const OUT_DIR = join(ROOT, 'public/models/mobilenet_v2');
const STAMP_FILE = 'build-stamp.json';

interface Stamp {
  inputs: string;
  outputs: Record<string, string>;
}

function readStamp(): Stamp | null {
  try {
    return JSON.parse(readFileSync(join(OUT_DIR, STAMP_FILE), 'utf8')) as Stamp;
  } catch {
    return null;
  }
}

/** True when every output the stamp names is on disk with the hash it records. */
function outputsIntact(stamp: Stamp): boolean {
  return Object.entries(stamp.outputs).every(([name, hash]) => {
    const path = join(OUT_DIR, name);
    return existsSync(path) && sha256(readFileSync(path)) === hash;
  });
}

/** Writes via a temporary file and a rename, so an interrupted run never leaves a half-written file behind. */
function writeAtomically(name: string, data: string | Uint8Array): void {
  const path = join(OUT_DIR, name);
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

function main(): string {
  const packageDir = locateNsfwjs(ROOT);
  const converter = [readFileSync(join(HERE, 'builtInModels.ts'), 'utf8'), readFileSync(join(HERE, 'builtInModelsLib.ts'), 'utf8')];
  const fileHashes = Object.values(NSFWJS_FILES).map((path) => ({ path, sha256: sha256(readFileSync(join(packageDir, path))) }));
  const inputs = inputsHash(fileHashes, converter);
  const where = relative(ROOT, OUT_DIR);
  const stamp = readStamp();
  if (stamp?.inputs === inputs && outputsIntact(stamp)) return `models: ${where} is up to date (nsfwjs MobileNetV2, inputs ${inputs.slice(0, 12)})`;

  const started = performance.now();
  const converted = convertNsfwjsMobileNetV2(readNsfwjsSources(packageDir));
  const outputs: Record<string, string | Uint8Array> = {
    'model.json': converted.modelJson,
    [WEIGHTS_FILE]: converted.weights,
    'NOTICE.txt': converted.notice,
  };
  mkdirSync(OUT_DIR, { recursive: true });
  for (const [name, data] of Object.entries(outputs)) writeAtomically(name, data);
  // The stamp goes last: it only vouches for files that were completely written.
  const written: Stamp = { inputs, outputs: Object.fromEntries(Object.entries(outputs).map(([name, data]) => [name, sha256(data)])) };
  writeAtomically(STAMP_FILE, `${JSON.stringify(written, null, 2)}\n`);
  const bytes = converted.weights.byteLength.toLocaleString('en-US');
  return `models: wrote ${where}/model.json + ${WEIGHTS_FILE} (${bytes} bytes) + NOTICE.txt from nsfwjs MobileNetV2 in ${Math.round(performance.now() - started)} ms`;
}

try {
  console.log(main());
} catch (error) {
  if (error instanceof NsfwjsSourceError) {
    console.error(`models: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
