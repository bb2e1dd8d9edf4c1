import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { zipSync } from 'fflate';
import { makePng } from './fixtures';

/** pets.zip: two classes of 3 PNGs, plus an entry escaping the archive and a bomb-like entry (3 MiB of zeros). */
function writePetsZip(): string {
  const entries: Record<string, Uint8Array> = {};
  for (const [cls, base] of [
    ['cat', 0],
    ['dog', 20],
  ] as const) {
    for (let i = 0; i < 3; i++) entries[`pets/${cls}/${i}.png`] = makePng(24, base + i);
  }
  entries['../evil.png'] = makePng(24, 40);
  entries['pets/dog/zeros.png'] = new Uint8Array(3 * 1024 * 1024);
  const path = join(mkdtempSync(join(tmpdir(), 'studio-zip-')), 'pets.zip');
  writeFileSync(path, zipSync(entries, { level: 9 }));
  return path;
}

test('a .zip of class folders is unpacked in the browser; an escaping path and a bomb-like entry are named and skipped', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');
  await page.getByLabel('Add zip').setInputFiles(writePetsZip());
  await expect(page.getByTestId('image-count')).toHaveText('6 images');
  const classes = page.getByRole('list', { name: 'Classes' }).getByRole('listitem', { name: /^Class / });
  await expect(classes).toHaveCount(2);
  await expect(classes.first()).toHaveAccessibleName('Class cat: 3 images');
  const rejected = page.getByRole('region', { name: 'Rejected files' });
  await expect(rejected).toContainText("'../evil.png' in 'pets.zip' has a path that points outside the archive; it was not unpacked.");
  await expect(rejected).toContainText(/'pets\/dog\/zeros\.png' in 'pets\.zip' is compressed [\d,]+:1 .* so it looks like a zip bomb; it was not unpacked\./);
});
