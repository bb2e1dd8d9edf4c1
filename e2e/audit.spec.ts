import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './studio';

/** Per audited layer: its state, the Max |Δ| of each of its weights, and its check, read from the table. */
async function readAuditTable(page: Page) {
  return page.getByRole('table', { name: 'Per-layer freeze audit' }).evaluate((table) =>
    [...table.querySelectorAll('tbody')].map((body) => {
      const rows = [...body.querySelectorAll('tr')];
      const cells = (row: Element) => [...row.querySelectorAll('td, th')].map((c) => c.textContent ?? '');
      // The layer's row: layer (name, then state · params), check, max |Δ|, ‖ΔW‖/‖W‖; then one row per weight: name with its fingerprints, note, max |Δ|.
      const [, check, max, relative] = cells(rows[0]);
      const layer = rows[0].querySelector('th .mono')?.textContent ?? '';
      const state = rows[0].querySelector('.audit-meta')?.textContent ?? '';
      const weightRows = rows.slice(1).filter((row) => cells(row)[0] !== 'no weights');
      const changes = weightRows.map((row) => cells(row)[2]);
      const prints = weightRows.map((row) => row.querySelector('.audit-print')?.textContent?.trim() ?? '');
      return { layer, state, max, relative, check, changes, prints };
    }),
  );
}

test('after a short run the freeze audit shows every frozen layer unchanged, Verify repeats it, and the tree shows where learning happened', async ({
  page,
}) => {
  await openStudio(page);
  await page.getByLabel('Epochs').fill('2');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByText(/Finished after 2 full epochs/)).toBeVisible({ timeout: 120_000 });

  const summary = page.locator('summary').filter({ hasText: 'Freeze audit' });
  await expect(summary).toContainText('passed');
  await summary.click();
  const verdict = page.getByRole('status').filter({ hasText: /^Passed: all \d+ frozen layers? unchanged/ });
  await expect(verdict).toContainText('weights read right after the run');
  const frozenCount = Number(/all (\d+) frozen/.exec((await verdict.textContent())!)![1]);
  expect(frozenCount).toBeGreaterThan(0);
  await expect(page.getByText(/FAILED/)).toHaveCount(0);

  await page.getByRole('checkbox', { name: 'Show layers without weights' }).check();
  const rows = await readAuditTable(page);
  const frozen = rows.filter((r) => r.state.startsWith('frozen'));
  expect(frozen).toHaveLength(frozenCount);
  expect(frozen.filter((r) => r.changes.length > 0).length).toBeGreaterThan(0);
  for (const row of frozen) {
    expect(
      row.changes.every((c) => c === '0'),
      `${row.layer}: ${row.changes.join(', ')}`,
    ).toBe(true);
    expect(row.relative).toBe(row.changes.length ? '0' : '—');
    expect(row.prints.every((p) => / → same$/.test(p))).toBe(true);
    expect(row.check).toBe('ok: unchanged');
  }
  // The head learned: its change is not 0.
  const trained = rows.filter((r) => r.state.startsWith('trained'));
  expect(trained.length).toBeGreaterThan(0);
  expect(trained.some((r) => r.changes.some((c) => c !== '0'))).toBe(true);

  // The optimizer's variables come from the worker, with their shapes.
  await page
    .locator('summary')
    .filter({ hasText: /^Optimizer variables: \d+/ })
    .click();
  await expect(page.getByRole('table').filter({ hasText: 'Variable' }).getByRole('row').nth(1)).toContainText(/head_dense\/(kernel|bias)/);

  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'weights re-read from the worker (Verify)' })).toContainText(`Passed: all ${frozenCount} frozen`);
  await expect(page.getByText(/FAILED/)).toHaveCount(0);
  for (const row of (await readAuditTable(page)).filter((r) => r.state.startsWith('frozen'))) expect(row.changes.every((c) => c === '0')).toBe(true);

  // The tree: a relative-update bar on every layer with weights; 0 on frozen layers, more on the trained head.
  const tree = page.getByRole('tree', { name: 'Layers' });
  const bars = tree.getByRole('img', { name: /^relative update / });
  expect(await bars.count()).toBeGreaterThan(0);
  const headRow = tree
    .getByRole('treeitem', { name: /new head, always trained/ })
    .filter({ has: page.getByRole('img', { name: /^relative update / }) })
    .first();
  await expect(headRow.getByRole('img', { name: /^relative update / })).not.toHaveAccessibleName('relative update 0');
  const frozenRow = tree
    .getByRole('treeitem', { name: /, frozen$/ })
    .filter({ has: page.getByRole('img', { name: /^relative update / }) })
    .first();
  await expect(frozenRow.getByRole('img', { name: /^relative update / })).toHaveAccessibleName('relative update 0');
  await expect(page.getByRole('alert')).toHaveCount(0);
});
