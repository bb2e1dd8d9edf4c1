/**
 * Opens the studio in headless Chromium and saves a screenshot, for README and
 * for looking at the screen while developing:
 *   npx tsx scripts/screenshot.ts <url> <out.png> [--train] [--dark] [--width N]
 */
import { chromium } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../playwright.config';

const [url = 'http://127.0.0.1:5173/', out = 'docs/screenshot.png'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const flag = (name: string) => process.argv.includes(name);
const widthIndex = process.argv.indexOf('--width');
const width = widthIndex > 0 ? Number(process.argv[widthIndex + 1]) : 1440;

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: flag('--dark') ? 'dark' : 'light' });
page.on('console', (m) => m.type() === 'error' && console.log('console:', m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.goto(url);
await page.getByTestId('image-count').waitFor({ timeout: 60_000 });
await page.getByRole('tree', { name: 'Layers' }).waitFor({ timeout: 60_000 });
if (flag('--train')) {
  await page.getByRole('button', { name: 'Train' }).click();
  await page.getByText(/Validation accuracy: /).waitFor({ timeout: 170_000 });
}
await page.screenshot({ path: out, fullPage: true });
console.log(`saved ${out}`);
await browser.close();
