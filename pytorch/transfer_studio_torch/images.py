"""Images in: class folders, the recipe's split (by path, then by SHA-256), decoding and the studio's resize and range."""
import hashlib
import os

import numpy as np
import torch
from PIL import Image

from .augment import augment, is_on
from .errors import DataFilesError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
"""File endings read as images (the studio sniffs content; a folder of class folders holds images only)."""


def fit_rects(src_w, src_h, dst_w, dst_h, mode):
    """The studio's fitRects: (source box, destination box) for stretch / center-crop / letterbox."""
    full = ((0.0, 0.0, float(src_w), float(src_h)), (0.0, 0.0, float(dst_w), float(dst_h)))
    if mode == "stretch" or src_w * dst_h == src_h * dst_w:
        return full
    wider = src_w * dst_h > src_h * dst_w
    if mode == "center-crop":
        if wider:
            sw = src_h * dst_w / dst_h
            return ((src_w - sw) / 2, 0.0, sw, float(src_h)), full[1]
        sh = src_w * dst_h / dst_w
        return (0.0, (src_h - sh) / 2, float(src_w), sh), full[1]
    if wider:
        dh = src_h * dst_w / src_w
        return full[0], (0.0, (dst_h - dh) / 2, float(dst_w), dh)
    dw = src_w * dst_h / src_h
    return full[0], ((dst_w - dw) / 2, 0.0, dw, float(dst_h))


def decode_image(path, shape, resize):
    """
    One image file → HWC uint8 of `shape` {height, width, channels}: transparency composited over black,
    fitted by `resize` (bilinear, antialiased when shrinking, as a canvas with high-quality smoothing), grey as
    0.299 R + 0.587 G + 0.114 B rounded (the studio's rgbaToChannels).
    """
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode == "L" and shape["channels"] == 1:
                rgb = None
                grey = image
            else:
                rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
                rgb = Image.fromarray(np.round(rgba[..., :3] * (rgba[..., 3:] / 255.0)).astype(np.uint8), "RGB")
                grey = None
    except (OSError, ValueError) as error:
        raise DataFilesError(f"'{path}' is not an image PIL can read ({error}); remove it or replace it.") from error
    source = grey if rgb is None else rgb
    (sx, sy, sw, sh), (dx, dy, dw, dh) = fit_rects(source.width, source.height, shape["width"], shape["height"], resize)
    size = (max(1, round(dw)), max(1, round(dh)))
    fitted = source.resize(size, Image.BILINEAR, box=(sx, sy, sx + sw, sy + sh))
    canvas = Image.new(source.mode, (shape["width"], shape["height"]))
    canvas.paste(fitted, (round(dx), round(dy)))
    values = np.asarray(canvas)
    if shape["channels"] == 1:
        if values.ndim == 3:
            values = np.round(values[..., 0] * 0.299 + values[..., 1] * 0.587 + values[..., 2] * 0.114).clip(0, 255).astype(np.uint8)
        return values[..., None]
    return values


def to_model_input(pixels, value_range):
    """HWC uint8 → CHW float32 in the recipe's range: lo + v / 255 · (hi − lo)."""
    lo, hi = float(value_range[0]), float(value_range[1])
    values = torch.from_numpy(np.array(pixels, dtype=np.float32)).permute(2, 0, 1)
    return values / 255.0 * (hi - lo) + lo


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scan_class_folders(data_dir, class_names):
    """Images under data_dir/<class>/ (any depth) for the recipe's classes: [(relative path, class)], and the folders that are no class."""
    if not os.path.isdir(data_dir):
        raise DataFilesError(f"The data folder '{data_dir}' does not exist; pass --data DIR with one folder per class ({', '.join(class_names)}).")
    found, strangers = [], []
    for entry in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, entry)
        if not os.path.isdir(folder) or entry.startswith("."):
            continue
        if entry not in class_names:
            strangers.append(entry)
            continue
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."):
                    found.append((os.path.relpath(os.path.join(root, name), data_dir).replace(os.sep, "/"), entry))
    return found, strangers


