import { describe, expect, it } from 'vitest';
import { trainBlocker } from './selectors';
import type { StudioState } from './store';

/** A state that is ready to train: a 1×1×1 model and two classes of one image each. */
function ready(augmentation: StudioState['config']['augmentation']) {
  const images = ['a', 'b'].map((className, id) => ({ id, path: `${className}/0.png`, className, pixels: new Uint8Array(1) }));
  return {
    modelStatus: 'ready' as const,
    model: { inputShape: { height: 1, width: 1, channels: 1 } } as never,
    backend: 'cpu',
    ingest: null,
    images,
    classNames: ['a', 'b'],
    config: { augmentation },
  } as Parameters<typeof trainBlocker>[0];
}

describe('trainBlocker and augmentation', () => {
  it('blocks Train with the settings message while augmentation is invalid', () => {
    expect(trainBlocker(ready({ flip: true, crop: 0.7, rotation: 10, brightness: 0.1, contrast: 0.1 }))).toBe(
      'Crop 0.7 is too large: keep at least half of each side (crop < 0.5).',
    );
  });

  it.each([null, undefined, { flip: true, crop: 0.1, rotation: 10, brightness: 0.1, contrast: 0.1 }])('lets Train start with %o', (augmentation) => {
    expect(trainBlocker(ready(augmentation))).toBeNull();
  });

  it('lets an earlier problem speak first', () => {
    expect(trainBlocker({ ...ready({ flip: false, crop: 0.9, rotation: 0, brightness: 0, contrast: 0 }), classNames: ['a', 'b', 'c'] })).toBe(
      "Class 'c' has no images: add images to it or delete it.",
    );
  });
});
