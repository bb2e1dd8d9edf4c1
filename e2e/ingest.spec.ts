import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { makePng } from './fixtures';
import { openStudio } from './studio';

/** Temporary folders this file wrote (the large one is about 270 MB), removed after the tests. */
const written: string[] = [];
function tempRoot(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  written.push(root);
  return root;
}
test.afterAll(() => {
  for (const root of written.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A folder `name/` with `perClass` PNGs of mixed sizes (12–90 px) in each of `classes`. */
function writeMixedSizes(name: string, classes: string[], perClass: number): string {
  const root = tempRoot('studio-ingest-');
  classes.forEach((cls, c) => {
    mkdirSync(join(root, name, cls), { recursive: true });
    for (let i = 0; i < perClass; i++) writeFileSync(join(root, name, cls, `img${i}.png`), makePng(12 + ((i * 13 + c * 7) % 79), i + c * 100));
  });
  return join(root, name);
}

/** `png` with a tEXt chunk inserted after IHDR, so every copy has its own bytes (no duplicates) but decodes the same. */
function withText(png: Buffer, text: string): Buffer {
  const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from(`Comment\0${text}`, 'latin1')]);
  const chunk = Buffer.alloc(body.length + 8);
  chunk.writeUInt32BE(body.length - 4, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body) >>> 0, body.length + 4);
  const ihdrEnd = 8 + 8 + 13 + 4;
  return Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}

/** A folder 'big/' of `n` distinct 1000×800 photos-like PNGs in two classes (encoded once, made distinct by a text chunk). */
function writeBigFolder(n: number): string {
  const width = 1000;
  const height = 800;
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      png.data[i] = (x * 3 + y) & 255;
      png.data[i + 1] = (x ^ y) & 255;
      png.data[i + 2] = (y * 5) & 255;
      png.data[i + 3] = 255;
    }
  }
  const bytes = PNG.sync.write(png);
  const root = tempRoot('studio-big-');
  for (const cls of ['a', 'b']) mkdirSync(join(root, 'big', cls), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(root, 'big', i % 2 ? 'b' : 'a', `p${i}.png`), withText(bytes, `copy ${i}`));
  return join(root, 'big');
}

test('a folder of 60 mixed-size PNGs: progress with a count, then every image counted and shown in the grid', async ({ page }) => {
  await openStudio(page);
  await page.getByLabel('Add folder').setInputFiles(writeMixedSizes('mixed', ['cats', 'dogs', 'owls'], 20));
  await expect(page.getByTestId('image-count')).toHaveText('60 images');
  await expect(page.getByRole('progressbar', { name: 'Adding images' })).toHaveCount(0);
  const classes = page.getByRole('list', { name: 'Classes' });
  await expect(classes.getByRole('listitem').filter({ hasText: 'owls' }).first()).toBeVisible();
  const grid = page.getByRole('list', { name: 'Images of class cats' });
  await expect(grid.getByRole('img', { name: 'mixed/cats/img0.png' })).toBeVisible();
  // Digits model: 28×28 grey thumbnails.
  expect(await grid.getByRole('img').first().getAttribute('width')).toBe('28');
  await expect(page.getByRole('button', { name: 'Train' })).toBeEnabled();
});

