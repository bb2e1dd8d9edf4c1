import { expect, test, type Page } from '@playwright/test';
import { writeBlockModel, writeNestedModel, type BlockModelFixture } from './treeFixture';

let fixture: BlockModelFixture;

test.beforeAll(async () => {
  fixture = await writeBlockModel();
});

async function trainable(page: Page): Promise<number> {
  return Number((await page.getByTestId('trainable-params').textContent())!.replace(/,/g, ''));
}

/** Waits until the summary's trainable parameter count reads `count`. */
async function expectTrainable(page: Page, count: number) {
  await expect(page.getByTestId('trainable-params')).toHaveText(count.toLocaleString('en-US'));
}

/** The sum of the trainable parameters of `names`. */
const sum = (names: readonly string[]) => names.reduce((total, name) => total + fixture.trainable[name], 0);
const blockLayers = (n: number) => fixture.names.filter((name) => name.startsWith(`block_${n}_`));

async function importBlockModel(page: Page) {
  await page.goto('./');
  const tree = page.getByRole('tree', { name: 'Layers' });
  await expect(tree.getByRole('treeitem').first()).toBeVisible();
  await page.getByLabel('Import model').setInputFiles(fixture.files);
  await expect(tree.getByRole('treeitem', { name: /^block_1,/ })).toBeVisible({ timeout: 60_000 });
  return tree;
}

test('a 500-layer model: blocks are collapsed groups, only the rows in view are in the DOM', async ({ page }) => {
  const tree = await importBlockModel(page);
  const group = tree.getByRole('treeitem', { name: /^block_1,/ });
  await expect(group).toHaveAttribute('aria-expanded', 'false');
  await expect(group).toHaveAttribute('aria-level', '1');
  // stem_conv, stem_bn, 99 blocks, top_conv, top_pool and the head: 104 rows at the top level.
  await expect(group).toHaveAttribute('aria-setsize', String(2 + fixture.blockCount + 3));
  await expect(group).toHaveAttribute('aria-posinset', '3');
  await expect(group).toContainText('5 layers');
  const collapsed = await tree.getByRole('treeitem').count();
  expect(collapsed).toBeLessThan(2 + fixture.blockCount + 3);

  await page.getByRole('button', { name: 'Expand all', exact: true }).click();
  await expect(group).toHaveAttribute('aria-expanded', 'true');
  // The row owns its children's group (aria-owns), which follows it in the DOM.
  const child = tree.getByRole('group').getByRole('treeitem', { name: /^block_1_expand_BN,/ });
  await expect(group).toHaveAttribute('aria-owns', (await child.locator('xpath=..').getAttribute('id'))!);
  await expect(child).toHaveAttribute('aria-level', '2');
  await expect(child).toHaveAttribute('aria-posinset', '2');
  await expect(child).toHaveAttribute('aria-setsize', '5');
  expect(await tree.getByRole('treeitem').count()).toBeLessThanOrEqual(100);

  // End jumps to the last row, 600 rows down: it is drawn, focused, and the DOM stays small.
  await tree.getByRole('treeitem').first().focus();
  await page.keyboard.press('End');
  const head = tree.getByRole('treeitem', { name: /^head_dense,/ });
  await expect(head).toBeFocused();
  await expect(head).toBeInViewport();
  expect(await tree.getByRole('treeitem').count()).toBeLessThanOrEqual(100);
  await expect(page.getByRole('checkbox', { name: 'Freeze head_dense', exact: true })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Freeze up to head_dense', exact: true })).toHaveCount(0);
});

test('the group checkbox freezes a whole block; one layer unfrozen makes it mixed', async ({ page }) => {
  const tree = await importBlockModel(page);
  const before = await trainable(page);
  const groupBox = page.getByRole('checkbox', { name: 'Freeze group block_7', exact: true });
  await groupBox.check();
  await expectTrainable(page, before - sum(blockLayers(7)));
  await expect(tree.getByRole('treeitem', { name: /^block_7,/ })).toHaveAttribute('aria-label', /, 5 layers, .* params, frozen$/);

  await tree.getByRole('treeitem', { name: /^block_7,/ }).click(); // a click on the row opens it
  await page.getByRole('checkbox', { name: 'Freeze block_7_expand', exact: true }).uncheck();
  await expectTrainable(page, before - sum(blockLayers(7)) + fixture.trainable.block_7_expand);
  await expect(groupBox).toHaveJSProperty('indeterminate', true);
  await expect(tree.getByRole('treeitem', { name: /^block_7,/ })).toHaveAttribute('aria-label', /4 of 5 frozen/);
  // A mixed group freezes whole at the next click, then trains whole.
  await groupBox.click();
  await expect(groupBox).toBeChecked();
  await expectTrainable(page, before - sum(blockLayers(7)));
  await groupBox.uncheck();
  await expectTrainable(page, before);
});

test('"Freeze up to" freezes everything up to a layer and trains the rest; Shift+click freezes a range', async ({ page }) => {
  const tree = await importBlockModel(page);
  const before = await trainable(page);
  // A later block frozen beforehand is trained again: the split is clean.
  await page.getByRole('checkbox', { name: 'Freeze group block_6', exact: true }).check();
  await expectTrainable(page, before - sum(blockLayers(6)));
  await tree.getByRole('treeitem', { name: /^block_3,/ }).click();
  await page.getByRole('button', { name: 'Freeze up to block_3_expand', exact: true }).click();
  const upTo = fixture.names.slice(0, fixture.names.indexOf('block_3_expand') + 1);
  await expectTrainable(page, before - sum(upTo));
  await expect(page.getByRole('checkbox', { name: 'Freeze stem_conv', exact: true })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Freeze group block_2', exact: true })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Freeze block_3_expand', exact: true })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Freeze block_3_expand_BN', exact: true })).not.toBeChecked();

  await page.getByRole('button', { name: 'Unfreeze all', exact: true }).click();
  await expectTrainable(page, before);
  await tree.getByRole('treeitem', { name: /^block_4,/ }).click();
  await tree.getByRole('treeitem', { name: /^block_5,/ }).click();
  await page.getByRole('checkbox', { name: 'Freeze block_4_project', exact: true }).check();
  await page.getByRole('checkbox', { name: 'Freeze block_5_expand_BN', exact: true }).click({ modifiers: ['Shift'] });
  const range = ['block_4_project', 'block_4_project_BN', 'block_5_expand', 'block_5_expand_BN'];
  await expectTrainable(page, before - sum(range));
  await expect(page.getByRole('checkbox', { name: 'Freeze block_5_relu', exact: true })).not.toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Freeze block_5_expand', exact: true })).toBeChecked();
  // Shift+click again from the same anchor, now to train: the range follows the clicked box's new state.
  await page.getByRole('checkbox', { name: 'Freeze block_5_expand_BN', exact: true }).click({ modifiers: ['Shift'] });
  await expectTrainable(page, before);
});

