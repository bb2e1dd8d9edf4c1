import { expect, test } from '@playwright/test';
import { makePng } from './fixtures';
import { openStudio } from './studio';

test('after a run: accuracy, a confusion matrix whose cells open their images, a test split, and Predict', async ({ page }) => {
  test.setTimeout(300_000);
  await openStudio(page);
  const evaluation = page.getByRole('region', { name: '4 · Evaluation' });
  const predict = page.getByRole('region', { name: '5 · Predict' });
  await expect(evaluation).toContainText('Train a model');
  await expect(predict.getByLabel('Pick images to predict')).toBeDisabled();

  await page.getByLabel('Test split (%)').fill('10');
  await page.getByLabel('Epochs').fill('2');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByText(/Finished after 2 full epochs/)).toBeVisible({ timeout: 180_000 });

  // Validation: 15% of 200 images in each of 5 classes.
  await expect(evaluation.getByText(/^Validation set accuracy:/)).toContainText(/\d+\.\d%/);
  await expect(evaluation).toContainText(/of 150 images correct/);
  const matrix = evaluation.getByRole('table', { name: /Confusion matrix, validation set \(150 images\)/ });
  await expect(matrix.getByRole('columnheader')).toHaveCount(6);
  await expect(matrix.getByRole('rowheader')).toHaveCount(5);
  const cells = matrix.getByRole('button');
  await expect(cells).toHaveCount(25);
  const counts = (await cells.allTextContents()).map((t) => Number(t.replace(/,/g, '')));
  expect(counts.reduce((a, b) => a + b, 0)).toBe(150);
  await expect(evaluation.getByRole('table', { name: /Per-class precision, recall and F1/ }).getByRole('row')).toHaveCount(7);

  // A mistake if the model made one, else the first class's correct images.
  const names = await cells.evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label') ?? ''));
  const mistake = names.findIndex((_, i) => counts[i] > 0 && Math.floor(i / 5) !== i % 5);
  const pick = mistake >= 0 ? mistake : names.findIndex((_, i) => counts[i] > 0);
  const [, n, trueClass, predictedClass] = /^([\d,]+) images? of (.+) predicted as (.+)$/.exec(names[pick])!;
  await cells.nth(pick).click();
  await expect(cells.nth(pick)).toHaveAttribute('aria-pressed', 'true');
  const cell = evaluation.getByRole('region', { name: `Images of ${trueClass} predicted as ${predictedClass}` });
  const shown = Math.min(Number(n), 24);
  await expect(cell.getByRole('img')).toHaveCount(shown);
  const firstBars = cell.getByRole('list', { name: /^Probabilities for / }).first();
  await expect(firstBars.getByRole('listitem').first()).toContainText(/\d+\.\d%/);
  await expect(firstBars.getByRole('listitem').filter({ hasText: `${trueClass} (true)` })).toHaveCount(1);

  // The held-out test set (10% of each class).
  await evaluation.getByRole('radio', { name: /^Test/ }).check();
  await expect(evaluation.getByRole('table', { name: /Confusion matrix, test set \(100 images\)/ })).toBeVisible();
  await expect(evaluation.getByText(/^Test set accuracy:/)).toContainText(/\d+\.\d%/);

  // Predict one picked image and one bad file: the bad one is named, the good one gets its top 3.
  await predict.getByLabel('Pick images to predict').setInputFiles([
    { name: 'digit.png', mimeType: 'image/png', buffer: makePng(40, 3) },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') },
  ]);
  const top = predict.getByRole('list', { name: 'Top 3 classes for digit.png' });
  await expect(top.getByRole('listitem')).toHaveCount(3);
  await expect(top.getByRole('listitem').first()).toContainText(/\d+\.\d%/);
  await expect(predict.getByRole('alert')).toContainText("'notes.txt' is not an image");
  await expect(predict.getByRole('img', { name: 'digit.png' })).toBeVisible();

  // A drop and a paste (while the zone has focus) predict too; the paste stays out of the classes.
  const zone = predict.getByRole('group', { name: /Images to predict/ });
  const png = [...makePng(32, 1)];
  const transfer = async (name: string) =>
    page.evaluateHandle(
      ([bytes, fileName]) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes as number[])], fileName as string, { type: 'image/png' }));
        return data;
      },
      [png, name] as const,
    );
  await zone.dispatchEvent('drop', { dataTransfer: await transfer('dropped.png') });
  await expect(predict.getByRole('list', { name: 'Top 3 classes for dropped.png' }).getByRole('listitem')).toHaveCount(3);
  await zone.focus();
  const images = await page.getByTestId('image-count').textContent();
  const pasted = await transfer('pasted.png');
  await zone.evaluate((element, data) => element.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })), pasted);
  await expect(predict.getByRole('list', { name: 'Top 3 classes for pasted.png' }).getByRole('listitem')).toHaveCount(3);
  await expect(page.getByTestId('image-count')).toHaveText(images!);
});
