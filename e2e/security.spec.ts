import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { makePng } from './fixtures';
import { openStudio } from './studio';

/** The hosts a request may go to: the studio's own server, or data the page made itself. */
const local = (url: string) => /^(blob:|data:|about:)/.test(url) || new URL(url).hostname === '127.0.0.1';

test('the Content-Security-Policy holds: no inline script runs, nothing smuggled in a dataset runs, and the page asks no other host', async ({ page }) => {
  const offMachine: string[] = [];
  page.on('request', (request) => {
    if (!local(request.url())) offMachine.push(request.url());
  });
  const response = await page.goto('./');
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveAttribute('content', /script-src 'self'; /);
  await openStudio(page);

  // An inline script is refused by the policy (the page's own code could not be tricked into running one either).
  const inline = await page.evaluate(async () => {
    const blocked = new Promise<string>((resolve) => document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true }));
    const script = document.createElement('script');
    script.textContent = 'window.__inline = true';
    document.body.append(script);
    return { ran: (window as unknown as { __inline?: boolean }).__inline === true, violated: await blocked };
  });
  expect(inline).toEqual({ ran: false, violated: expect.stringMatching(/^script-src/) });

  await page.getByLabel('Add folder').setInputFiles(writeHostileFolder());
  await expect(page.getByTestId('image-count')).toHaveText('4 images');
  const rejected = page.getByRole('region', { name: 'Rejected files' });
  await expect(rejected.getByRole('listitem').filter({ hasText: 'logo.svg' })).toContainText('SVG');
  await expect(rejected.getByRole('listitem').filter({ hasText: 'page.png' })).toContainText('not an image');
  // The class name is shown as text, markup and all.
  await expect(page.getByRole('list', { name: 'Classes' }).getByText(MARKUP, { exact: true }).first()).toBeVisible();
  await page.getByLabel('Epochs').fill('1');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();
  expect(offMachine).toEqual([]);
});

test('a project file is untrusted input: an SVG with a script smuggled in as an image, and markup in its names, never run; the page asks no other host', async ({
  page,
  browser,
}, testInfo) => {
  test.setTimeout(240_000);
  await openStudio(page);
  await page.getByLabel('Add folder').setInputFiles(writeHostileFolder());
  await expect(page.getByTestId('image-count')).toHaveText('4 images');
  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save project file' }).click();
  const zip = unzipSync(new Uint8Array(readFileSync((await (await downloading).path())!)));

  // Edited as an attacker would: a scripted SVG named .png listed as an image, markup as the project's name and a rejected file.
  const manifest = JSON.parse(strFromU8(zip['project.json']));
  const svg = strToU8('<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=true"><script>window.__pwned = true</script></svg>');
  const part = 'dataset/cats/smuggled.png';
  zip[part] = svg;
  const id = Math.max(...manifest.dataset.images.map((image: { id: number }) => image.id)) + 1;
  manifest.dataset.images.push({ id, className: 'cats', path: 'hostile/cats/smuggled.png', hash: null, file: { part, bytes: svg.length } });
  manifest.name = MARKUP;
  manifest.dataset.rejected.push({ path: `hostile/${MARKUP}.png`, reason: MARKUP });
  zip['project.json'] = strToU8(JSON.stringify(manifest));

  const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1440, height: 900 } });
  const fresh = await context.newPage();
  const offMachine: string[] = [];
  fresh.on('request', (request) => {
    if (!local(request.url())) offMachine.push(request.url());
  });
  await openStudio(fresh);
  await fresh
    .getByLabel('Open project file')
    .setInputFiles({ name: 'hostile.transfer-project.zip', mimeType: 'application/zip', buffer: Buffer.from(zipSync(zip)) });
  await expect(fresh.getByTestId('project-file-status')).toContainText("Opened 'hostile.transfer-project.zip'", { timeout: 60_000 });
  // The smuggled part went through the same checks as a dropped file: refused, named, never shown as an image.
  await expect(fresh.getByTestId('image-count')).toHaveText('4 images');
  const rejected = fresh.getByRole('region', { name: 'Rejected files' });
  await expect(rejected.getByRole('listitem').filter({ hasText: 'smuggled.png' })).toContainText(/SVG|not an image/);
  await expect(rejected.getByText(MARKUP, { exact: false }).first()).toBeVisible();
  await expect(fresh.getByRole('list', { name: 'Classes' }).getByText(MARKUP, { exact: true }).first()).toBeVisible();
  expect(await fresh.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();
  expect(offMachine).toEqual([]);
  await context.close();
});

/** A class folder named with markup. */
const MARKUP = '<img src=x onerror="window.__pwned=true">';

/** A dataset with an SVG that carries a script, an HTML page renamed .png, and a class folder named with markup; returns its root folder. */
function writeHostileFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'studio-csp-'));
  const files: [string, Buffer | string][] = [
    ['hostile/cats/1.png', makePng(20, 1)],
    ['hostile/cats/2.png', makePng(20, 2)],
    ['hostile/cats/logo.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=true"><script>window.__pwned = true</script></svg>'],
    ['hostile/cats/page.png', '<!doctype html><script>window.__pwned = true</script><img src="https://example.com/beacon.gif">'],
    [`hostile/${MARKUP}/1.png`, makePng(20, 5)],
    [`hostile/${MARKUP}/2.png`, makePng(20, 6)],
  ];
  for (const [path, bytes] of files) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), bytes);
  }
  return join(root, 'hostile');
}
