/**
 * The storage part of `npm run bench` (issue 13): bench/storage.html in headless Chromium for each project
 * size — save and reopen times through the studio's own project store, bytes stored per image, what adding
 * 100 images writes, and OPFS beside it — and the table for bench/results.md.
 */
import { chromium } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../playwright.config';
import type { StorageBenchRow } from '../bench/storagePage';

/** The rows measured, and what went wrong in a case (named by its size). */
export interface StorageMeasured {
  rows: StorageBenchRow[];
  errors: string[];
}

/** Runs bench/storage.html?n=… for each of `sizes` (images) on the dev server at `port`, each in a fresh browser (an empty origin). */
export async function benchStorage(port: number, sizes: readonly number[]): Promise<StorageMeasured> {
  const measured: StorageMeasured = { rows: [], errors: [] };
  for (const n of sizes) {
    console.log(`storage: a project of ${n.toLocaleString('en-US')} images of 224×224×3 (headless Chromium)…`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/bench/storage.html?n=${n}`);
      await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true, null, { timeout: 600_000, polling: 500 });
      await page.evaluate(() => (window as unknown as { __go?: () => void }).__go?.());
      await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, null, { timeout: 900_000, polling: 500 });
      const result = await page.evaluate(() => (window as unknown as { __bench: { row?: StorageBenchRow; error?: string } }).__bench);
      if (result.row) measured.rows.push(result.row);
      else measured.errors.push(`storage ${n}: ${result.error ?? 'no result'}`);
    } catch (error) {
      measured.errors.push(`storage ${n}: ${(error as Error).message}`);
    } finally {
      await browser.close();
    }
  }
  return measured;
}

const kb = (bytes: number | null) => (bytes === null ? '–' : `${(bytes / 1024).toFixed(1)} KB`);

/** The storage table: one row per project size. */
export function storageMarkdown(measured: StorageMeasured): string {
  const rows = measured.rows.map((r) => {
    const opfs = r.opfs ? `${r.opfs.writeSeconds.toFixed(1)} s / ${r.opfs.readSeconds.toFixed(1)} s` : '–';
    const add = `${r.add100.written} parts, ${kb(r.add100.writtenBytes)} (the 100 files: ${kb(r.add100.expectedBytes)}), ${r.add100.seconds.toFixed(2)} s`;
    return `| ${r.images.toLocaleString('en-US')} | ${kb(r.fileBytes / r.images)} | ${r.saveSeconds.toFixed(2)} s | ${r.saveLongestTaskMs.toFixed(0)} ms | ${r.reopenSeconds.toFixed(2)} s | ${kb(r.storedBytesPerImage)} | ${add} | ${opfs} |`;
  });
  const errors = measured.errors.map((e) => `\n- ${e}`).join('');
  return `| images | file size (mean) | save | longest main-thread task | reopen (read back) | stored per image | add 100, save again | OPFS write / read |
|---:|---:|---:|---:|---:|---:|---|---:|
${rows.join('\n')}${errors}`;
}
