/**
 * Browser half of the ingest part of `npm run bench`. `?n=1000&h=28&w=28&c=1` generates `n`
 * image files of mixed sizes in the page (JPEG and PNG from OffscreenCanvas.convertToBlob; a
 * few at 4000×3000), then, when Node calls `window.__go()`, runs the studio's own ingest path
 * — `ingestFiles` with the decode pool's workers — at that input shape, and leaves
 * `{ row }` on `window.__bench`. Node samples the renderer's memory meanwhile.
 *
 * Files are made from 48 drawn templates (plus the large one); each file gets its own
 * comment (a JPEG COM segment or a PNG tEXt chunk), so its bytes and hash are its own and
 * nothing is skipped as a duplicate, while generating 10,000 files stays fast. A file is a
 * Blob made of slices of its template's Blob around the comment, so the browser keeps each
 * template's bytes once (like files on disk, which are not in memory either) instead of
 * 10,000 copies that would overrun its blob storage.
 */
import { createDecodePool } from '../src/app/decodePool';
import { ingestFiles } from '../src/data/ingest';
import type { ImageShape } from '../src/data/types';
import { createRandom } from '../src/core/random';

/** What one ingest case measured. */
export interface IngestBenchRow {
  files: number;
  shape: string;
  workers: number;
  /** Bytes of the generated files. */
  fileBytes: number;
  largest: string;
  bigFiles: number;
  images: number;
  rejected: number;
  seconds: number;
  imagesPerSecond: number;
  /** Sum of the decoded images' pixel buffers (uint8): N × H × W × C. */
  pixelBytes: number;
  /** `performance.memory.usedJSHeapSize` before the ingest and its peak during it (bytes; --enable-precise-memory-info). */
  heapBefore: number;
  heapPeak: number;
  firstRejection?: string;
}

const params = new URLSearchParams(location.search);
const N = Number(params.get('n') ?? 1000);
const SHAPE: ImageShape = { height: Number(params.get('h') ?? 28), width: Number(params.get('w') ?? 28), channels: Number(params.get('c') ?? 1) === 3 ? 3 : 1 };
/** One file in this many is a 4000×3000 JPEG. */
const BIG_EVERY = 500;
/** JPEG sizes (photos); PNGs are the small ones (drawings compress poorly as PNG, and Chromium keeps the files in memory). */
const JPEG_SIZES: [number, number][] = [
  [320, 240],
  [640, 480],
  [800, 600],
  [1024, 768],
  [480, 640],
  [1280, 960],
  [1600, 1200],
  [720, 540],
  [600, 800],
];
const PNG_SIZES: [number, number][] = [
  [160, 120],
  [256, 256],
  [320, 240],
  [200, 300],
];
const target = window as unknown as { __bench?: unknown; __ready?: boolean; __go?: () => void };
const out = document.getElementById('out')!;