test('a class of 600 images scrolls in a virtualised grid: only the rows in view are drawn', async ({ page }) => {
  await openStudio(page);
  const root = tempRoot('studio-virt-');
  for (const cls of ['many', 'few']) mkdirSync(join(root, 'virt', cls), { recursive: true });
  const tiny = makePng(16, 1);
  for (let i = 0; i < 600; i++) writeFileSync(join(root, 'virt', 'many', `img${i}.png`), withText(tiny, `copy ${i}`));
  for (let i = 0; i < 3; i++) writeFileSync(join(root, 'virt', 'few', `img${i}.png`), makePng(16, i + 7));
  await page.getByLabel('Add folder').setInputFiles(join(root, 'virt'));
  await expect(page.getByTestId('image-count')).toHaveText('603 images');
  const grid = page.getByRole('list', { name: 'Images of class many' });
  const first = grid.getByRole('listitem').first();
  await expect(first).toHaveAttribute('aria-posinset', '1');
  await expect(first).toHaveAttribute('aria-setsize', '600');
  const firstName = (await first.getByRole('img').getAttribute('aria-label'))!;
  expect(firstName).toMatch(/^virt\/many\/img\d+\.png$/);
  const drawn = await grid.getByRole('img').count();
  expect(drawn).toBeGreaterThan(8);
  expect(drawn).toBeLessThan(200);
  const last = grid.locator('[aria-posinset="600"]');
  await expect(last).toHaveCount(0);
  await grid.evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
  await expect(last.getByRole('img')).toBeVisible();
  await expect(grid.getByRole('img', { name: firstName, exact: true })).toHaveCount(0);
  expect(await grid.getByRole('img').count()).toBeLessThan(200);
  // Each thumbnail can be removed by name.
  const lastName = (await last.getByRole('img').getAttribute('aria-label'))!;
  await expect(last.getByRole('button', { name: `Remove ${lastName}`, exact: true })).toHaveCount(1);
});

test('Cancel stops a large folder mid-way and keeps the images decoded so far', async ({ page }) => {
  test.setTimeout(240_000);
  await openStudio(page);
  const total = 400;
  const big = writeBigFolder(total);
  await page.getByLabel('Add folder').setInputFiles(big);
  const bar = page.getByRole('progressbar', { name: 'Adding images' });
  await expect(bar).toBeVisible();
  await expect(page.getByTestId('ingest-count')).toContainText(`of ${total} files`);
  // Wait for some progress and a rate, then cancel.
  await expect(page.getByTestId('ingest-rate')).toHaveText(/\d images\/s/);
  await page.getByRole('button', { name: 'Cancel adding images' }).click();
  await expect(bar).toHaveCount(0);
  const notice = page.getByRole('list', { name: 'Dataset problems' }).getByText(/^Cancelled after/);
  await expect(notice).toBeVisible();
  const match = /Cancelled after ([\d,]+) of ([\d,]+) files; the ([\d,]+) images? decoded so far (?:was|were) added/.exec((await notice.textContent())!);
  expect(match).not.toBeNull();
  const [done, of, kept] = match!.slice(1).map((s) => Number(s.replace(/,/g, '')));
  expect(of).toBe(total);
  expect(done).toBeLessThan(total);
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThanOrEqual(done);
  await expect(page.getByTestId('image-count')).toHaveText(`${kept} images`);

  // "Add the folder again for the rest": the rest is added, the kept ones are named as duplicates, none twice.
  await page.getByLabel('Add folder').setInputFiles(big);
  await expect(page.getByTestId('image-count')).toHaveText(`${total} images`, { timeout: 120_000 });
  const rejected = page.getByRole('region', { name: 'Rejected files' });
  await expect(rejected.getByRole('listitem').filter({ hasText: 'has the same content as' })).toHaveCount(kept);
});

test('switching the model re-derives the user images from their files: 224×224 thumbnails, Train not blocked', async ({ page }) => {
  test.setTimeout(240_000);
  await openStudio(page);
  await page.getByLabel('Add folder').setInputFiles(writeMixedSizes('pets', ['cat', 'dog'], 12));
  await expect(page.getByTestId('image-count')).toHaveText('24 images');
  const grid = page.getByRole('list', { name: 'Images of class cat' });
  expect(await grid.getByRole('img').first().getAttribute('width')).toBe('28');

  await page.getByLabel('Model', { exact: true }).selectOption({ label: 'MobileNetV2 (built-in)' });
  await expect(grid.getByRole('img').first()).toHaveAttribute('width', '224', { timeout: 120_000 });
  await expect(page.getByTestId('image-count')).toHaveText('24 images');
  await expect(grid.getByRole('img', { name: 'pets/cat/img0.png' })).toBeVisible();
  await expect(page.getByRole('progressbar', { name: 'Re-deriving images' })).toHaveCount(0);
  await expect(page.getByText(/The images were decoded for/)).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Train' })).toBeEnabled({ timeout: 60_000 });
});
