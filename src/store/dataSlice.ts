/** The data slice: the images, their classes, the split settings, what was rejected, and what the pixels were decoded for. */
import type { StateCreator } from 'zustand';
import { compareCodePoints } from '../data/folderLayout';
import { DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION } from '../data/split';
import type { DatasetNotice, ImageShape, LabeledImage, RejectedFile } from '../data/types';
import { refused, type Refusal, type Result } from '../core/result';
import type { ResizeMode } from '../core/types';
import type { StudioState } from './state';

/** One image of the dataset, with a stable id for React keys. */
export interface DatasetImage extends LabeledImage {
  id: number;
}

/** Progress of adding files ('add') or of re-deriving every image for a new model ('rederive'). */
export type IngestStatus = { kind: 'add' | 'rederive'; done: number; total: number; startedAt: number };

/** An input shape and resize mode images are decoded (or the sample fitted) for; `key` names both ("224×224×3 stretch"). */
export type DecodeTarget = { shape: ImageShape; resize: ResizeMode; key: string };

/** The target of `shape` and `resize`. */
export function decodeTargetOf(shape: ImageShape, resize: ResizeMode): DecodeTarget {
  return { shape, resize, key: `${shape.height}×${shape.width}×${shape.channels} ${resize}` };
}

/** The built-in sample as shipped (28×28 grey), kept to re-fit it when the model's input changes. */
export type ShippedSample = { name: string; images: LabeledImage[]; shape: ImageShape };

/** The images, their classes, and what was left out. */
export interface DataSlice {
  /** 'sample' until the user adds their first folder, which replaces it. */
  datasetSource: 'none' | 'sample' | 'user';
  datasetName: string;
  images: DatasetImage[];
  /** Class names in label order (label = index). */
  classNames: string[];
  rejected: RejectedFile[];
  notices: DatasetNotice[];
  /** Files being added or images being re-derived: `done` of `total` since `startedAt` (Date.now(), for a rate); null when idle. */
  ingest: IngestStatus | null;
  validationFraction: number;
  splitSeed: number;
  /** What the images in the dataset were decoded (or the sample fitted) for: the one answer to "which input size are the pixels?"; null before any. */
  decodedFor: DecodeTarget | null;
  setDecodedFor(target: DecodeTarget | null): void;
  /** The built-in sample as shipped, once fetched; null before. */
  shippedSample: ShippedSample | null;
  setShippedSample(sample: ShippedSample): void;
  /** Puts the built-in sample in the dataset, its pixels fitted to `decodedFor`. */
  loadSample(name: string, images: LabeledImage[], decodedFor?: DecodeTarget): void;
  addUserImages(name: string, images: LabeledImage[], rejected: RejectedFile[], notices: DatasetNotice[]): void;
  /** Records rejected files and notices of a drop that added no image, keeping the dataset as it is. */
  reportRejected(rejected: RejectedFile[], notices: DatasetNotice[]): void;
  setIngestProgress(progress: IngestStatus | null): void;
  /**
   * Re-derived pixels after a model change: each image whose id is in `pixels` takes the new ones
   * (id, class and path unchanged); user images missing from it are dropped. `notices` replace the last drop's.
   */
  replacePixels(pixels: ReadonlyMap<number, Uint8Array>, notices: DatasetNotice[]): void;
  setValidationFraction(fraction: number): void;
  /** Share of each class held out for a final test (0 = none); the train client ignores it for now. */
  testFraction: number;
  setTestFraction(fraction: number): void;
  /** True when the user's dataset began as the built-in sample, turned into theirs by an edit. */
  fromSample: boolean;
  /** The class that pasted and single dropped images go to (null: the first class). */
  selectedClass: string | null;
  /** Why the last class edit was refused, quoting the name; null after one that worked. */
  classEditError: string | null;
  /** Adds an empty class at the end. Returns the refusal (also kept in `classEditError`) or null. */
  createClass(name: string): ClassEdit;
  /** Renames a class in place (its label stays); refuses a name already taken and suggests Merge. */
  renameClass(from: string, to: string): ClassEdit;
  /** Moves every image of `from` into `into` and removes `from`; the later classes move up one label. */
  mergeClasses(from: string, into: string): ClassEdit;
  /** Removes a class and all its images. */
  deleteClass(name: string): ClassEdit;
  /** Removes one image by id. */
  removeImage(id: number): void;
  /** Picks the class that pasted images go to. */
  selectClass(name: string): void;
  /** Makes the built-in sample the user's own dataset, so that added images join it instead of replacing it. */
  adoptSample(): void;
  /**
   * Opening a project: an empty user dataset named `name` with the project's classes in its label order and its
   * split, so that the images added next (addUserImages) join these classes in this order.
   */
  datasetRestored(restored: DatasetRestore): void;
}

