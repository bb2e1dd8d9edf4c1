import type { ResizeMode } from '../core/types';
import type { ImageShape } from './types';

/** Where a picture is read from and drawn to when it is fitted to the model's input: canvas `drawImage` arguments. */
export interface FitRects {
  /** Source rectangle, in source pixels. */
  sx: number;
  sy: number;
  sw: number;
  sh: number;
  /** Destination rectangle, in destination pixels; outside it the image is black. */
  dx: number;
  dy: number;
  dw: number;
  dh: number;
}

/**
 * How a `srcW`×`srcH` picture fills a `dstW`×`dstH` input under `mode`:
 * `stretch` maps all onto all; `center-crop` keeps the largest centred part
 * with the target's aspect ratio; `letterbox` keeps all of it, centred, with
 * black bars.
 */
export function fitRects(srcW: number, srcH: number, dstW: number, dstH: number, mode: ResizeMode): FitRects {
  const full = { sx: 0, sy: 0, sw: srcW, sh: srcH, dx: 0, dy: 0, dw: dstW, dh: dstH };
  if (mode === 'stretch' || srcW * dstH === srcH * dstW) return full;
  const srcWider = srcW * dstH > srcH * dstW;
  if (mode === 'center-crop') {
    if (srcWider) {
      const sw = (srcH * dstW) / dstH;
      return { ...full, sx: (srcW - sw) / 2, sw };
    }
    const sh = (srcW * dstH) / dstW;
    return { ...full, sy: (srcH - sh) / 2, sh };
  }
  if (srcWider) {
    const dh = (srcH * dstW) / srcW;
    return { ...full, dy: (dstH - dh) / 2, dh };
  }
  const dw = (srcW * dstH) / srcH;
  return { ...full, dx: (dstW - dw) / 2, dw };
}

/**
 * Resizes one HWC uint8 image from `from` to `to` (bilinear, pixel centres
 * aligned, as a canvas does without smoothing filters) under `mode`,
 * converting gray ↔ RGB (gray → RGB repeats the value; RGB → gray uses
 * Rec. 601 luma, like `rgbaToChannels`). Used where pixels, not files, are
 * kept: the built-in sample when the model's input size changes.
 */
export function resizePixels(pixels: Uint8Array, from: ImageShape, to: ImageShape, mode: ResizeMode): Uint8Array {
  const out = new Uint8Array(to.height * to.width * to.channels);
  const r = fitRects(from.width, from.height, to.width, to.height, mode);
  const gray = new Float32Array(from.channels === 1 ? 0 : from.height * from.width);
  if (from.channels === 3 && to.channels === 1) {
    for (let i = 0; i < gray.length; i++) gray[i] = 0.299 * pixels[i * 3] + 0.587 * pixels[i * 3 + 1] + 0.114 * pixels[i * 3 + 2];
  }
  const sample = (x: number, y: number, c: number): number => {
    // Bilinear read at source coordinates (x, y) of channel c in the target's channel space.
    const x0 = Math.max(0, Math.min(from.width - 1, Math.floor(x)));
    const y0 = Math.max(0, Math.min(from.height - 1, Math.floor(y)));
    const x1 = Math.min(from.width - 1, x0 + 1);
    const y1 = Math.min(from.height - 1, y0 + 1);
    const fx = Math.max(0, Math.min(1, x - x0));
    const fy = Math.max(0, Math.min(1, y - y0));
    const at = (px: number, py: number): number => {
      const p = py * from.width + px;
      if (from.channels === to.channels) return pixels[p * from.channels + c];
      return from.channels === 1 ? pixels[p] : gray[p];
    };
    const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
    const bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
    return top * (1 - fy) + bottom * fy;
  };
  const scaleX = r.sw / r.dw;
  const scaleY = r.sh / r.dh;
  for (let y = 0; y < to.height; y++) {
    if (y + 0.5 < r.dy || y + 0.5 > r.dy + r.dh) continue;
    const sy = r.sy + (y + 0.5 - r.dy) * scaleY - 0.5;
    for (let x = 0; x < to.width; x++) {
      if (x + 0.5 < r.dx || x + 0.5 > r.dx + r.dw) continue;
      const sx = r.sx + (x + 0.5 - r.dx) * scaleX - 0.5;
      for (let c = 0; c < to.channels; c++) out[(y * to.width + x) * to.channels + c] = Math.round(sample(sx, sy, c));
    }
  }
  return out;
}
