import type { ImageShape, LabeledImage } from './types';

/** The manifest beside the built-in sample's pixel file. */
interface SampleManifest {
  name: string;
  height: number;
  width: number;
  channels: number;
  classNames: string[];
  labels: number[];
}

/**
 * Fetches the built-in sample (a JSON manifest and a raw uint8 file of
 * N × H × W × C pixels) from `manifestUrl`; the pixel file sits beside it
 * with the same stem and `.bin`.
 */
export async function fetchSampleDataset(manifestUrl: string): Promise<{ name: string; images: LabeledImage[]; shape: ImageShape }> {
  const manifestResponse = await fetch(manifestUrl);
  if (!manifestResponse.ok) throw new Error(`Could not fetch the sample dataset '${manifestUrl}': HTTP ${manifestResponse.status}.`);
  const manifest = (await manifestResponse.json()) as SampleManifest;
  const pixelsUrl = manifestUrl.replace(/\.json$/, '.bin');
  const pixelsResponse = await fetch(pixelsUrl);
  if (!pixelsResponse.ok) throw new Error(`Could not fetch the sample pixels '${pixelsUrl}': HTTP ${pixelsResponse.status}.`);
  const pixels = new Uint8Array(await pixelsResponse.arrayBuffer());
  const size = manifest.height * manifest.width * manifest.channels;
  if (pixels.length !== size * manifest.labels.length) {
    throw new Error(`The sample pixels hold ${pixels.length} bytes; ${manifest.labels.length} images of ${size} need ${size * manifest.labels.length}.`);
  }
  const counters = manifest.classNames.map(() => 0);
  const images = manifest.labels.map((label, i) => ({
    path: `sample/${manifest.classNames[label]}/${String(++counters[label]).padStart(4, '0')}`,
    className: manifest.classNames[label],
    pixels: pixels.subarray(i * size, (i + 1) * size),
  }));
  return { name: manifest.name, images, shape: { height: manifest.height, width: manifest.width, channels: manifest.channels === 3 ? 3 : 1 } };
}
