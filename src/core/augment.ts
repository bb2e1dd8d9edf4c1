/**
 * Data augmentation of uint8 HWC images, with no tfjs so the main thread can
 * preview it and validate settings (the worker's batch source is in
 * augmentedSource.ts). Each image gets one inverse affine map (flip, crop =
 * scale + translate, rotation) sampled bilinearly, then brightness and
 * contrast. Samples that fall outside the image are reflected back in
 * (half-sample symmetric, "d c b a | a b c d | d c b a", Keras' `reflect`),
 * so rotated corners show mirrored content instead of black wedges or
 * smeared edge pixels.
 */
import type { Random } from './random';
import type { AugmentationConfig, InputShape } from './types';

/** Largest crop: at least half of each side is kept. */
export const MAX_CROP = 0.5;
/** Largest rotation in degrees: beyond it digits and objects stop looking like themselves. */
export const MAX_ROTATION = 45;

/** Sensible settings for when a user first turns augmentation on. */
export const DEFAULT_AUGMENTATION: AugmentationConfig = { flip: true, crop: 0.1, rotation: 10, brightness: 0.1, contrast: 0.1 };

/** True when `config` changes images at all: flip on or any amount non-zero. Null or absent is off. */
export function isAugmentationOn(config: AugmentationConfig | null | undefined): boolean {
  if (!config) return false;
  return config.flip === true || config.crop !== 0 || config.rotation !== 0 || config.brightness !== 0 || config.contrast !== 0;
}

/**
 * Why `config` cannot be used, as a sentence that quotes the bad value and
 * says what to do, or null when it is fine (null/absent config is off and fine).
 */
export function checkAugmentation(config: AugmentationConfig | null | undefined): string | null {
  if (!config) return null;
  const { crop, rotation, brightness, contrast } = config;
  if (typeof config.flip !== 'boolean') return `Horizontal flip must be on or off, not ${JSON.stringify(config.flip)}.`;
  if (!Number.isFinite(crop) || crop < 0) return `Crop ${crop} is not a fraction from 0 (off) to below ${MAX_CROP}: set it to 0.1, say.`;
  if (crop >= MAX_CROP) return `Crop ${crop} is too large: keep at least half of each side (crop < ${MAX_CROP}).`;
  if (!Number.isFinite(rotation) || rotation < 0) return `Rotation ${rotation}° is not an angle from 0 (off) to ${MAX_ROTATION} degrees: set it to 10, say.`;
  if (rotation > MAX_ROTATION) return `Rotation ${rotation}° is too large: keep it at most ${MAX_ROTATION} degrees.`;
  if (!Number.isFinite(brightness) || brightness < 0 || brightness > 1) {
    return `Brightness ${brightness} is out of range: it is a fraction of the pixel range from 0 (off) to 1; 0.1 is a usual value.`;
  }
  if (!Number.isFinite(contrast) || contrast < 0 || contrast > 1) {
    return `Contrast ${contrast} is out of range: it is a fraction from 0 (off) to 1; 0.1 is a usual value.`;
  }
  return null;
}

/** The random choices made for one image. */
export interface AugmentationDraw {
  flip: boolean;
  /** Fraction of each side kept by the crop, in [1 − crop, 1]. */
  keep: number;
  /** Centre of the crop window relative to the image centre, in pixels. */
  shiftX: number;
  shiftY: number;
  /** Rotation angle in radians. */
  angle: number;
  /** Added to every value after contrast, in pixel units (0..255 scale). */
  brightness: number;
  /** Contrast factor about the image mean. */
  contrast: number;
}

/**
 * Draws the choices for one image. Always takes exactly 7 numbers from
 * `random`, whatever is on, so turning one kind on or off does not change
 * the draws of the others.
 */
