"""The studio's augmentation (core/augment.ts) in numpy: one inverse affine map (flip, crop, rotation) sampled bilinearly with
reflected edges, then contrast about the image mean and a brightness shift. Draws come from a seeded numpy generator."""
import math

import numpy as np


def is_on(config):
    """True when the augmentation changes images at all (null / all off: False)."""
    return bool(config) and (config.get("flip") is True or any(config.get(k, 0) != 0 for k in ("crop", "rotation", "brightness", "contrast")))


def _draw(height, width, config, rng):
    # Always 7 numbers, in the studio's order, whatever is on.
    r = rng.random(7)
    symmetric = lambda v: 2 * v - 1  # noqa: E731
    flip = r[0] < 0.5 and bool(config.get("flip"))
    keep = 1 - float(config.get("crop", 0)) * r[1]
    shift_x = symmetric(r[2]) * (1 - keep) * width / 2
    shift_y = symmetric(r[3]) * (1 - keep) * height / 2
    angle = symmetric(r[4]) * float(config.get("rotation", 0)) * math.pi / 180
    brightness = symmetric(r[5]) * float(config.get("brightness", 0)) * 255
    contrast = 1 + symmetric(r[6]) * float(config.get("contrast", 0))
    return flip, keep, shift_x, shift_y, angle, brightness, contrast


def _reflect(i, n):
    period = 2 * n
    m = np.mod(i, period)
    return np.where(m < n, m, period - 1 - m)


def augment(pixels, config, rng):
    """A new augmented copy of one HWC uint8 image (the studio's augmentImage), drawing from `rng` (numpy Generator)."""
    height, width, _ = pixels.shape
    flip, keep, shift_x, shift_y, angle, brightness, contrast = _draw(height, width, config, rng)
    geometric = flip or keep != 1 or angle != 0
    if not geometric and contrast == 1 and brightness == 0:
        return pixels.copy()
    values = pixels.astype(np.float32)
    if geometric:
        cos, sin, sign = math.cos(angle), math.sin(angle), (-1 if flip else 1)
        v, u = np.meshgrid(np.arange(height) + 0.5 - height / 2, np.arange(width) + 0.5 - width / 2, indexing="ij")
        sx = keep * cos * sign * u + keep * sin * v + shift_x + width / 2 - 0.5
        sy = -keep * sin * sign * u + keep * cos * v + shift_y + height / 2 - 0.5
        x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
        fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
        left, right = _reflect(x0, width), _reflect(x0 + 1, width)
        top, bottom = _reflect(y0, height), _reflect(y0 + 1, height)
        upper = values[top, left] * (1 - fx) + values[top, right] * fx
        lower = values[bottom, left] * (1 - fx) + values[bottom, right] * fx
        values = upper * (1 - fy) + lower * fy
    mean = float(values.mean()) if contrast != 1 else 0.0
    values = (values - mean) * contrast + mean + brightness
    return np.clip(np.round(values), 0, 255).astype(np.uint8)
