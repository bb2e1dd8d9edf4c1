import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
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

  // A dataset with an SVG that carries a script, an HTML page renamed .png, and a class folder named with markup.
  const root = mkdtempSync(join(tmpdir(), 'studio-csp-'));
  const markup = '<img src=x onerror="window.__pwned=true">';
  const files: [string, Buffer | string][] = [
    ['hostile/cats/1.png', makePng(20, 1)],
    ['hostile/cats/2.png', makePng(20, 2)],
    ['hostile/cats/logo.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=true"><script>window.__pwned = true</script></svg>'],
    ['hostile/cats/page.png', '<!doctype html><script>window.__pwned = true</script><img src="https://example.com/beacon.gif">'],
    [`hostile/${markup}/1.png`, makePng(20, 5)],
    [`hostile/${markup}/2.png`, makePng(20, 6)],
  ];
  for (const [path, bytes] of files) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), bytes);
  }
  await page.getByLabel('Add folder').setInputFiles(join(root, 'hostile'));
  await expect(page.getByTestId('image-count')).toHaveText('4 images');
  const rejected = page.getByRole('region', { name: 'Rejected files' });
  await expect(rejected.getByRole('listitem').filter({ hasText: 'logo.svg' })).toContainText('SVG');
  await expect(rejected.getByRole('listitem').filter({ hasText: 'page.png' })).toContainText('not an image');
  // The class name is shown as text, markup and all.
  await expect(page.getByRole('list', { name: 'Classes' }).getByText(markup, { exact: true }).first()).toBeVisible();
  await page.getByLabel('Epochs').fill('1');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();
  expect(offMachine).toEqual([]);
});
