/**
 * A small two-class image set made by code, for the "defaults work on small
 * data" checks (Vitest and the Playwright journey): soft light blobs on a grey
 * noisy ground against straight stripes, each image with its own positions,
 * sizes, angle, frequency, phase and noise. The contrast is low on purpose,
 * as in photos: MobileNetV2's features tell the classes apart, but a fresh
 * head needs far more than ten Adam steps to find it (the old defaults got
 * 50% on this set; trained to convergence the head gets 100%).
 * Pure: no tfjs, no DOM.
 */
import { createRandom } from '../../core/random';

/** The two classes, in folder order. */
export const SMALL_DATA_CLASSES = ['blobs', 'stripes'] as const;

/** One generated image: RGB uint8 pixels, row-major HWC, `size`×`size`×3. */
export interface SmallDataImage {
  className: (typeof SMALL_DATA_CLASSES)[number];
  /** "blobs/blobs-03.png": the path it has inside the generated folder. */
  path: string;
  pixels: Uint8Array;
}

const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** 1–3 soft light blobs (Gaussian, radius 8–20% of the side) on a grey ground with noise. */
function blobs(size: number, random: () => number): Uint8Array {
  const pixels = new Uint8Array(size * size * 3);
  const spots = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
    x: size * (0.2 + 0.6 * random()),
    y: size * (0.2 + 0.6 * random()),
    r: size * (0.08 + 0.12 * random()),
  }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let light = 0;
      for (const s of spots) light += Math.exp(-((x - s.x) ** 2 + (y - s.y) ** 2) / (2 * s.r * s.r));
      for (let c = 0; c < 3; c++) pixels[(y * size + x) * 3 + c] = clampByte(100 + 60 * Math.min(1, light) + (random() - 0.5) * 80);
    }
  }
  return pixels;
}

/** Straight grey stripes at a random angle, 3–6 periods across, random phase, with noise. */
function stripes(size: number, random: () => number): Uint8Array {
  const pixels = new Uint8Array(size * size * 3);
  const angle = Math.PI * random();
  const periods = 3 + 3 * random();
  const phase = 2 * Math.PI * random();
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const wave = 0.5 + 0.5 * Math.sin(((x * dx + y * dy) / size) * 2 * Math.PI * periods + phase);
      const v = 90 + 40 * wave;
      for (let c = 0; c < 3; c++) pixels[(y * size + x) * 3 + c] = clampByte(v + (random() - 0.5) * 80);
    }
  }
  return pixels;
}

/**
 * `perClass` blobs then `perClass` stripes images of `size`×`size` RGB, the
 * same for the same `seed`.
 */
export function makeSmallDataImages(size: number, perClass: number, seed = 11): SmallDataImage[] {
  const random = createRandom(seed);
  const images: SmallDataImage[] = [];
  for (const className of SMALL_DATA_CLASSES) {
    for (let i = 0; i < perClass; i++) {
      const pixels = className === 'blobs' ? blobs(size, random) : stripes(size, random);
      images.push({ className, path: `${className}/${className}-${String(i).padStart(2, '0')}.png`, pixels });
    }
  }
  return images;
}
