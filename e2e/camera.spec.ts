import { expect, test, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../playwright.config';
import { openStudio } from './studio';

// Chromium's fake camera (a moving test pattern with a frame counter, so frames differ over time) and its
// fake permission prompt, which allows: for this file only.
test.use({
  launchOptions: { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] },
});

const classList = (page: Page) => page.getByRole('list', { name: 'Classes' });
const card = (page: Page, name: string) => classList(page).getByRole('listitem', { name: new RegExp(`^Class ${name}: `) });
const imagesOf = async (page: Page, name: string) =>
  Number((await card(page, name).getAttribute('aria-label'))!.match(/: ([\d,]+) images?$/)![1].replace(/,/g, ''));

async function newClass(page: Page, name: string) {
  await page.getByLabel('New class name').fill(name);
  await page.getByRole('button', { name: 'New class' }).click();
  await expect(card(page, name)).toBeVisible();
}

test('frames captured from the camera into two classes train a model: hold with the pointer and with Space, counter, Stop camera', async ({ page }) => {
  test.setTimeout(300_000);
  await openStudio(page);
  await newClass(page, 'wave');
  await newClass(page, 'still');

  // wave: hold the button with the pointer for about 2 s (5 frames a second), the counter counting.
  await card(page, 'wave').getByRole('button', { name: 'Capture from camera into wave' }).click();
  const preview = page.getByRole('group', { name: 'Camera for wave' });
  await expect(preview.getByLabel('Camera preview for wave')).toBeVisible();
  await expect.poll(() => preview.getByLabel('Camera preview for wave').evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
  // The video counts the frames it presents: the recorder skips a tick that would grab the same frame again.
  await expect
    .poll(() => preview.getByLabel('Camera preview for wave').evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames))
    .toBeGreaterThan(0);
  const hold = preview.getByRole('button', { name: 'Hold to record frames into wave' });
  await hold.hover();
  await page.mouse.down();
  await expect(hold).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('camera-count-wave')).toHaveText(/^([3-9]|\d{2,}) frames recorded$/);
  await page.waitForTimeout(1200);
  await page.mouse.up();
  const waveSeconds = await preview.getByLabel('Camera preview for wave').evaluate((v: HTMLVideoElement) => v.currentTime);
  await expect(page.getByTestId('camera-count-wave')).toHaveText(/^Added \d+ frames to wave\.$/);
  const wave = await imagesOf(page, 'wave');
  // Every frame differs (the fake camera's counter moves), so none is refused as a duplicate: about 5 a second.
  expect(wave).toBeGreaterThanOrEqual(6);
  expect(wave).toBeLessThanOrEqual(16);
  await expect(page.getByTestId('camera-count-wave')).toHaveText(`Added ${wave} frames to wave.`);
  // The frames were decoded like dropped files, at the model's input: the thumbnails are there.
  await expect(card(page, 'wave').getByRole('list', { name: 'Images of class wave' }).getByRole('listitem')).toHaveCount(wave);
  await preview.getByRole('button', { name: 'Stop camera for wave' }).click();
  await expect(preview).toHaveCount(0);
  // Stopping released the camera: no live track is left.
  await expect.poll(() => page.evaluate(() => document.querySelectorAll('video').length)).toBe(0);

  // still: Space held while the button has focus.
  await card(page, 'still').getByRole('button', { name: 'Capture from camera into still' }).click();
  const stillHold = page.getByRole('button', { name: 'Hold to record frames into still' });
  await expect.poll(() => page.getByLabel('Camera preview for still').evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
  // Chromium's fake camera starts its pattern and clock afresh with every stream, so still's first seconds would be
  // byte for byte wave's frames, which the ingest rightly refuses as duplicates: record still past the seconds wave saw.
  await expect
    .poll(() => page.getByLabel('Camera preview for still').evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 })
    .toBeGreaterThan(waveSeconds + 1);
  await stillHold.focus();
  await page.keyboard.down(' ');
  await expect(page.getByTestId('camera-count-still')).toHaveText(/^([3-9]|\d{2,}) frames recorded$/);
  await page.waitForTimeout(1200);
  await page.keyboard.up(' ');
  await expect(page.getByTestId('camera-count-still')).toHaveText(/^Added \d+ frames to still\.$/);
  expect(await imagesOf(page, 'still')).toBeGreaterThanOrEqual(6);
  await page.getByRole('button', { name: 'Stop camera for still' }).click();

  // Only the two camera classes: the sample's digit classes go.
  for (const digit of ['5', '6', '7', '8', '9']) {
    await card(page, digit)
      .getByRole('button', { name: `Delete ${digit}` })
      .click();
    await card(page, digit)
      .getByRole('button', { name: new RegExp(`^Delete ${digit} and `) })
      .click();
  }
  await expect(classList(page).getByRole('listitem', { name: /^Class / })).toHaveCount(2);

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const table = page.getByRole('region', { name: 'Compare runs' }).getByRole('table', { name: /runs? of this model/ });
  await expect(table.getByRole('row').filter({ has: page.getByRole('checkbox') })).toHaveCount(1, { timeout: 240_000 });
  await expect(table).toContainText('Run 1');
});