/** What `datasetRestored` puts back before the images are added again. */
export type DatasetRestore = {
  name: string;
  classNames: string[];
  fromSample: boolean;
  validationFraction: number;
  testFraction: number;
  splitSeed: number;
};

/** Why a class edit was refused. */
export type ClassEditCode = 'empty-name' | 'slash-in-name' | 'hidden-name' | 'name-taken' | 'no-such-class' | 'merge-into-itself';

/** What a class edit answers (see core/result.ts). */
export type ClassEdit = Result<object, ClassEditCode>;

/** Checks a class name typed by the user: the trimmed name, or why it cannot be used (quoting it). */
export function checkClassName(raw: string, taken: readonly string[]): Result<{ name: string }, ClassEditCode> {
  const name = raw.trim();
  if (name === '') return refused('empty-name', 'A class name cannot be empty. Type a name, e.g. cats.');
  if (name.includes('/')) return refused('slash-in-name', `'${name}' contains '/'; class names are folder names. Use another character, e.g. '-'.`);
  if (name.startsWith('.')) return refused('hidden-name', `'${name}' starts with '.', which marks hidden files; start it with a letter or digit.`);
  if (taken.includes(name)) return refused('name-taken', `A class named '${name}' already exists. Pick another name.`);
  return { ok: true, name };
}

/** `existing` class names, then the new ones among `images` in code-point order (the folder layout's order, not decode order). */
function classNamesOf(images: readonly LabeledImage[], existing: readonly string[] = []): string[] {
  const known = new Set(existing);
  const added = new Set<string>();
  for (const image of images) if (!known.has(image.className)) added.add(image.className);
  return [...existing, ...[...added].sort(compareCodePoints)];
}

/** The dataset fields after an edit: the sample becomes the user's own on its first edit. */
function edited(s: DataSlice, images: DatasetImage[], classNames: string[], selectedClass: string | null): Partial<DataSlice> {
  const fromSample = s.datasetSource === 'sample' || s.fromSample;
  return { images, classNames, selectedClass, datasetSource: 'user', fromSample, classEditError: null };
}