function heapUsed(): number {
  return (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
}

async function drawTemplate(width: number, height: number, seed: number, type: 'image/jpeg' | 'image/png'): Promise<Blob> {
  const rnd = createRandom(seed);
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d')!;
  const gradient = g.createLinearGradient(0, 0, width, height);
  gradient.addColorStop(0, `hsl(${rnd() * 360} 60% 60%)`);
  gradient.addColorStop(1, `hsl(${rnd() * 360} 50% 30%)`);
  g.fillStyle = gradient;
  g.fillRect(0, 0, width, height);
  for (let i = 0; i < 30; i++) {
    g.fillStyle = `hsl(${rnd() * 360} ${40 + rnd() * 50}% ${20 + rnd() * 60}% / ${0.3 + rnd() * 0.7})`;
    g.beginPath();
    g.arc(rnd() * width, rnd() * height, (0.02 + rnd() * 0.15) * Math.min(width, height), 0, Math.PI * 2);
    g.fill();
  }
  return canvas.convertToBlob({ type, quality: 0.75 });
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The template with a comment naming file `i`: a COM segment after a JPEG's SOI, or a tEXt chunk after a PNG's IHDR. */
function unique(template: Blob, type: 'image/jpeg' | 'image/png', i: number): Blob {
  const text = new TextEncoder().encode(`bench file ${i}`);
  if (type === 'image/jpeg') {
    const segment = new Uint8Array(4 + text.length);
    segment.set([0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 0xff]);
    segment.set(text, 4);
    return new Blob([template.slice(0, 2), segment, template.slice(2)], { type });
  }
  const body = new Uint8Array(4 + 8 + text.length);
  body.set(new TextEncoder().encode('tEXtComment'), 0);
  body[11] = 0;
  body.set(text, 12);
  const chunk = new Uint8Array(body.length + 8);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, body.length - 4);
  chunk.set(body, 4);
  view.setUint32(body.length + 4, crc32(body));
  const ihdrEnd = 8 + 8 + 13 + 4;
  return new Blob([template.slice(0, ihdrEnd), chunk, template.slice(ihdrEnd)], { type });
}

async function generate(): Promise<{ files: { path: string; blob: Blob }[]; bytes: number; big: number }> {
  const templates: { bytes: Blob; type: 'image/jpeg' | 'image/png' }[] = [];
  for (let t = 0; t < 48; t++) {
    const type = t % 4 === 3 ? 'image/png' : 'image/jpeg';
    const [width, height] = type === 'image/png' ? PNG_SIZES[(t >> 2) % PNG_SIZES.length] : JPEG_SIZES[t % JPEG_SIZES.length];
    templates.push({ bytes: await drawTemplate(width, height, t + 1, type), type });
  }
  const big = { bytes: await drawTemplate(4000, 3000, 999, 'image/jpeg'), type: 'image/jpeg' as const };
  const files: { path: string; blob: Blob }[] = [];
  let bytes = 0;
  let bigCount = 0;
  for (let i = 0; i < N; i++) {
    const isBig = i % BIG_EVERY === BIG_EVERY - 1;
    const template = isBig ? big : templates[i % templates.length];
    if (isBig) bigCount++;
    const blob = unique(template.bytes, template.type, i);
    bytes += blob.size;
    files.push({ path: `bench/class${i % 10}/img${i}.${template.type === 'image/png' ? 'png' : 'jpg'}`, blob });
  }
  return { files, bytes, big: bigCount };
}

async function run(files: { path: string; blob: Blob }[], fileBytes: number, big: number): Promise<IngestBenchRow> {
  const heapBefore = heapUsed();
  let heapPeak = heapBefore;
  const pool = createDecodePool();
  const started = performance.now();
  const result = await ingestFiles(files, SHAPE, pool.decoder('stretch'), (done, total) => {
    if (done % 50 === 0 || done === total) {
      heapPeak = Math.max(heapPeak, heapUsed());
      out.textContent = `${done} of ${total}`;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  pool.close();
  heapPeak = Math.max(heapPeak, heapUsed());
  const pixelBytes = result.images.reduce((sum, image) => sum + image.pixels.byteLength, 0);
  // Keep the result alive until Node has taken its last memory sample.
  (window as unknown as { __keep?: unknown }).__keep = result;
  return {
    files: N,
    shape: `${SHAPE.height}×${SHAPE.width}×${SHAPE.channels}`,
    workers: pool.size,
    fileBytes,
    largest: '4000×3000',
    bigFiles: big,
    images: result.images.length,
    rejected: result.rejected.length,
    seconds,
    imagesPerSecond: result.images.length / seconds,
    pixelBytes,
    heapBefore,
    heapPeak,
    firstRejection: result.rejected[0] ? `${result.rejected[0].path}: ${result.rejected[0].reason}` : undefined,
  };
}

generate()
  .then(({ files, bytes, big }) => {
    out.textContent = `generated ${files.length} files`;
    target.__go = () => {
      run(files, bytes, big).then(
        (row) => (target.__bench = { row }),
        (error: Error) => (target.__bench = { error: error.stack ?? error.message }),
      );
    };
    target.__ready = true;
  })
  .catch((error: Error) => (target.__bench = { error: error.stack ?? error.message }));
