/**
 * Opens the studio in headless Chromium and saves a screenshot, for README and
 * for looking at the screen while developing:
 *   npx tsx scripts/screenshot.ts <url> <out.png> [--train] [--schedule] [--dark] [--width N] [--height N] [--full] [--model <picker label>] [--open]
 * --model picks a built-in model (e.g. MobileNetV2 (built-in)); --open expands the settings panels;
 * --schedule sets up the Keras two-phase recipe before --train (so the charts carry its marker).
 * --width/--height set the window (default 1440×900); the shot is the window as a person sees it, except below
 * 1280 px wide, where the panes stack and the whole page is taken (--full forces that). --dark: prefers-color-scheme dark.
 * --jump <section> clicks that entry of the results pane's jump list (Outcome, Evaluation, Runs, Predict) before the shot.
 * --rows prints how many layer-tree rows are wholly in view, the figure the layout is held to (issue 16).
 */
import { chromium } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../playwright.config';

const args = process.argv.slice(2);
const valued = new Set(['--width', '--height', '--model', '--jump']);
const [url = 'http://127.0.0.1:5173/', out = 'docs/screenshot.png'] = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1]));
const flag = (name: string) => process.argv.includes(name);
const option = (name: string) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const width = Number(option('--width') ?? 1440);
const height = Number(option('--height') ?? 900);
const model = option('--model');

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const page = await browser.newPage({ viewport: { width, height }, colorScheme: flag('--dark') ? 'dark' : 'light' });
page.on('console', (m) => m.type() === 'error' && console.log('console:', m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.goto(url);
await page.getByTestId('image-count').waitFor({ timeout: 60_000 });
await page.getByRole('tree', { name: 'Layers' }).waitFor({ timeout: 60_000 });
if (model) {
  await page.getByLabel('Model', { exact: true }).selectOption({ label: model });
  await page.getByText(/Loading the model/).waitFor({ state: 'detached', timeout: 120_000 });
}
if (flag('--open')) for (const summary of await page.locator('details > summary').all()) await summary.click();
if (flag('--schedule')) {
  await page.getByText(/^Unfreezing schedule/).click();
  await page.getByRole('button', { name: 'Two-phase (Keras)' }).click();
}
if (flag('--train')) {
  await page.getByRole('button', { name: 'Train' }).click();
  await page.getByText(/Validation accuracy: /).waitFor({ timeout: 170_000 });
  // The evaluation runs right after the run: wait for its figures.
  await page
    .getByText(/of [\d,]+ images? correct/)
    .first()
    .waitFor({ timeout: 60_000 });
}
const jump = option('--jump');
if (jump) {
  await page.getByRole('navigation', { name: 'Results sections' }).getByRole('button', { name: jump }).click();
  await page.waitForTimeout(800); // the smooth scroll
}
if (flag('--rows')) {
  // Rows wholly inside both the tree's scroll box and the window.
  const rows = await page.getByRole('tree', { name: 'Layers' }).evaluate((tree) => {
    const box = tree.parentElement!.getBoundingClientRect();
    const bottom = Math.min(box.bottom, window.innerHeight);
    return [...tree.querySelectorAll('[role="treeitem"]')].filter((item) => {
      const r = item.getBoundingClientRect();
      return r.top >= box.top - 0.5 && r.bottom <= bottom + 0.5;
    }).length;
  });
  console.log(`tree rows in view: ${rows}`);
}
await page.screenshot({ path: out, fullPage: flag('--full') || width < 1280 });
console.log(`saved ${out}`);
await browser.close();
