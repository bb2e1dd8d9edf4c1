import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './studio';
import { writeNestedModel } from './treeFixture';

/**
 * axe-core on the studio's main states, in the light and the dark theme: 0 violations of the WCAG 2.x A/AA
 * rules and axe's best practices. A violation is listed with its rule and the first nodes it names, so a
 * failure says what to fix.
 */
async function expectNoViolations(page: Page, state: string): Promise<void> {
  // Let transitions (hover tints, the share bar) settle so colours are read as they rest.
  await page.waitForTimeout(300);
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    // Off by default in axe (experimental), on here: a control's name must contain its visible text (WCAG 2.5.3).
    .options({ rules: { 'label-content-name-mismatch': { enabled: true } } })
    .analyze();
  const report = violations.map(
    (v) =>
      `${v.id} (${v.nodes.length}): ${v.nodes
        .slice(0, 4)
        .map((n) => `${n.target.join(' ')} — ${n.failureSummary?.split('\n')[1]?.trim() ?? ''}`)
        .join(' | ')}`,
  );
  expect.soft(report, `axe violations, ${state}`).toEqual([]);
}

for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(`${colorScheme} theme`, () => {
    test.beforeEach(async ({ page }) => {
      await page.emulateMedia({ colorScheme });
    });

    test(`axe: the first screen and an error shown (${colorScheme})`, async ({ page }) => {
      await openStudio(page);
      expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(colorScheme === 'dark');
      await expectNoViolations(page, 'first screen');

      // A model URL that is not there: the error is shown, the studio keeps its model.
      await page.getByLabel('Model URL').fill(new URL('no-such-model/model.json', page.url()).href);
      await page.getByRole('button', { name: 'Load URL' }).click();
      await expect(page.getByRole('alert').first()).toBeVisible({ timeout: 30_000 });
      await expectNoViolations(page, 'an error shown');
    });

    test(`axe: a model imported (${colorScheme})`, async ({ page }) => {
      const nested = await writeNestedModel();
      await openStudio(page);
      await page.getByLabel('Import model').setInputFiles(nested.files);
      const tree = page.getByRole('tree', { name: 'Layers' });
      await expect(tree.getByRole('treeitem', { name: /^backbone,/ })).toBeVisible({ timeout: 60_000 });
      await tree.getByRole('treeitem', { name: /^backbone,/ }).click();
      await expect(tree.getByRole('treeitem', { name: /^backbone,/ })).toHaveAttribute('aria-expanded', 'true');
      await expectNoViolations(page, 'a model imported');
    });

    test(`axe: during a run, then after it with the evaluation, audit and run comparison open (${colorScheme})`, async ({ page }) => {
      await openStudio(page);
      await page.getByLabel('Epochs').fill('2');
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Epoch \d+\/2/, { timeout: 60_000 });
      await page.getByRole('button', { name: 'Pause' }).click();
      await expect(page.getByText('Paused at a batch boundary.', { exact: false })).toBeVisible();
      await expectNoViolations(page, 'during a run');
      await page.getByRole('button', { name: 'Resume' }).click();

      await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible({ timeout: 150_000 });
      await expect(page.getByText(/of [\d,]+ images? correct/).first()).toBeVisible({ timeout: 60_000 });
      await page.locator('summary').filter({ hasText: 'Freeze audit' }).click();
      await expect(page.getByRole('table', { name: 'Per-layer freeze audit' })).toBeVisible({ timeout: 60_000 });
      await page.getByRole('checkbox', { name: 'Compare run 1' }).check();
      await expectNoViolations(page, 'after a run');
    });
  });
}

/** Presses Tab `count` times from where the focus is; each stop's role and name, and whether a focus ring shows. */
async function tabStops(page: Page, count: number): Promise<{ name: string; ringed: boolean }[]> {
  const stops: { name: string; ringed: boolean }[] = [];
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      // The ring may be drawn on the element, its label (a visually hidden radio) or its row (a tree group).
      const ringed = [el, el.parentElement, el.firstElementChild].some((node) => {
        if (!node) return false;
        const style = getComputedStyle(node);
        return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
      });
      const role = el.getAttribute('role');
      const name = el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40) ?? '';
      return { name: `${el.tagName.toLowerCase()}${role ? `[${role}]` : ''} ${name}`, ringed };
    });
    if (stop) stops.push(stop);
  }
  return stops;
}

test('keyboard: Tab reaches the model, tree, data, train and results controls, and every stop shows a focus ring', async ({ page }) => {
  await openStudio(page);
  await page.locator('body').focus();
  // From the top: the header, the model pane (one stop for the whole tree, roving tabindex), then the data pane.
  const first = await tabStops(page, 24);
  // From the training settings on: Train, the charts, the results pane's jump list and its controls.
  await page.getByLabel('Epochs').focus();
  const second = await tabStops(page, 24);
  const stops = [...first, ...second];
  expect(
    stops.filter((s) => !s.ringed).map((s) => s.name),
    'focused without a visible ring',
  ).toEqual([]);
  const names = stops.map((s) => s.name).join('\n');
  for (const expected of [
    /select Model/,
    /summary Head: after/,
    /treeitem\] conv1, Conv2D/,
    /Freeze up to conv1/,
    /Add folder/,
    /button Train/,
    /button Evaluation/,
  ]) {
    expect(names).toMatch(expected);
  }
  // The tree is one stop: Tab goes from its active row (and that row's own buttons) on to the data pane.
  expect(stops.filter((s) => s.name.includes('[treeitem]'))).toHaveLength(1);
});
