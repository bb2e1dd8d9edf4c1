/**
 * Browser half of the storage bench (for `npm run bench`): `bench/storage.html?n=1000` generates `n`
 * distinct 224×224×3 image files in the page (JPEG, one in four PNG, from 24 drawn templates each made
 * distinct by a comment), hashes them as the ingest does, and, when Node calls `window.__go()`, measures
 * the studio's own project store (app/projectStore) in a fresh database:
 * - save: `saveStoredProject` of a project holding the n images (every part new), seconds, and the longest
 *   main-thread task meanwhile (the Long Tasks API);
 * - reopen: `loadStoredProject` (manifest checked, every part read back at its size), seconds;
 * - bytes stored per image: the growth of `navigator.storage.estimate().usage` over the save, divided by n;
 * - add 100: 100 more images, saved again: the parts and bytes that save wrote (should be about 100 images' worth);
 * - OPFS: the same n files written to and read back from the Origin Private File System (main thread,
 *   `createWritable`), for the IndexedDB-or-OPFS question (null where OPFS is missing).
 * It leaves `{ row }` (a StorageBenchRow) or `{ error }` on `window.__bench`.
 */
import { snapshotOfStudio } from '../src/app/projectFile';
import { loadStoredProject, saveStoredProject, type PartSource } from '../src/app/projectStore';
import { createRandom } from '../src/core/random';
import { createStudioStore } from '../src/store/store';
import { describedModel, layerRow } from '../src/store/testing/modelDescription';

/** What one storage case measured. */
export interface StorageBenchRow {
  images: number;
  /** Bytes of the generated files (what a project must keep of them). */
  fileBytes: number;
  saveSeconds: number;
  /** The longest main-thread task during the first save (ms, from the Long Tasks API: tasks over 50 ms; 0 when none). */
  saveLongestTaskMs: number;
  reopenSeconds: number;
  /** Growth of the origin's usage over the first save, per image (bytes); null where estimate() is missing. */
  storedBytesPerImage: number | null;
  /** The second save, after adding 100 images: parts written, their bytes, the 100 files' bytes, seconds. */
  add100: { written: number; writtenBytes: number; expectedBytes: number; seconds: number };
  /** The same files through OPFS (write all, then read all back), seconds; null where OPFS is missing. */
  opfs: { writeSeconds: number; readSeconds: number } | null;
}

const params = new URLSearchParams(location.search);
const N = Number(params.get('n') ?? 1000);
const SIZE = 224;
const target = window as unknown as { __bench?: unknown; __ready?: boolean; __go?: () => void };
const out = document.getElementById('out')!;

async function drawTemplate(seed: number, type: 'image/jpeg' | 'image/png'): Promise<Uint8Array> {
  const rnd = createRandom(seed);
  const canvas = new OffscreenCanvas(SIZE, SIZE);
  const g = canvas.getContext('2d')!;
  g.fillStyle = `hsl(${rnd() * 360} 55% 50%)`;
  g.fillRect(0, 0, SIZE, SIZE);
  for (let i = 0; i < 24; i++) {
    g.fillStyle = `hsl(${rnd() * 360} ${40 + rnd() * 50}% ${20 + rnd() * 60}% / ${0.3 + rnd() * 0.7})`;
    g.beginPath();
    g.arc(rnd() * SIZE, rnd() * SIZE, (0.05 + rnd() * 0.2) * SIZE, 0, Math.PI * 2);
    g.fill();
  }
  return new Uint8Array(await (await canvas.convertToBlob({ type, quality: 0.8 })).arrayBuffer());
}

/** The template with a comment naming file `i` after its signature: a JPEG COM segment (a PNG gets the same bytes as trailing data after IEND, which decoders ignore). */
function unique(template: Uint8Array, type: 'image/jpeg' | 'image/png', i: number): Uint8Array {
  const text = new TextEncoder().encode(`bench file ${i}`);
  if (type === 'image/png') {
    const bytes = new Uint8Array(template.length + text.length);
    bytes.set(template);
    bytes.set(text, template.length);
    return bytes;
  }
  const bytes = new Uint8Array(template.length + 4 + text.length);
  bytes.set(template.subarray(0, 2));
  bytes.set([0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 0xff], 2);
  bytes.set(text, 6);
  bytes.set(template.subarray(2), 6 + text.length);
  return bytes;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

interface BenchFile {
  path: string;
  className: string;
  blob: Blob;
  hash: string;
}

async function generate(count: number, offset: number): Promise<BenchFile[]> {
  const templates: { bytes: Uint8Array; type: 'image/jpeg' | 'image/png' }[] = [];
  for (let t = 0; t < 24; t++) {
    const type = t % 4 === 3 ? 'image/png' : 'image/jpeg';
    templates.push({ bytes: await drawTemplate(t + 1, type), type });
  }
  const files: BenchFile[] = [];
  for (let i = offset; i < offset + count; i++) {
    const { bytes: template, type } = templates[i % templates.length];
    const bytes = unique(template, type, i);
    const className = `class${i % 10}`;
    files.push({
      path: `bench/${className}/img${i}.${type === 'image/png' ? 'png' : 'jpg'}`,
      className,
      blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type }),
      hash: await sha256Hex(bytes),
    });
  }
  return files;
}

