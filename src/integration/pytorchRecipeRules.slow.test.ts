/**
 * Issue 14: the bundle's Python reproduces the studio's own rules, checked against the studio's functions on the
 * same inputs — augmentation (core/augment.ts, with the same seven draws), the learning-rate schedules
 * (core/schedules.ts), the resize rectangles (data/fit.ts), and the pixels a PNG decodes to. All the Python runs
 * in one process (importing torch takes seconds).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, PYTORCH_DIR, requirePythonTorch } from '../../scripts/torchBundle';
import { augmentImage } from '../core/augment';
import { createRandom } from '../core/random';
import { learningRateAt } from '../core/schedules';
import type { AugmentationConfig, LearningRateSchedule, ResizeMode } from '../core/types';
import { fitRects } from '../data/fit';

const dir = mkdtempSync(join(tmpdir(), 'ts-torch-rules-'));

const AUGMENT_SHAPE = { height: 9, width: 13, channels: 3 };
const AUGMENT_PIXELS = Uint8Array.from({ length: 9 * 13 * 3 }, (_, i) => (i * 37 + (i % 7) * 11) % 256);
const AUGMENT_CONFIG: AugmentationConfig = { flip: true, crop: 0.3, rotation: 25, brightness: 0.2, contrast: 0.3 };
const AUGMENT_CASES = [0, 1, 2, 3, 4, 5].map((seed) => {
  const random = createRandom(seed + 100);
  const draws = Array.from({ length: 7 }, () => random());
  let k = 0;
  return { draws, expected: Array.from(augmentImage(AUGMENT_PIXELS, AUGMENT_SHAPE, AUGMENT_CONFIG, () => draws[k++])) };
});
const SCHEDULES: LearningRateSchedule[] = ['constant', 'cosine', 'one-cycle'];
const TOTAL_STEPS = 37;
const FITS: [number, number, ResizeMode][] = [
  [640, 480, 'center-crop'],
  [480, 640, 'center-crop'],
  [640, 480, 'letterbox'],
  [300, 900, 'letterbox'],
  [500, 400, 'stretch'],
];
const alpha = (p: number) => (p % 2 ? 255 : 128);
const rgbaPixel = (p: number) => [p * 12, 255 - p * 9, (p * 51) % 256];

/** What the one Python process answers. */
interface Answers {
  augmented: number[][];
  rates: Record<LearningRateSchedule, number[]>;
  fits: number[][][];
  grey: number[];
  rgb: number[];
  rgbAsGrey: number[];
}

const SCRIPT = `
import sys, json
import numpy as np
data = json.load(open(sys.argv[2]))
sys.path.insert(0, sys.argv[1])
from transfer_studio_torch.augment import augment
from transfer_studio_torch.images import decode_image, fit_rects
from transfer_studio_torch.training import learning_rate_at

class Fixed:
    def __init__(self, values): self.values = np.array(values)
    def random(self, n): return self.values[:n]

px = np.array(data["pixels"], dtype=np.uint8).reshape(9, 13, 3)
shape1, shape3 = {"height": 4, "width": 5, "channels": 1}, {"height": 4, "width": 5, "channels": 3}
print(json.dumps({
    "augmented": [augment(px, data["config"], Fixed(d)).reshape(-1).tolist() for d in data["draws"]],
    "rates": {s: [learning_rate_at({"learningRate": 0.003, "schedule": s}, k, data["total"]) for k in range(data["total"] + 1)] for s in data["schedules"]},
    "fits": [fit_rects(w, h, 224, 160, mode) for w, h, mode in data["fits"]],
    "grey": decode_image(data["grey"], shape1, "stretch").reshape(-1).tolist(),
    "rgb": decode_image(data["rgba"], shape3, "stretch").reshape(-1).tolist(),
    "rgbAsGrey": decode_image(data["rgba"], shape1, "stretch").reshape(-1).tolist(),
}))
`;

let got: Answers;

