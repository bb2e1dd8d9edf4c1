import { expect, type Page } from '@playwright/test';

/** Opens the studio and waits for the backend, the layer tree and the built-in sample (1,000 images). */
export async function openStudio(page: Page): Promise<void> {
  await page.goto('./');
  await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Backend: (webgpu|webgl|wasm|cpu)/);
  await expect(page.getByRole('tree', { name: 'Layers' }).getByRole('treeitem').first()).toBeVisible();
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');
}