const model = describedModel('bench', [layerRow('gap', 'GlobalAveragePooling2D', [8])], { inputShape: { height: SIZE, width: SIZE, channels: 3 } });

/** Saves a project of `files` as project 'bench' the way the autosave does (content keys from the ingest's hashes); its outcome and seconds. */
async function saveProject(files: BenchFile[], dbName: string, onStart: () => void = () => undefined) {
  const store = createStudioStore();
  store.getState().modelLoaded(model, {}, { kind: 'builtin', id: 'bench', label: 'Bench' });
  const pixels = new Uint8Array(3);
  store.getState().addUserImages(
    'bench',
    files.map((f) => ({ path: f.path, className: f.className, pixels, source: f.blob, hash: f.hash })),
    [],
    [],
  );
  // Let the store's own work settle, so what is timed (and watched for long tasks) is the save.
  await new Promise((resolve) => setTimeout(resolve, 100));
  onStart();
  const started = performance.now();
  const { snapshot, files: blobs } = await snapshotOfStudio(store.getState(), { readFiles: false });
  const keyOf = new Map(files.map((f) => [f.blob, `sha256:${f.hash}`]));
  const sources = new Map<string, PartSource>();
  for (const [part, blob] of blobs) sources.set(part, { key: keyOf.get(blob)!, read: async () => blob });
  const outcome = await saveStoredProject('bench', snapshot, sources, { dbName });
  if (!outcome.ok) throw new Error(`save failed: ${outcome.message}`);
  return { outcome, seconds: (performance.now() - started) / 1000 };
}

async function usage(): Promise<number | null> {
  return navigator.storage?.estimate ? ((await navigator.storage.estimate()).usage ?? null) : null;
}

async function opfs(files: BenchFile[]): Promise<StorageBenchRow['opfs']> {
  if (!navigator.storage?.getDirectory) return null;
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(`bench-${Date.now()}`, { create: true });
  let started = performance.now();
  for (const [i, file] of files.entries()) {
    const writable = await (await dir.getFileHandle(`f${i}`, { create: true })).createWritable();
    await writable.write(file.blob);
    await writable.close();
  }
  const writeSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  let total = 0;
  for (let i = 0; i < files.length; i++) total += (await (await (await dir.getFileHandle(`f${i}`)).getFile()).arrayBuffer()).byteLength;
  const readSeconds = (performance.now() - started) / 1000;
  if (total === 0) throw new Error('OPFS read back nothing');
  await root.removeEntry(dir.name, { recursive: true });
  return { writeSeconds, readSeconds };
}

async function run(files: BenchFile[], more: BenchFile[]): Promise<StorageBenchRow> {
  const dbName = `storage-bench-${N}-${Date.now()}`;
  const before = await usage();
  out.textContent = 'saving';
  let longest = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longest = Math.max(longest, entry.duration);
  });
  const first = await saveProject(files, dbName, () => observer.observe({ type: 'longtask', buffered: false }));
  observer.disconnect();
  const after = await usage();
  out.textContent = 'reopening';
  const started = performance.now();
  const loaded = await loadStoredProject('bench', dbName);
  const reopenSeconds = (performance.now() - started) / 1000;
  if (loaded.kind !== 'project' || loaded.parts.size !== N)
    throw new Error(`reopen found ${loaded.kind === 'project' ? loaded.parts.size : loaded.kind} parts`);
  out.textContent = 'adding 100';
  const second = await saveProject([...files, ...more], dbName);
  out.textContent = 'OPFS';
  const opfsRow = await opfs(files);
  indexedDB.deleteDatabase(dbName);
  return {
    images: N,
    fileBytes: files.reduce((sum, f) => sum + f.blob.size, 0),
    saveSeconds: first.seconds,
    saveLongestTaskMs: longest,
    reopenSeconds,
    storedBytesPerImage: before !== null && after !== null ? (after - before) / N : null,
    add100: {
      written: second.outcome.written,
      writtenBytes: second.outcome.writtenBytes,
      expectedBytes: more.reduce((sum, f) => sum + f.blob.size, 0),
      seconds: second.seconds,
    },
    opfs: opfsRow,
  };
}

Promise.all([generate(N, 0), generate(100, N)])
  .then(([files, more]) => {
    out.textContent = `generated ${files.length} + ${more.length} files`;
    target.__go = () => {
      run(files, more).then(
        (row) => {
          target.__bench = { row };
          out.textContent = JSON.stringify(row);
        },
        (error: Error) => (target.__bench = { error: error.stack ?? error.message }),
      );
    };
    target.__ready = true;
  })
  .catch((error: Error) => (target.__bench = { error: error.stack ?? error.message }));
