import { expect, test, type Locator, type Page } from '@playwright/test';

const preset = (page: Page, label: string) => page.getByRole('radiogroup', { name: 'Freeze preset' }).getByRole('radio', { name: new RegExp(`^${label}`) });

/** The body rows of the run table (each has its "Compare run N" checkbox). */
const bodyRows = (table: Locator) => table.getByRole('row').filter({ has: table.page().getByRole('checkbox') });

/** Column index among a body row's cells (the Run column is the row header, not a cell). */
const COLUMN = { frozen: 0, params: 1, accuracy: 2 };

async function column(table: Locator, index: number): Promise<string[]> {
  return bodyRows(table).evaluateAll((rows, i) => rows.map((row) => row.querySelectorAll('td')[i].textContent ?? ''), index);
}
const runNames = (table: Locator) => bodyRows(table).getByRole('rowheader').allTextContents();
const percent = (text: string) => Number(/([\d.]+)%/.exec(text)![1]);

test('two runs with different freeze presets: one row each, sortable, and their curves overlaid', async ({ page }) => {
  test.setTimeout(400_000);
  await page.goto('./');
  await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Backend: (webgpu|webgl|wasm|cpu)/);
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');
  const runs = page.getByRole('region', { name: 'Compare runs' });
  await expect(runs).toContainText('No runs yet.');
  await expect(page.getByRole('checkbox', { name: 'Start from the pretrained weights' })).toBeChecked();

  await page.getByLabel('Epochs').fill('2');
  await preset(page, 'Train head only').check();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const table = runs.getByRole('table', { name: /runs? of this model/ });
  await expect(bodyRows(table)).toHaveCount(1, { timeout: 180_000 });

  await preset(page, 'Full fine-tune').check();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(bodyRows(table)).toHaveCount(2, { timeout: 300_000 });
  await expect(table).toHaveAccessibleName(/^2 runs of this model/);

  // Run order first: head only, then nothing frozen, with different trainable parameter counts.
  expect(await runNames(table)).toEqual(['Run 1 · head only', 'Run 2 · nothing frozen']);
  expect(await column(table, COLUMN.frozen)).toEqual(['head only', 'nothing frozen']);
  const params = (await column(table, COLUMN.params)).map((text) => Number(text.replace(/,/g, '')));
  expect(params[0]).toBe(2885); // the head: as the model panel counts it for "Train head only"
  expect(params[1]).toBeGreaterThan(params[0]);

  // Sort by best validation accuracy: best first, then flipped.
  const accuracyHeader = table.getByRole('columnheader', { name: 'Best val. accuracy' });
  await expect(accuracyHeader).not.toHaveAttribute('aria-sort');
  await expect(table.getByRole('columnheader', { name: 'Run' })).toHaveAttribute('aria-sort', 'ascending');
  await accuracyHeader.getByRole('button').click();
  await expect(accuracyHeader).toHaveAttribute('aria-sort', 'descending');
  await expect(table.getByRole('columnheader', { name: 'Run' })).not.toHaveAttribute('aria-sort');
  const descending = (await column(table, COLUMN.accuracy)).map(percent);
  expect(descending[0]).toBeGreaterThanOrEqual(descending[1]);
  const descendingNames = await runNames(table);
  await accuracyHeader.getByRole('button').click();
  await expect(accuracyHeader).toHaveAttribute('aria-sort', 'ascending');
  const ascending = (await column(table, COLUMN.accuracy)).map(percent);
  expect(ascending[0]).toBeLessThanOrEqual(ascending[1]);
  expect(await runNames(table)).toEqual([...descendingNames].reverse());

  // Tick both: one overlay chart per metric, a series and a legend entry per run.
  await expect(runs.getByRole('figure')).toHaveCount(0);
  await runs.getByRole('checkbox', { name: 'Compare run 1' }).check();
  await runs.getByRole('checkbox', { name: 'Compare run 2' }).check();
  for (const name of ['Validation loss of the selected runs', 'Validation accuracy of the selected runs']) {
    const figure = runs.getByRole('figure', { name });
    await expect(figure).toHaveAttribute('data-series', '2');
    await expect(figure.locator('canvas')).toHaveCount(1);
    await expect(figure.getByRole('list', { name: `Legend: ${name}` }).getByRole('listitem')).toHaveText(['Run 1 · head only', 'Run 2 · nothing frozen']);
  }
  await runs.getByRole('checkbox', { name: 'Compare run 1' }).uncheck();
  await expect(runs.getByRole('figure', { name: 'Validation loss of the selected runs' })).toHaveAttribute('data-series', '1');
  await runs.getByRole('checkbox', { name: 'Compare run 1' }).check();

  if (process.env.RUNS_SCREENSHOT) {
    await runs.scrollIntoViewIfNeeded();
    await page.screenshot({ path: process.env.RUNS_SCREENSHOT, fullPage: true });
    await runs.screenshot({ path: process.env.RUNS_SCREENSHOT.replace(/\.png$/, '-panel.png') });
  }
});
