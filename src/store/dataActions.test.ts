import { describe, expect, it } from 'vitest';
import type { LabeledImage } from '../data/types';
import { classCounts, datasetNotices, trainBlocker } from './selectors';
import { checkClassName, createStudioStore, decodeTargetOf } from './store';

const image = (className: string, n: number): LabeledImage => ({ path: `d/${className}/${n}.png`, className, pixels: new Uint8Array([n]) });
const images = (className: string, count: number) => Array.from({ length: count }, (_, i) => image(className, i));

function userStore() {
  const store = createStudioStore();
  store.getState().addUserImages('shapes', [...images('a', 3), ...images('b', 2), ...images('c', 4)], [], []);
  return store;
}

const summary = (store: ReturnType<typeof createStudioStore>) => {
  const s = store.getState();
  return { classNames: s.classNames, counts: classCounts(s) };
};

describe('class editing actions', () => {
  it('creates an empty class at the end with a trimmed name, and refuses empty, duplicate and path-like names quoting them', () => {
    const store = userStore();
    expect(store.getState().createClass('  d  ')).toEqual({ ok: true });
    expect(summary(store)).toEqual({ classNames: ['a', 'b', 'c', 'd'], counts: [3, 2, 4, 0] });
    expect(store.getState().createClass('   ')).toMatchObject({ ok: false, reason: expect.stringMatching(/cannot be empty/) });
    expect(store.getState().createClass(' b ')).toMatchObject({ ok: false, reason: "A class named 'b' already exists. Pick another name." });
    expect(store.getState().classEditError).toBe("A class named 'b' already exists. Pick another name.");
    expect(store.getState().createClass('x/y')).toMatchObject({ ok: false, reason: expect.stringMatching(/'x\/y' contains '\/'/) });
    expect(store.getState().createClass('.hidden')).toMatchObject({ ok: false, reason: expect.stringMatching(/'\.hidden' starts with '\.'/) });
    expect(store.getState().classNames).toEqual(['a', 'b', 'c', 'd']);
    // A successful edit clears the last refusal.
    expect(store.getState().createClass('ünïcødé 猫')).toEqual({ ok: true });
    expect(store.getState().classEditError).toBeNull();
  });

  it('renames in place so every label keeps its index, and a taken name suggests Merge', () => {
    const store = userStore();
    store.getState().selectClass('b');
    expect(store.getState().renameClass('b', ' bee ')).toEqual({ ok: true });
    expect(summary(store)).toEqual({ classNames: ['a', 'bee', 'c'], counts: [3, 2, 4] });
    expect(
      store
        .getState()
        .images.filter((i) => i.className === 'bee')
        .map((i) => i.path),
    ).toEqual(['d/b/0.png', 'd/b/1.png']);
    expect(store.getState().selectedClass).toBe('bee');
    expect(store.getState().renameClass('a', 'c')).toMatchObject({
      ok: false,
      reason: "A class named 'c' already exists. To put the images of 'a' into it, use Merge instead.",
    });
    expect(summary(store).classNames).toEqual(['a', 'bee', 'c']);
    expect(store.getState().renameClass('nope', 'z')).toMatchObject({ ok: false, reason: expect.stringMatching(/no class 'nope'/) });
    // Renaming to the same name is not an edit.
    expect(store.getState().renameClass('a', 'a')).toEqual({ ok: true });
  });

  it('merges one class into another, keeping the order of the rest and the image ids', () => {
    const store = userStore();
    const ids = store.getState().images.map((i) => i.id);
    store.getState().selectClass('a');
    expect(store.getState().mergeClasses('a', 'c')).toEqual({ ok: true });
    expect(summary(store)).toEqual({ classNames: ['b', 'c'], counts: [2, 7] });
    expect(store.getState().images.map((i) => i.id)).toEqual(ids);
    expect(store.getState().selectedClass).toBe('c');
    expect(store.getState().mergeClasses('b', 'b')).toMatchObject({ ok: false, reason: expect.stringMatching(/'b' into itself/) });
    expect(store.getState().mergeClasses('b', 'zz')).toMatchObject({ ok: false, reason: expect.stringMatching(/no class 'zz'/) });
  });

  it('deletes a class with its images, and removes single images by id', () => {
    const store = userStore();
    store.getState().selectClass('b');
    expect(store.getState().deleteClass('b')).toEqual({ ok: true });
    expect(summary(store)).toEqual({ classNames: ['a', 'c'], counts: [3, 4] });
    expect(store.getState().selectedClass).toBeNull();
    const firstC = store.getState().images.find((i) => i.className === 'c')!;
    store.getState().removeImage(firstC.id);
    expect(summary(store).counts).toEqual([3, 3]);
    expect(store.getState().images.some((i) => i.id === firstC.id)).toBe(false);
    store.getState().removeImage(-1);
    expect(summary(store).counts).toEqual([3, 3]);
  });

  it('turns the built-in sample into the user dataset on the first edit, so a later folder adds to it', () => {
    const store = createStudioStore();
    store.getState().loadSample('digits sample', [...images('5', 2), ...images('6', 2)]);
    expect(store.getState().datasetSource).toBe('sample');
    store.getState().selectClass('6');
    store.getState().selectClass('not a class');
    expect(store.getState().selectedClass).toBe('6');
    // Selecting the paste target is not an edit.
    expect(store.getState().datasetSource).toBe('sample');
    store.getState().renameClass('5', 'five');
    expect([store.getState().datasetSource, store.getState().fromSample]).toEqual(['user', true]);
    store.getState().addUserImages('single images', [image('six', 9)], [], []);
    expect(summary(store)).toEqual({ classNames: ['five', '6', 'six'], counts: [2, 2, 1] });
    // Adding under the same name again does not repeat it in the dataset's name.
    store.getState().addUserImages('single images', [image('six', 10)], [], []);
    expect(store.getState().datasetName).toBe('digits sample + single images');
  });

  it('adoptSample keeps the sample when single images are added to one of its classes', () => {
    const store = createStudioStore();
    store.getState().loadSample('digits sample', [...images('5', 2), ...images('6', 2)]);
    store.getState().adoptSample();
    store.getState().addUserImages('single images', [image('5', 7)], [], []);
    expect(summary(store)).toEqual({ classNames: ['5', '6'], counts: [3, 2] });
    expect(store.getState().fromSample).toBe(true);
  });

  it('keeps the test split fraction in the data slice', () => {
    const store = userStore();
    expect(store.getState().testFraction).toBe(0);
    store.getState().setTestFraction(0.1);
    expect(store.getState().testFraction).toBe(0.1);
  });

  it('checks names without a store', () => {
    expect(checkClassName(' x ', [])).toEqual({ ok: true, name: 'x' });
    expect(checkClassName('x', ['x'])).toMatchObject({ ok: false, code: 'name-taken', reason: expect.stringMatching(/'x' already exists/) });
  });
});

