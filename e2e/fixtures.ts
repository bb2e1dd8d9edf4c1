import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';

/** A `size`×`size` grey PNG with a bright square whose position depends on `variant`. */
export function makePng(size: number, variant: number): Buffer {
  const png = new PNG({ width: size, height: size });
  const offset = (variant * 5) % Math.max(1, size - 8);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const inside = x >= offset && x < offset + 8 && y >= offset && y < offset + 8;
      const v = inside ? 230 : 10 + ((x * 7 + y * 13 + variant) % 20);
      png.data[i] = v;
      png.data[i + 1] = v;
      png.data[i + 2] = v;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** One file to write under a fixture folder, and what the studio must do with it. */
export interface FixtureFile {
  path: string;
  bytes: Buffer | string;
  /** undefined: accepted; otherwise a phrase the rejection reason must contain. */
  rejectedBecause?: RegExp;
}

/**
 * A dropped folder 'shapes/' with two good classes and one bad file of each
 * kind, written to a fresh temporary directory. Returns the folder's path
 * and the manifest of what each file must produce.
 */
export function writeMixedFolder(): { dir: string; files: FixtureFile[]; goodCount: number } {
  const root = mkdtempSync(join(tmpdir(), 'studio-e2e-'));
  const good = (cls: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ path: `shapes/${cls}/img${i}.png`, bytes: makePng(20 + i, i + (cls === 'circle' ? 0 : 3)) }));
  const truncated = makePng(24, 1).subarray(0, 60);
  // A real PNG whose header claims 12,000×9,000 pixels: refused from its header, never decoded.
  const huge = Buffer.from(makePng(16, 2));
  huge.writeUInt32BE(12_000, 16);
  huge.writeUInt32BE(9_000, 20);
  const files: FixtureFile[] = [
    ...good('circle', 4),
    ...good('square', 4),
    { path: 'shapes/circle/notes.png', bytes: 'These are my notes, not a picture.\n', rejectedBecause: /not an image \(it starts like a text file\)/ },
    { path: 'shapes/square/broken.png', bytes: truncated, rejectedBecause: /could not be decoded/ },
    { path: 'shapes/square/empty.png', bytes: '', rejectedBecause: /empty/ },
    { path: 'shapes/square/logo.svg', bytes: '<svg xmlns="http://www.w3.org/2000/svg"><script>window.__pwned = true</script></svg>', rejectedBecause: /SVG/ },
    { path: 'shapes/readme.png', bytes: makePng(20, 9), rejectedBecause: /beside the class folders/ },
    { path: 'shapes/square/copy-of-circle.png', bytes: makePng(20, 0), rejectedBecause: /has the same content as 'shapes\/circle\/img0\.png', which was kept/ },
    { path: 'shapes/square/poster.png', bytes: huge, rejectedBecause: /12,000×9,000 \(108\.0 megapixels\), over the 50-megapixel budget; it was not decoded/ },
    // The type comes from the bytes, not the name: a PNG called .jpg is taken.
    { path: 'shapes/circle/actually-png.jpg', bytes: makePng(22, 7) },
  ];
  for (const file of files) {
    const full = join(root, file.path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, file.bytes);
  }
  return { dir: join(root, 'shapes'), files, goodCount: files.filter((f) => !f.rejectedBecause).length };
}

/** A folder 'lonely/' holding a single class 'only' of `n` images. */
export function writeSingleClassFolder(n = 3): string {
  const root = mkdtempSync(join(tmpdir(), 'studio-e2e-'));
  mkdirSync(join(root, 'lonely', 'only'), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(root, 'lonely', 'only', `x${i}.png`), makePng(16, i));
  return join(root, 'lonely');
}
