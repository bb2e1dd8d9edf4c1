import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './studio';
import { removeWrittenShapes, writeShapes } from './projectJourney';

test.afterAll(removeWrittenShapes);

const projectsDialog = (page: Page) => page.getByRole('dialog', { name: 'Projects' });
const rows = (page: Page) => projectsDialog(page).getByRole('list', { name: 'Saved projects' }).getByRole('listitem');
const row = (page: Page, name: string) => projectsDialog(page).getByRole('listitem', { name, exact: true });
const autosaved = (page: Page) => expect(page.getByTestId('autosave-status')).toContainText(/Saved \d\d:\d\d:\d\d/, { timeout: 30_000 });

async function openProjects(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Projects', exact: true }).click();
  await expect(projectsDialog(page)).toBeVisible();
}

async function addShapes(page: Page): Promise<void> {
  await page.getByLabel('Add folder').setInputFiles(writeShapes());
  await expect(page.getByTestId('image-count')).toHaveText('8 images');
  await autosaved(page);
}

test('projects: new, open, rename, duplicate and delete in the switcher; the last open project comes back after a reload', async ({ page }) => {
  test.setTimeout(240_000);
  await openStudio(page);
  await addShapes(page);
  await openProjects(page);
  await expect(rows(page)).toHaveCount(1);
  await expect(row(page, 'shapes').getByTestId('project-details')).toContainText(/8 images · 0 runs · [\d.]+ KB · saved/);
  await expect(projectsDialog(page).getByTestId('storage-estimate')).toContainText(/Storage: .+ used of .+/);

  // New project: the default model, no images, listed at once.
  await projectsDialog(page).getByRole('button', { name: 'New project' }).click();
  await expect(projectsDialog(page).getByTestId('projects-outcome')).toContainText("'New project' is open: 0 images, 0 runs.");
  // No class, no images: the Data panel shows no dataset summary.
  await expect(page.getByTestId('image-count')).toHaveCount(0);
  await expect(rows(page)).toHaveCount(2);
  await expect(row(page, 'New project')).toHaveAttribute('aria-current', 'true');

  // Back to the first: saved first, restored through the same path as a project file.
  await row(page, 'shapes').getByRole('button', { name: 'Open' }).click();
  await expect(projectsDialog(page).getByTestId('projects-outcome')).toContainText("Opened the project 'shapes'");
  await expect(page.getByTestId('image-count')).toHaveText('8 images');
  await expect(page.getByLabel(/^Class circle: 4 images/)).toBeVisible();

  await row(page, 'shapes').getByRole('button', { name: 'Rename' }).click();
  await row(page, 'shapes').getByLabel('New name').fill('My shapes');
  await row(page, 'shapes').getByRole('button', { name: 'Save name' }).click();
  await expect(row(page, 'My shapes')).toBeVisible();
  await expect(page.getByTestId('project-name')).toHaveText(' · Project: My shapes');

  await row(page, 'My shapes').getByRole('button', { name: 'Duplicate' }).click();
  await expect(row(page, 'My shapes (copy)')).toBeVisible();
  await expect(row(page, 'My shapes (copy)').getByTestId('project-details')).toContainText('8 images · 0 runs');
  await expect(rows(page)).toHaveCount(3);

  // The copy shares every image with 'My shapes': deleting it frees only its manifest, and says so.
  await row(page, 'My shapes (copy)').getByRole('button', { name: 'Delete…' }).click();
  const confirm = row(page, 'My shapes (copy)').getByRole('group', { name: 'Delete My shapes (copy)' });
  await expect(confirm).toContainText(/This removes 8 images, 0 runs: [\d.]+ (B|KB) freed \([\d.]+ KB it shares with other projects stays\)/);
  await confirm.getByRole('button', { name: 'Delete for good' }).click();
  await expect(rows(page)).toHaveCount(2);
  await row(page, 'New project').getByRole('button', { name: 'Delete…' }).click();
  await expect(row(page, 'New project').getByRole('group')).toContainText('This removes 0 images, 0 runs');
  await row(page, 'New project').getByRole('button', { name: 'Keep it' }).click();
  await expect(rows(page)).toHaveCount(2);

  await projectsDialog(page).getByRole('button', { name: 'Close' }).click();
  await page.reload();
  await expect(page.getByTestId('autosave-status')).toContainText("Reopened the project 'My shapes'", { timeout: 120_000 });
  await expect(page.getByTestId('image-count')).toHaveText('8 images');

  // Sample project: the built-in sample, as the studio starts.
  await openProjects(page);
  await projectsDialog(page).getByRole('button', { name: 'Sample project' }).click();
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images', { timeout: 60_000 });
  await expect(row(page, 'Sample project').getByTestId('project-details')).toContainText('1,000 images · 0 runs');

  await projectsDialog(page).getByRole('button', { name: 'Keep data persistent' }).click();
  await expect(projectsDialog(page).getByTestId('storage-persistence')).toContainText(/Asked the browser\. Persistent: (granted|not granted)/);
});

test('two tabs on one project: the second opens it read-only, takes it over, and the first is told and saves nothing more', async ({ context }) => {
  test.setTimeout(240_000);
  const first = await context.newPage();
  await openStudio(first);
  await addShapes(first);

  const second = await context.newPage();
  await second.goto('./');
  await expect(second.getByTestId('autosave-status')).toContainText("Reopened the project 'shapes'", { timeout: 120_000 });
  const banner = second.getByRole('alert').filter({ hasText: 'This project is open in another tab' });
  await expect(banner).toContainText('changes made in this tab are not saved');
  await expect(second.getByTestId('project-name')).toHaveText(' · Project: shapes (read-only)');
  // A change in the read-only tab is not saved.
  await second.getByLabel('Epochs').fill('3');
  await second.waitForTimeout(1500);
  await expect(second.getByTestId('autosave-status')).not.toContainText('Saved');

  await banner.getByRole('button', { name: 'Take over here' }).click();
  await expect(banner).toHaveCount(0);
  await expect(first.getByRole('alert').filter({ hasText: 'Another tab took this project over' })).toBeVisible();
  await expect(first.getByTestId('project-name')).toHaveText(' · Project: shapes (read-only)');
  await second.getByLabel('Epochs').fill('4');
  await autosaved(second);
  // The first tab hears of the second's save.
  await expect(first.getByTestId('saved-elsewhere')).toContainText(/The other tab saved it at \d\d:\d\d:\d\d/);

  // In the first tab's list the project is open in another tab now: it cannot be deleted from here.
  await openProjects(first);
  await expect(row(first, 'shapes').getByRole('button', { name: 'Delete…' })).toBeDisabled();
  await projectsDialog(first).getByRole('button', { name: 'Close' }).click();

  // The first tab's change is not written over the second's.
  await first.getByLabel('Epochs').fill('7');
  await first.waitForTimeout(1500);
  const third = await context.newPage();
  await third.goto('./');
  await expect(third.getByTestId('autosave-status')).toContainText("Reopened the project 'shapes'", { timeout: 120_000 });
  await expect(third.getByLabel('Epochs')).toHaveValue('4');
});