def assign_split(recipe, data_dir, allow_missing=False, log=print):
    """
    The recipe's split over the files of data_dir: each split entry is found by its path, else by SHA-256.
    Entries not found are a DataFilesError naming them (unless allow_missing); files the split does not name
    go to train, and the log says how many. Returns {'train': [(path, label)], 'validation': [...], 'test': [...]}.
    """
    class_names = recipe["classNames"]
    found, strangers = scan_class_folders(data_dir, class_names)
    if strangers:
        log(f"Folders in '{data_dir}' that are no class of the recipe were skipped: {', '.join(strangers[:5])}{' …' if len(strangers) > 5 else ''}")
    by_path = {path: label for path, label in found}
    by_hash = {}
    entries = recipe["split"]["files"]
    needs_hash = any(entry["path"] not in by_path and entry.get("sha256") for entry in entries)
    if needs_hash:
        for path, label in found:
            by_hash.setdefault(_sha256(os.path.join(data_dir, path)), (path, label))
    subsets = {"train": [], "validation": [], "test": []}
    used, missing = set(), []
    for entry in entries:
        path = entry["path"] if entry["path"] in by_path else None
        if path is None and entry.get("sha256") in by_hash:
            path = by_hash[entry["sha256"]][0]
        if path is None or path in used:
            missing.append(entry["path"])
            continue
        used.add(path)
        label = entry.get("label", by_path[path])
        if label not in class_names:
            raise DataFilesError(f"recipe.json's split puts '{entry['path']}' in class '{label}', which is not among {class_names}.")
        subsets[entry.get("subset", "train") if entry.get("subset") in subsets else "train"].append((path, label))
    if missing and not allow_missing:
        shown = ", ".join(f"'{p}'" for p in missing[:5])
        raise DataFilesError(
            f"{len(missing)} of the {len(entries)} images recipe.json's split names are not in '{data_dir}' (by path or SHA-256): {shown}"
            f"{' …' if len(missing) > 5 else ''}. Pass --data with the folder of class folders you exported, or --allow-missing to train without them."
        )
    if missing:
        log(f"{len(missing)} images of the split are missing from '{data_dir}'; training without them (--allow-missing).")
    extra = [(path, label) for path, label in found if path not in used]
    if extra:
        subsets["train"].extend(extra)
        log(f"{len(extra)} images in '{data_dir}' are not in the recipe's split; they were put in train.")
    if not any(subsets.values()):
        raise DataFilesError(f"No images of the classes {class_names} were found in '{data_dir}'.")
    return subsets


class ImageFolderSet(torch.utils.data.Dataset):
    """(CHW float32 input, class index) per image, decoded and fitted as the studio does; training sets may augment (seeded per epoch and image)."""

    def __init__(self, data_dir, items, recipe, augmentation=None, seed=0, cache_bytes=1 << 30):
        self.data_dir = data_dir
        self.items = items
        self.shape = recipe["inputShape"]
        self.resize = recipe["preprocessing"]["resize"]
        self.range = recipe["preprocessing"]["range"]
        self.labels = [recipe["classNames"].index(label) for _, label in items]
        self.augmentation = augmentation if is_on(augmentation) else None
        self.seed = seed
        self.epoch = 0
        per_image = self.shape["height"] * self.shape["width"] * self.shape["channels"]
        self.cache = {} if per_image * len(items) <= cache_bytes else None

    def set_epoch(self, epoch):
        """Augmentation draws depend on (seed, epoch, image): call with the sampler's epoch."""
        self.epoch = epoch

    def pixels(self, index):
        """The image's HWC uint8 pixels at the model's input size (cached when the set is small)."""
        if self.cache is not None and index in self.cache:
            return self.cache[index]
        pixels = decode_image(os.path.join(self.data_dir, self.items[index][0]), self.shape, self.resize)
        if self.cache is not None:
            self.cache[index] = pixels
        return pixels

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        pixels = self.pixels(index)
        if self.augmentation is not None:
            pixels = augment(pixels, self.augmentation, np.random.default_rng([self.seed, self.epoch, index]))
        return to_model_input(pixels, self.range), self.labels[index]