test('permission denied, no camera, and a camera lost mid-capture each say what happened', async ({ page }) => {
  // getUserMedia answers as the test says: 'deny', 'none', or the fake camera (kept on window to end its track).
  await page.addInitScript(() => {
    const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    const w = window as unknown as { __camera: string; __stream?: MediaStream };
    w.__camera = 'deny';
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      if (w.__camera === 'deny') throw new DOMException('Permission denied', 'NotAllowedError');
      if (w.__camera === 'none') throw new DOMException('Requested device not found', 'NotFoundError');
      w.__stream = await real(constraints);
      return w.__stream;
    };
  });
  await openStudio(page);
  const five = card(page, '5');
  await five.getByRole('button', { name: 'Capture from camera into 5' }).click();
  await expect(five.getByRole('alert')).toHaveText(/^Camera permission was denied\. Allow the camera for this page/);
  await expect(page.getByRole('group', { name: 'Camera for 5' })).toHaveCount(0);

  await page.evaluate(() => ((window as unknown as { __camera: string }).__camera = 'none'));
  await five.getByRole('button', { name: 'Capture from camera into 5' }).click();
  await expect(five.getByRole('alert')).toHaveText(/^No camera was found\./);

  // The real (fake) camera opens; its track then ends by itself while recording: the frames so far are kept.
  await page.evaluate(() => ((window as unknown as { __camera: string }).__camera = 'real'));
  await five.getByRole('button', { name: 'Capture from camera into 5' }).click();
  await expect(five.getByRole('alert')).toHaveCount(0);
  await expect.poll(() => page.getByLabel('Camera preview for 5').evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
  const before = await imagesOf(page, '5');
  await page.getByRole('button', { name: 'Hold to record frames into 5' }).hover();
  await page.mouse.down();
  await expect(page.getByTestId('camera-count-5')).toHaveText(/^([2-9]|\d{2,}) frames recorded$/);
  await page.evaluate(() => (window as unknown as { __stream: MediaStream }).__stream.getVideoTracks()[0].dispatchEvent(new Event('ended')));
  await expect(five.getByRole('alert')).toHaveText(/^The camera was lost during capture .* The \d+ frames recorded before that were kept\./);
  await page.mouse.up();
  await expect(page.getByRole('group', { name: 'Camera for 5' })).toHaveCount(0);
  expect(await imagesOf(page, '5')).toBeGreaterThan(before);
  // Lost means released: the stream's tracks were stopped.
  expect(await page.evaluate(() => (window as unknown as { __stream: MediaStream }).__stream.getTracks().every((t) => t.readyState === 'ended'))).toBe(true);
});