beforeAll(() => {
  requirePythonTorch();
  const grey = new PNG({ width: 5, height: 4 });
  const rgba = new PNG({ width: 5, height: 4 });
  for (let p = 0; p < 20; p++) {
    grey.data.set([p * 12, p * 12, p * 12, 255], p * 4);
    rgba.data.set([...rgbaPixel(p), alpha(p)], p * 4);
  }
  writeFileSync(join(dir, 'grey.png'), PNG.sync.write(grey, { colorType: 0 }));
  writeFileSync(join(dir, 'rgba.png'), PNG.sync.write(rgba));
  const input = {
    pixels: Array.from(AUGMENT_PIXELS),
    config: AUGMENT_CONFIG,
    draws: AUGMENT_CASES.map((c) => c.draws),
    schedules: SCHEDULES,
    total: TOTAL_STEPS,
    fits: FITS,
    grey: join(dir, 'grey.png'),
    rgba: join(dir, 'rgba.png'),
  };
  writeFileSync(join(dir, 'input.json'), JSON.stringify(input));
  writeFileSync(join(dir, 'rules.py'), SCRIPT);
  got = JSON.parse(execFileSync(PYTHON, [join(dir, 'rules.py'), PYTORCH_DIR, join(dir, 'input.json')], { encoding: 'utf8', timeout: 120_000 })) as Answers;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the bundle's Python follows the studio's rules", () => {
  it('augments an image as core/augment.ts does for the same seven draws (flip, crop, rotation, brightness, contrast)', () => {
    AUGMENT_CASES.forEach((c, i) => {
      // float32 (the studio's warp) against float64 sampling: a value on a .5 boundary may round the other way.
      const off = got.augmented[i].map((v, j) => Math.abs(v - c.expected[j]));
      expect(Math.max(...off), `draws of case ${i}`).toBeLessThanOrEqual(1);
      expect(off.filter((d) => d > 0).length, `case ${i}: values off by one`).toBeLessThanOrEqual(3);
      expect(got.augmented[i]).not.toEqual(Array.from(AUGMENT_PIXELS));
    });
  });

  it.each(SCHEDULES)('the %s schedule gives core/schedules.ts learningRateAt at every step', (schedule) => {
    const rates = got.rates[schedule];
    expect(rates).toHaveLength(TOTAL_STEPS + 1);
    rates.forEach((rate, step) => expect(rate).toBeCloseTo(learningRateAt({ learningRate: 0.003, schedule }, step, TOTAL_STEPS), 12));
  });

  it.each(FITS.map((fit, i) => [...fit, i] as const))(
    'fits a %i×%i picture to 224×160 by %s with data/fit.ts fitRects rectangles',
    (width, height, mode, i) => {
      const r = fitRects(width, height, 224, 160, mode);
      expect(got.fits[i].flat()).toEqual([r.sx, r.sy, r.sw, r.sh, r.dx, r.dy, r.dw, r.dh].map((v) => expect.closeTo(v, 9)));
    },
  );

  it("decodes a grey PNG and an RGBA PNG at the model's size to the pixels the studio would read (alpha over black, Rec. 601 grey)", () => {
    expect(got.grey).toEqual(Array.from({ length: 20 }, (_, p) => p * 12));
    const over = (v: number, p: number) => Math.round((v * alpha(p)) / 255);
    expect(got.rgb).toEqual(Array.from({ length: 20 }, (_, p) => rgbaPixel(p).map((v) => over(v, p))).flat());
    // The studio rounds once (luma of the unpremultiplied values × alpha); the bundle composites, then takes the luma.
    const luma = (p: number) => {
      const [r, g, b] = rgbaPixel(p);
      return Math.round((0.299 * r + 0.587 * g + 0.114 * b) * (alpha(p) / 255));
    };
    got.rgbAsGrey.forEach((v, p) => expect(Math.abs(v - luma(p))).toBeLessThanOrEqual(1));
  });
});