/** The data slice; image ids are counted per store. */
export const createDataSlice: StateCreator<StudioState, [], [], DataSlice> = (set, get) => {
  let nextImageId = 1;
  const withIds = (images: LabeledImage[]): DatasetImage[] => images.map((image) => ({ ...image, id: nextImageId++ }));
  return {
    datasetSource: 'none',
    datasetName: '',
    images: [],
    classNames: [],
    rejected: [],
    notices: [],
    ingest: null,
    validationFraction: DEFAULT_VALIDATION_FRACTION,
    splitSeed: DEFAULT_SPLIT_SEED,
    decodedFor: null,
    setDecodedFor: (target) => set({ decodedFor: target }),
    shippedSample: null,
    setShippedSample: (sample) => set({ shippedSample: sample }),
    loadSample: (name, images, decodedFor) =>
      set((s) => ({
        datasetSource: 'sample',
        datasetName: name,
        images: withIds(images),
        classNames: classNamesOf(images),
        rejected: [],
        notices: [],
        fromSample: false,
        selectedClass: null,
        decodedFor: decodedFor ?? s.decodedFor,
      })),
    addUserImages: (name, images, rejected, notices) =>
      set((s) => {
        // The user's first folder replaces the demo sample; later folders add to it.
        const keep = s.datasetSource === 'user';
        const merged = keep ? [...s.images, ...withIds(images)] : withIds(images);
        return {
          datasetSource: 'user',
          fromSample: keep && s.fromSample,
          // Images added to a class one by one come under the same name each time; it is named once.
          datasetName: keep ? (s.datasetName.split(' + ').includes(name) ? s.datasetName : `${s.datasetName} + ${name}`) : name,
          images: merged,
          classNames: classNamesOf(merged, keep ? s.classNames : []),
          rejected: keep ? [...s.rejected, ...rejected] : rejected,
          notices,
        };
      }),
    reportRejected: (rejected, notices) => set((s) => ({ rejected: [...s.rejected, ...rejected], notices })),
    setIngestProgress: (progress) => set({ ingest: progress }),
    replacePixels: (pixels, notices) =>
      set((s) => {
        const images: DatasetImage[] = [];
        for (const image of s.images) {
          const next = pixels.get(image.id);
          if (next) images.push({ ...image, pixels: next });
        }
        return { images, notices };
      }),
    setValidationFraction: (fraction) => set({ validationFraction: fraction }),
    testFraction: 0,
    setTestFraction: (fraction) => set({ testFraction: fraction }),
    fromSample: false,
    selectedClass: null,
    classEditError: null,
    datasetRestored: ({ name, classNames, fromSample, validationFraction, testFraction, splitSeed }) =>
      set({
        datasetSource: 'user',
        datasetName: name,
        classNames: [...classNames],
        fromSample,
        validationFraction,
        testFraction,
        splitSeed,
        images: [],
        rejected: [],
        notices: [],
        selectedClass: null,
        classEditError: null,
      }),
    createClass: (raw) => {
      const s = get();
      const checked = checkClassName(raw, s.classNames);
      if (!checked.ok) return refuse(set, checked);
      set(edited(s, s.images, [...s.classNames, checked.name], s.selectedClass));
      return DONE;
    },
    renameClass: (from, raw) => {
      const s = get();
      if (!s.classNames.includes(from)) return refuse(set, refused('no-such-class', `There is no class '${from}' to rename.`));
      if (raw.trim() === from) return DONE;
      const checked = checkClassName(raw, s.classNames);
      if (!checked.ok) {
        const name = raw.trim();
        return refuse(
          set,
          checked.code === 'name-taken'
            ? refused('name-taken', `A class named '${name}' already exists. To put the images of '${from}' into it, use Merge instead.`)
            : checked,
        );
      }
      const { name } = checked;
      const images = s.images.map((image) => (image.className === from ? { ...image, className: name } : image));
      set(
        edited(
          s,
          images,
          s.classNames.map((n) => (n === from ? name : n)),
          s.selectedClass === from ? name : s.selectedClass,
        ),
      );
      return DONE;
    },
    mergeClasses: (from, into) => {
      const s = get();
      if (from === into) return refuse(set, refused('merge-into-itself', `Cannot merge '${from}' into itself. Pick another class.`));
      for (const name of [from, into]) if (!s.classNames.includes(name)) return refuse(set, refused('no-such-class', `There is no class '${name}' to merge.`));
      const images = s.images.map((image) => (image.className === from ? { ...image, className: into } : image));
      set(
        edited(
          s,
          images,
          s.classNames.filter((n) => n !== from),
          s.selectedClass === from ? into : s.selectedClass,
        ),
      );
      return DONE;
    },
    deleteClass: (name) => {
      const s = get();
      if (!s.classNames.includes(name)) return refuse(set, refused('no-such-class', `There is no class '${name}' to delete.`));
      const images = s.images.filter((image) => image.className !== name);
      set(
        edited(
          s,
          images,
          s.classNames.filter((n) => n !== name),
          s.selectedClass === name ? null : s.selectedClass,
        ),
      );
      return DONE;
    },
    removeImage: (id) => {
      const s = get();
      const images = s.images.filter((image) => image.id !== id);
      if (images.length !== s.images.length) set(edited(s, images, s.classNames, s.selectedClass));
    },
    selectClass: (name) => set((s) => (s.classNames.includes(name) ? { selectedClass: name } : {})),
    adoptSample: () => {
      const s = get();
      if (s.datasetSource === 'sample') set(edited(s, s.images, s.classNames, s.selectedClass));
    },
  };
};

/** A class edit that worked. */
const DONE: ClassEdit = { ok: true };

/** Records a refused class edit's reason for the UI and answers it. */
function refuse(set: (partial: Partial<DataSlice>) => void, refusal: Refusal<ClassEditCode>): ClassEdit {
  set({ classEditError: refusal.reason });
  return refusal;
}
