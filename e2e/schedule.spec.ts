import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './studio';

/** The marker lines drawn over a chart, by the chart's accessible name. */
function markers(page: Page, chart: string) {
  return page.getByRole('figure', { name: chart }).locator('.chart-marker');
}

test('a preset, then the two-phase recipe: the block unfrozen at epoch 3 is marked on every chart', async ({ page }) => {
  test.setTimeout(240_000);
  await openStudio(page);
  await page.getByLabel('Epochs').fill('4');
  // A preset first: "Full fine-tune"; the recipe then starts from "Train head only", as the Keras guide does.
  await page.getByRole('radio', { name: /Full fine-tune/ }).check();
  await page.getByText(/^Unfreezing schedule/).click();
  await page.getByRole('button', { name: 'Two-phase (Keras)' }).click();
  await expect(page.getByRole('radio', { name: /Train head only/ })).toBeChecked();
  const steps = page.getByRole('list', { name: 'Schedule steps' }).getByRole('listitem');
  await expect(steps).toHaveCount(1);
  await expect(page.getByRole('spinbutton', { name: 'Step 1: at epoch' })).toHaveValue('3');
  const from = page.getByLabel('Step 1: unfreeze from');
  const block = (await from.locator('option:checked').textContent())!.replace(/ and up$/, '');
  await expect(page.getByLabel('Step 1: learning rate')).toHaveValue('0.1');

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByText(/Finished after 4 full epochs/)).toBeVisible({ timeout: 200_000 });
  const label = new RegExp(`unfreeze ${block}( and up)? · lr ×0\\.1`);
  for (const chart of ['Loss per batch', 'Loss per epoch', 'Accuracy per epoch']) {
    await expect(markers(page, chart)).toHaveCount(1);
    await expect(markers(page, chart)).toBeVisible();
    await expect(markers(page, chart)).toContainText(label);
  }
  // The batch chart's line sits between the last batch of epoch 2 and the first of epoch 3: halfway across 4 planned epochs.
  const plot = await page.getByRole('figure', { name: 'Loss per batch' }).locator('.u-over').boundingBox();
  const line = await markers(page, 'Loss per batch').boundingBox();
  const share = (line!.x - plot!.x) / plot!.width;
  expect(share).toBeGreaterThan(0.4);
  expect(share).toBeLessThan(0.6);
  await expect(page.getByRole('figure', { name: 'Loss per batch' })).toContainText(/Trainable set changed at batch \d+ \(epoch 3\): unfreeze/);
  await expect(page.getByRole('list', { name: 'Changes of the trainable set' })).toContainText(
    /Epoch 3, batch 1: unfreeze .* new optimizer for [\d,]+ parameters/,
  );
  // The first phase trained the head on cached features; the second ran the full model.
  await expect(page.getByText(/Feature cache: built (on \w+ )?in/)).toBeVisible();
});

test('unfreezing a layer during a run takes effect at a batch boundary and is marked as a live change', async ({ page }) => {
  test.setTimeout(240_000);
  await openStudio(page);
  await page.getByLabel('Epochs').fill('3');
  await page.getByRole('radio', { name: /Train head only/ }).check();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  // Pause mid-run: after at least ten batches of the first epoch.
  await expect(page.getByRole('figure', { name: 'Loss per batch' })).toContainText(/\D\d{2,} batches;/, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByText('Paused at a batch boundary.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Resume' })).toHaveAttribute('aria-pressed', 'true');
  // The last conv layer of the digits model: unfrozen while the run waits.
  const tree = page.getByRole('tree', { name: 'Layers' });
  const layer = tree.getByRole('treeitem', { name: /^\w+, Conv2D, .*, frozen$/ }).last();
  const name = (await layer.getAttribute('aria-label'))!.split(',')[0];
  await layer.getByRole('checkbox', { name: `Freeze ${name}` }).uncheck();
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByText(/Finished after 3 full epochs/)).toBeVisible({ timeout: 200_000 });
  await expect(markers(page, 'Loss per batch')).toHaveCount(1);
  await expect(markers(page, 'Loss per batch')).toContainText(`live: unfreeze ${name}`);
  await expect(markers(page, 'Loss per batch')).toBeVisible();
  // It took effect where the run was paused, well after its first batch.
  const caption = (await page.getByRole('figure', { name: 'Loss per batch' }).textContent()) ?? '';
  const [, batch] = /Trainable set changed at batch (\d+)/.exec(caption) ?? [];
  expect(Number(batch)).toBeGreaterThan(10);
  await expect(page.getByRole('list', { name: 'Changes of the trainable set' })).toContainText(`live change, unfreeze ${name}`);
});

test('per-block learning rates and a BatchNorm override show in the tree and reach the run', async ({ page }) => {
  test.setTimeout(240_000);
  await openStudio(page);
  await page.getByLabel('Epochs').fill('1');
  await page.getByRole('radio', { name: /Train head only/ }).check();
  const tree = page.getByRole('tree', { name: 'Layers' });
  await page.getByText(/^Learning rate per block/).click();
  await page.getByRole('checkbox', { name: 'Lower learning rates for earlier blocks' }).check();
  // The first block learns at 0.1 × the base rate; its badge sits on the tree row of its first layer.
  await expect(tree.getByRole('img', { name: 'learning rate × 0.1' })).toHaveCount(1);
  await expect(page.getByRole('list', { name: 'Multiplier per block' }).getByRole('spinbutton')).not.toHaveCount(0);
  // A frozen BN layer set to train its statistics.
  const bn = tree.getByRole('button', { name: /^BatchNorm mode of bn3: moving statistics \(BN · moving\)$/ });
  await bn.click();
  await expect(tree.getByRole('button', { name: 'BatchNorm mode of bn3: trains statistics' })).toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByText(/Finished after 1 full epoch/)).toBeVisible({ timeout: 200_000 });
  await expect(page.getByText("Feature cache: not used: 'bn3' trains its BatchNorm statistics.")).toBeVisible();
});
