import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitRects, resizePixels } from './fit';

describe('fitRects', () => {
  it.each([
    ['stretch', 400, 200, 100, 100, { sx: 0, sy: 0, sw: 400, sh: 200, dx: 0, dy: 0, dw: 100, dh: 100 }],
    ['center-crop', 400, 200, 100, 100, { sx: 100, sy: 0, sw: 200, sh: 200, dx: 0, dy: 0, dw: 100, dh: 100 }],
    ['center-crop', 200, 400, 100, 100, { sx: 0, sy: 100, sw: 200, sh: 200, dx: 0, dy: 0, dw: 100, dh: 100 }],
    ['letterbox', 400, 200, 100, 100, { sx: 0, sy: 0, sw: 400, sh: 200, dx: 0, dy: 25, dw: 100, dh: 50 }],
    ['letterbox', 200, 400, 100, 100, { sx: 0, sy: 0, sw: 200, sh: 400, dx: 25, dy: 0, dw: 50, dh: 100 }],
    ['letterbox', 300, 300, 100, 100, { sx: 0, sy: 0, sw: 300, sh: 300, dx: 0, dy: 0, dw: 100, dh: 100 }],
  ] as const)('%s %i×%i → %i×%i', (mode, sw, sh, dw, dh, expected) => {
    expect(fitRects(sw, sh, dw, dh, mode)).toEqual(expected);
  });

  it('keeps the aspect ratio in crop and letterbox modes, within the bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 512 }),
        fc.integer({ min: 1, max: 512 }),
        fc.constantFrom('center-crop', 'letterbox'),
        (sw, sh, dw, dh, mode) => {
          const r = fitRects(sw, sh, dw, dh, mode);
          expect(r.sw / r.sh).toBeCloseTo(mode === 'center-crop' ? dw / dh : sw / sh, 6);
          expect(r.dw / r.dh).toBeCloseTo(mode === 'center-crop' ? dw / dh : sw / sh, 6);
          expect(r.sx).toBeGreaterThanOrEqual(-1e-9);
          expect(r.sx + r.sw).toBeLessThanOrEqual(sw + 1e-9);
          expect(r.dy + r.dh).toBeLessThanOrEqual(dh + 1e-9);
        },
      ),
    );
  });
});

describe('resizePixels', () => {
  it('upscales gray to RGB by repeating the value, keeping a uniform image uniform', () => {
    const out = resizePixels(new Uint8Array(4).fill(77), { height: 2, width: 2, channels: 1 }, { height: 5, width: 7, channels: 3 }, 'stretch');
    expect(out.length).toBe(5 * 7 * 3);
    expect(out.every((v) => v === 77)).toBe(true);
  });

  it('letterboxes with black bars and crops to the centre', () => {
    // 4 wide × 2 high: left half 200, right half 100.
    const src = Uint8Array.from([200, 200, 100, 100, 200, 200, 100, 100]);
    const from = { height: 2, width: 4, channels: 1 } as const;
    const boxed = resizePixels(src, from, { height: 4, width: 4, channels: 1 }, 'letterbox');
    expect(Array.from(boxed.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(boxed.subarray(12, 16))).toEqual([0, 0, 0, 0]);
    expect(boxed[4]).toBe(200);
    expect(boxed[7]).toBe(100);
    const cropped = resizePixels(src, from, { height: 2, width: 2, channels: 1 }, 'center-crop');
    expect(Array.from(cropped)).toEqual([200, 100, 200, 100]);
  });

  it('turns RGB into gray with Rec. 601 luma', () => {
    const out = resizePixels(Uint8Array.from([255, 0, 0]), { height: 1, width: 1, channels: 3 }, { height: 1, width: 1, channels: 1 }, 'stretch');
    expect(out[0]).toBe(Math.round(0.299 * 255));
  });
});