describe('class checks that follow edits', () => {
  it('an empty class blocks training with its name; deleting it unblocks', () => {
    const store = userStore();
    const ready = () =>
      trainBlocker({ ...store.getState(), modelStatus: 'ready', model: { inputShape: { height: 1, width: 1, channels: 1 } } as never, backend: 'cpu' });
    expect(ready()).toBeNull();
    store.getState().createClass('empty');
    expect(ready()).toBe("Class 'empty' has no images: add images to it or delete it.");
    store.getState().deleteClass('empty');
    expect(ready()).toBeNull();
  });

  it('adds the class imbalance warning, with both counts, to the dataset notices', () => {
    const store = userStore();
    const notices = () => datasetNotices(store.getState(), classCounts(store.getState())).map((n) => n.message);
    expect(notices().some((m) => m.startsWith('Class imbalance'))).toBe(false);
    store.getState().addUserImages(
      'more',
      images('c', 2).map((i, n) => ({ ...i, path: `m/c/${n}.png` })),
      [],
      [],
    );
    expect(notices()).toContainEqual(expect.stringMatching(/^Class imbalance: 'c' has 6 images, 'b' 2/));
    // An edit that evens the classes out clears it.
    store.getState().mergeClasses('a', 'b');
    expect(notices().some((m) => m.startsWith('Class imbalance'))).toBe(false);
  });
});

describe('what the pixels were decoded for (one source of truth)', () => {
  it('blocks Train when the images were decoded for another size or another resize mode, and not when they match', () => {
    const store = createStudioStore();
    const pixels = new Uint8Array(4);
    store.getState().loadSample(
      's',
      [
        { path: 'a/1', className: 'a', pixels },
        { path: 'b/1', className: 'b', pixels },
      ],
      decodeTargetOf({ height: 2, width: 2, channels: 1 }, 'stretch'),
    );
    const state = (resize: 'stretch' | 'center-crop', height = 2) => ({
      ...store.getState(),
      modelStatus: 'ready' as const,
      backend: 'cpu' as const,
      model: { inputShape: { height, width: 2, channels: 1 } } as never,
      preprocessing: { range: [0, 1] as [number, number], resize },
    });
    expect(trainBlocker(state('stretch'))).toBeNull();
    // Same pixel count, another resize mode: the pixel count alone could not see it.
    expect(trainBlocker(state('center-crop'))).toBe(
      'The images were decoded for 2×2×1 stretch; this model takes 2×2×1 center-crop. Pick the model again to re-derive them, or add the folder again.',
    );
    expect(trainBlocker(state('stretch', 3))).toMatch(/^The images were decoded for 2×2×1 stretch; this model takes 3×2×1 stretch\./);
  });
});
