import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { makePng } from './fixtures';

/** Temporary folders written by writeShapes, removed by removeWrittenShapes (call it in afterAll). */
const written: string[] = [];

/** Removes every folder writeShapes wrote. */
export function removeWrittenShapes(): void {
  for (const root of written.splice(0)) rmSync(root, { recursive: true, force: true });
}

/** `shapes/circle` and `shapes/square`, four small PNGs each, in a fresh temporary folder. */
export function writeShapes(): string {
  const root = mkdtempSync(join(tmpdir(), 'studio-project-'));
  written.push(root);
  for (const [c, cls] of ['circle', 'square'].entries()) {
    mkdirSync(join(root, 'shapes', cls), { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(root, 'shapes', cls, `img${i}.png`), makePng(20 + i, i + c * 3));
  }
  return join(root, 'shapes');
}

/** The rows of Compare runs (one per recorded run). */
export const runRows = (page: Page) =>
  page
    .getByRole('region', { name: 'Compare runs' })
    .getByRole('table', { name: /runs? of this model/ })
    .getByRole('row')
    .filter({ has: page.getByRole('checkbox') });

/** What a project journey checks before saving and after reopening: 8 images in two classes, the plan's trainable params, Epochs 1, one run. */
export async function expectProject(page: Page, trainable: string, timeout?: number): Promise<void> {
  await expect(page.getByTestId('image-count')).toHaveText('8 images', { timeout });
  await expect(page.getByLabel(/^Class circle: 4 images/)).toBeVisible();
  await expect(page.getByLabel(/^Class square: 4 images/)).toBeVisible();
  await expect(page.getByTestId('trainable-params')).toHaveText(trainable);
  await expect(page.getByLabel('Epochs')).toHaveValue('1');
  await expect(runRows(page)).toHaveCount(1);
}

/** On an open studio: adds the shapes folder, picks Full fine-tune, sets Epochs to 1 and trains one run; returns the trainable params shown. */
export async function trainShapesProject(page: Page): Promise<string> {
  await page.getByLabel('Add folder').setInputFiles(writeShapes());
  await expect(page.getByTestId('image-count')).toHaveText('8 images');
  const frozenTrainable = await page.getByTestId('trainable-params').textContent();
  await page
    .getByRole('radiogroup', { name: 'Freeze preset' })
    .getByRole('radio', { name: /^Full fine-tune/ })
    .check();
  await expect(page.getByTestId('trainable-params')).not.toHaveText(frozenTrainable!);
  const trainable = (await page.getByTestId('trainable-params').textContent())!;
  await page.getByLabel('Epochs').fill('1');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(runRows(page)).toHaveCount(1, { timeout: 180_000 });
  await expectProject(page, trainable);
  return trainable;
}
