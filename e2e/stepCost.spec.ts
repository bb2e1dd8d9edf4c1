import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './studio';

const preset = (page: Page, label: string) => page.getByRole('radiogroup', { name: 'Freeze preset' }).getByRole('radio', { name: new RegExp(`^${label}`) });

test('the cost of a training step follows every toggle, preset and batch size, and gives ms per step once a run timed one', async ({ page }) => {
  test.setTimeout(240_000);
  await openStudio(page);
  // The layout may fold the figures behind a disclosure: open it when there is one.
  const disclosure = page.locator('summary', { hasText: /^Cost of a training step$/ });
  if (await disclosure.count()) await disclosure.first().click();
  const cost = page.getByRole('region', { name: 'Cost of a training step' });
  await expect(cost.getByRole('definition')).not.toHaveCount(0);
  const figure = (id: string) => cost.getByTestId(id);

  // Full fine-tune: the reference itself.
  await preset(page, 'Full fine-tune').check();
  await expect(figure('step-cost-cheaper')).toHaveText('1.00× cheaper');
  await expect(cost).toContainText('Backprop runs down to the first layer, ‘conv1’.');
  const fullBackward = await figure('step-cost-backward').textContent();

  // One toggle: freezing conv1 drops its weight gradient; the figures change at once.
  await page.getByRole('checkbox', { name: 'Freeze conv1', exact: true }).check();
  await expect(figure('step-cost-backward')).not.toHaveText(fullBackward!);
  await expect(figure('step-cost-cheaper')).not.toHaveText('1.00× cheaper');
  await expect(cost).toContainText('Backprop stops at ‘bn1’');
  await expect(figure('step-cost-trainable')).toHaveText(await page.getByTestId('trainable-params').innerText());

  // Head only: the head trains on cached features, so a step is the head alone.
  await preset(page, 'Train head only').check();
  await expect(cost).toContainText('The head trains on cached features: a step costs only the head.');
  const cheaper = Number((await figure('step-cost-cheaper').innerText()).replace(/[×,]|cheaper/g, ''));
  expect(cheaper).toBeGreaterThan(100);

  // Batch size: the activations kept scale with it.
  const activations = await figure('step-cost-activations').innerText();
  await page.getByLabel('Batch size').fill('8');
  await expect(figure('step-cost-activations')).not.toHaveText(activations);
  await expect(cost.getByText(/Activations kept \(batch \d+\)/)).toBeVisible();

  // No step timed yet; after a run the estimate is in ms per step and per epoch.
  await expect(figure('step-cost-time')).toHaveText('–');
  await expect(cost).toContainText('Train once to time a step on this machine.');
  await page.getByLabel('Epochs').fill('2');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(figure('step-cost-time')).toHaveText(/^[\d.]+ (ms|s) \/ step · [\d.]+ (ms|s) \/ epoch$/, { timeout: 180_000 });
  await expect(cost).toContainText(
    /Scaled by FLOPs from the last run’s timed step on (webgpu|webgl|wasm|cpu): [\d,]+ steps of [\d,]+ over [\d,]+ training images\./,
  );
});