test('the filter opens the group holding a match and hides the rest', async ({ page }) => {
  const tree = await importBlockModel(page);
  await page.getByLabel('Filter layers').fill('block_42_project_BN');
  await expect(tree.getByRole('treeitem')).toHaveCount(2);
  await expect(tree.getByRole('treeitem', { name: /^block_42,/ })).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByRole('checkbox', { name: 'Freeze block_42_project_BN', exact: true })).toBeVisible();
  await page.getByLabel('Filter layers').fill('no such layer');
  await expect(tree.getByRole('treeitem')).toHaveCount(0);
  await expect(page.getByText('No layer name or type contains “no such layer”.')).toBeVisible();
  await page.getByLabel('Filter layers').fill('');
  await expect(tree.getByRole('treeitem', { name: /^block_42,/ })).toHaveCount(0); // scrolled out of the drawn rows again
});

test('keyboard: arrows move through groups and into them, Space freezes, Enter opens', async ({ page }) => {
  const tree = await importBlockModel(page);
  const before = await trainable(page);
  const item = (name: RegExp) => tree.getByRole('treeitem', { name });
  await item(/^stem_conv,/).focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(item(/^block_1,/)).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(item(/^block_1,/)).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('ArrowRight');
  await expect(item(/^block_1_expand,/)).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(item(/^block_1_expand_BN,/)).toBeFocused();
  await page.keyboard.press('Space');
  await expectTrainable(page, before - fixture.trainable.block_1_expand_BN);
  await page.keyboard.press('ArrowLeft');
  await expect(item(/^block_1,/)).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await expect(item(/^block_1,/)).toHaveAttribute('aria-expanded', 'false');
  await page.keyboard.press('ArrowDown');
  await expect(item(/^block_2,/)).toBeFocused();
  await page.keyboard.press('Space');
  await expectTrainable(page, before - fixture.trainable.block_1_expand_BN - sum(blockLayers(2)));
  await page.keyboard.press('Enter');
  await expect(item(/^block_2,/)).toHaveAttribute('aria-expanded', 'true');
  // Roving tabindex: one row is in the tab order, the focused one.
  await expect(tree.locator('[role="treeitem"][tabindex="0"]')).toHaveCount(1);
  await page.keyboard.press('Home');
  await expect(item(/^stem_conv,/)).toBeFocused();
  await page.keyboard.press('PageDown');
  await expect(item(/^stem_conv,/)).not.toBeFocused();
  await expect(tree.locator('[role="treeitem"]:focus')).toBeInViewport();
});

test('a nested model (a Keras application used as one layer) is its own branch; its group checkbox freezes every inner layer', async ({ page }) => {
  const nested = await writeNestedModel();
  await page.goto('./');
  const tree = page.getByRole('tree', { name: 'Layers' });
  await expect(tree.getByRole('treeitem').first()).toBeVisible();
  await page.getByLabel('Import model').setInputFiles(nested.files);
  await expect(page.getByTestId('model-facts')).toContainText('Imported: model.json · 4 layers · input 8×8×3');
  const group = tree.getByRole('treeitem', { name: /^backbone,/ });
  await expect(group).toBeVisible();
  await expect(group).toHaveAttribute('aria-expanded', 'false');
  const before = await trainable(page);
  await page.getByRole('checkbox', { name: 'Freeze group backbone', exact: true }).check();
  await expectTrainable(page, before - nested.backboneTrainable);
  await group.click();
  for (const name of nested.inner) await expect(page.getByRole('checkbox', { name: `Freeze ${name}`, exact: true })).toBeChecked();

  // The nested model itself can carry the head: its output is spatial, so the head pools it.
  await page.getByText(/^Head: after ‘gap’/).click();
  await page.getByLabel('Cut layer').selectOption('backbone');
  await expect(page.getByText('The cut output 8×8×6 is spatial, so it is pooled to 6 features.')).toBeVisible();
  await expect(tree.getByRole('treeitem', { name: /^head_pool,/ })).toBeVisible();
  await expect(tree.getByRole('treeitem', { name: /^gap,/ })).toHaveCount(0);
});
