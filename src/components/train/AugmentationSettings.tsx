import { useMemo, useState } from 'react';
import type { ImageShape } from '../../data/types';
import { augmentImage, checkAugmentation, DEFAULT_AUGMENTATION, MAX_CROP, MAX_ROTATION } from '../../core/augment';
import { createRandom } from '../../core/random';
import type { AugmentationConfig } from '../../core/types';
import { isRunActive } from '../../store/selectors';
import { useStudio } from '../../store/store';
import { NumberField } from '../NumberField';
import { Thumbnail } from '../Thumbnail';

/** How many training images the preview shows. */
const PREVIEW_COUNT = 4;

/** Four of the dataset's first images, each drawn through `config` with a generator seeded by `seed`. */
function AugmentationPreview({ config, seed }: { config: AugmentationConfig; seed: number }) {
  const images = useStudio((s) => s.images);
  const inputShape = useStudio((s) => s.model?.inputShape ?? null);
  const previews = useMemo(() => {
    if (!inputShape) return [];
    const { height, width, channels } = inputShape;
    // Images still decoded for another input size (while re-deriving) are skipped.
    const fitting = images.filter((image) => image.pixels.length === height * width * channels).slice(0, PREVIEW_COUNT);
    const random = createRandom(seed);
    return fitting.map((image) => ({ id: image.id, pixels: augmentImage(image.pixels, inputShape, config, random) }));
  }, [images, inputShape, config, seed]);
  if (!inputShape || previews.length === 0) return <p className="muted small">Add images to see the augmentation preview.</p>;
  const shape = inputShape as ImageShape;
  return (
    <div className="augmentation-preview">
      {previews.map((preview, i) => (
        <Thumbnail key={preview.id} pixels={preview.pixels} shape={shape} label={`Augmented preview ${i + 1} of ${previews.length}`} />
      ))}
    </div>
  );
}

/**
 * Augmentation of training images, off by default (config.augmentation
 * null): a switch, one control per kind, the reason the settings are
 * refused (which also blocks Train) and a preview on the first images.
 */
export function AugmentationSettings() {
  const augmentation = useStudio((s) => s.config.augmentation ?? null);
  const setConfig = useStudio((s) => s.setConfig);
  const running = useStudio((s) => isRunActive(s));
  // What the fields show while augmentation is off, and what turning it back on restores.
  const [kept, setKept] = useState<AugmentationConfig>(augmentation ?? DEFAULT_AUGMENTATION);
  const [previewSeed, setPreviewSeed] = useState(1);
  const on = augmentation !== null;
  const shown = augmentation ?? kept;
  const problem = checkAugmentation(augmentation);
  const update = (patch: Partial<AugmentationConfig>) => {
    const next = { ...shown, ...patch };
    setKept(next);
    if (on) setConfig({ augmentation: next });
  };
  const fieldsDisabled = running || !on;
  return (
    <details className="augmentation-settings">
      <summary>Augmentation{on ? ' (on)' : ''}</summary>
      <fieldset className="augmentation-fields" disabled={running}>
        <legend className="visually-hidden">Augmentation of training images</legend>
        <label className="field checkbox-field">
          <input type="checkbox" checked={on} onChange={(e) => setConfig({ augmentation: e.target.checked ? shown : null })} />
          <span>Augment training images</span>
        </label>
        <div className="train-controls">
          <label className="field checkbox-field">
            <input type="checkbox" checked={shown.flip} disabled={fieldsDisabled} onChange={(e) => update({ flip: e.target.checked })} />
            <span>Horizontal flip</span>
          </label>
          <NumberField label="Random crop" value={shown.crop} onValue={(crop) => update({ crop })} min={0} max={1} step="any" disabled={fieldsDisabled} />
          <NumberField
            label="Rotation (degrees)"
            value={shown.rotation}
            onValue={(rotation) => update({ rotation })}
            min={0}
            max={180}
            step="any"
            disabled={fieldsDisabled}
          />
          <NumberField
            label="Brightness"
            value={shown.brightness}
            onValue={(brightness) => update({ brightness })}
            min={0}
            max={1}
            step="any"
            disabled={fieldsDisabled}
          />
          <NumberField
            label="Contrast"
            value={shown.contrast}
            onValue={(contrast) => update({ contrast })}
            min={0}
            max={1}
            step="any"
            disabled={fieldsDisabled}
          />
        </div>
        {problem ? (
          <p className="error small" role="alert">
            {problem}
          </p>
        ) : null}
        <p className="muted small">
          Training images change anew every epoch; validation and test images never do. Flip mirrors half of them (leave it off for digits or text); crop keeps
          at least 1 − crop of each side (below {MAX_CROP}); rotation turns by up to ± that many degrees (at most {MAX_ROTATION}); brightness and contrast
          change by up to ± that fraction. With augmentation on, the feature cache is not used.
        </p>
        {on && !problem ? (
          <div className="augmentation-preview-block">
            <AugmentationPreview config={augmentation} seed={previewSeed} />
            <button type="button" onClick={() => setPreviewSeed((seed) => seed + 1)}>
              Shuffle preview
            </button>
          </div>
        ) : null}
      </fieldset>
    </details>
  );
}