export function drawAugmentation(shape: InputShape, config: AugmentationConfig, random: Random): AugmentationDraw {
  const symmetric = () => 2 * random() - 1;
  const flip = random() < 0.5 && config.flip;
  const keep = 1 - config.crop * random();
  const shiftX = (symmetric() * (1 - keep) * shape.width) / 2;
  const shiftY = (symmetric() * (1 - keep) * shape.height) / 2;
  const angle = (symmetric() * config.rotation * Math.PI) / 180;
  const brightness = symmetric() * config.brightness * 255;
  const contrast = 1 + symmetric() * config.contrast;
  return { flip, keep, shiftX, shiftY, angle, brightness, contrast };
}

/** Index `i` reflected into [0, n) (half-sample symmetric: -1 → 0, n → n − 1). */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  const m = ((i % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/** Whether `draw` leaves the geometry unchanged (so sampling can be skipped). */
function isIdentityGeometry(draw: AugmentationDraw): boolean {
  return !draw.flip && draw.keep === 1 && draw.angle === 0;
}

/**
 * Applies `draw`'s geometry: for each output pixel centre, the inverse map
 * (un-flip, un-rotate, then scale by `keep` and shift to the crop window)
 * gives a source position that is sampled bilinearly with reflected edges.
 */
function warp(pixels: Uint8Array, shape: InputShape, draw: AugmentationDraw): Float32Array {
  const { height, width, channels } = shape;
  const out = new Float32Array(pixels.length);
  const cos = Math.cos(draw.angle);
  const sin = Math.sin(draw.angle);
  const sign = draw.flip ? -1 : 1;
  // source x = ax·u + bx·v + cx with u, v the output pixel centre relative to the image centre.
  const ax = draw.keep * cos * sign;
  const bx = draw.keep * sin;
  const cx = draw.shiftX + width / 2 - 0.5;
  const ay = -draw.keep * sin * sign;
  const by = draw.keep * cos;
  const cy = draw.shiftY + height / 2 - 0.5;
  for (let y = 0; y < height; y++) {
    const v = y + 0.5 - height / 2;
    for (let x = 0; x < width; x++) {
      const u = x + 0.5 - width / 2;
      const sx = ax * u + bx * v + cx;
      const sy = ay * u + by * v + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const left = reflect(x0, width) * channels;
      const right = reflect(x0 + 1, width) * channels;
      const top = reflect(y0, height) * width * channels;
      const bottom = reflect(y0 + 1, height) * width * channels;
      const target = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        const upper = pixels[top + left + c] * (1 - fx) + pixels[top + right + c] * fx;
        const lower = pixels[bottom + left + c] * (1 - fx) + pixels[bottom + right + c] * fx;
        out[target + c] = upper * (1 - fy) + lower * fy;
      }
    }
  }
  return out;
}

/**
 * Returns a new augmented copy of one image: `pixels` holds height × width ×
 * channels uint8 values (HWC, 1 or 3 channels) of `shape`; draws come from
 * `random` (use createRandom(seed) for repeatable results). Geometry first
 * (one inverse affine map, bilinear, reflected edges), then contrast about
 * the image's mean over all values and a brightness shift, rounded and
 * clamped to 0..255. With everything off the copy is bit-identical.
 */
export function augmentImage(pixels: Uint8Array, shape: InputShape, config: AugmentationConfig, random: Random): Uint8Array {
  const { height, width, channels } = shape;
  if (pixels.length !== height * width * channels) {
    throw new Error(
      `Augmentation got ${pixels.length} pixel values for a ${height}×${width}×${channels} image; pass exactly one image of the model's input size.`,
    );
  }
  const draw = drawAugmentation(shape, config, random);
  const geometric = !isIdentityGeometry(draw);
  const colour = draw.contrast !== 1 || draw.brightness !== 0;
  if (!geometric && !colour) return pixels.slice();
  const values = geometric ? warp(pixels, shape, draw) : Float32Array.from(pixels);
  const out = new Uint8Array(values.length);
  let mean = 0;
  if (draw.contrast !== 1) {
    for (let i = 0; i < values.length; i++) mean += values[i];
    mean /= Math.max(values.length, 1);
  }
  for (let i = 0; i < values.length; i++) {
    const value = (values[i] - mean) * draw.contrast + mean + draw.brightness;
    out[i] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
  }
  return out;
}
