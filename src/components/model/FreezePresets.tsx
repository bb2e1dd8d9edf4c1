import { useId, useMemo, useState } from 'react';
import { cachedFeaturesBlocker } from '../../core/autoEpochs';
import {
  PRESETS,
  headOnlyPlan,
  matchPreset,
  median,
  paramRange,
  presetPlan,
  recommendPreset,
  type PresetBlock,
  type PresetChoice,
  type PresetId,
} from '../../core/presets';
import { useRunBlocks, useTransferLayers } from '../../store/hooks';
import { classCounts } from '../../store/selectors';
import { useStudio } from '../../store/store';

type Parametric = 'freeze-early' | 'fine-tune-top';

/** What each preset's option says under its label. */
const HINTS: Record<PresetId, string> = {
  'head-only': 'Feature extraction: every pretrained layer frozen.',
  'freeze-early': 'The first blocks frozen, the rest fine-tuned.',
  'fine-tune-top': 'Only the last blocks and the head train.',
  full: 'Nothing frozen.',
};

/** The slider's label and where its value puts the boundary, in block names. */
function sliderText(preset: Parametric, blocks: readonly PresetBlock[], value: number): { label: string; where: string } {
  return preset === 'freeze-early'
    ? { label: 'Frozen early blocks', where: `up to ${blocks[value - 1]?.label ?? '?'}` }
    : { label: 'Trained top blocks', where: `from ${blocks[blocks.length - value]?.label ?? '?'}` };
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** The checked parametric preset's slider: how many blocks it freezes or trains, and where that puts the boundary. */
function PresetSlider(props: {
  preset: Parametric;
  blocks: readonly PresetBlock[];
  range: { min: number; max: number };
  value: number;
  onValue(value: number): void;
}) {
  const { label, where } = sliderText(props.preset, props.blocks, props.value);
  return (
    <label className="preset-slider">
      <span>{label}</span>
      <input
        type="range"
        min={props.range.min}
        max={props.range.max}
        step={1}
        value={props.value}
        aria-valuetext={`${props.value}, ${where}`}
        onChange={(e) => props.onValue(Number(e.target.value))}
      />
      <output className="small">
        {props.value} · {where}
      </output>
    </label>
  );
}

/**
 * The four freeze presets over the model's blocks, with the one recommended
 * for the dataset marked and its reason shown. The current plan's preset is
 * derived from the plan (matchPreset); toggles that match none show "Custom".
 * Compact, so the layer tree under it stays on the first screen: the presets
 * are one row of choices; only the checked one shows its hint and slider.
 */
export function FreezePresets() {
  const rows = useTransferLayers();
  const freezePlan = useStudio((s) => s.freezePlan);
  const setFreezePlan = useStudio((s) => s.setFreezePlan);
  const images = useStudio((s) => s.images);
  const classNames = useStudio((s) => s.classNames);
  const blocks = useRunBlocks();
  const auto = useStudio((s) => s.autoEpochs);
  const epochs = useStudio((s) => s.config.epochs);
  const augmentation = useStudio((s) => s.config.augmentation);
  const batchNormOverrides = useStudio((s) => s.batchNormOverrides);
  const scheduleSteps = useStudio((s) => s.scheduleSteps);
  const range = paramRange(blocks);
  // Which of two equal readings of a prefix plan to show ("freeze early n" or "fine-tune top B − n"): the radio last chosen.
  const [prefer, setPrefer] = useState<PresetId | undefined>(undefined);
  const current = useMemo(() => matchPreset(freezePlan, rows, blocks, prefer), [freezePlan, rows, blocks, prefer]);

  const recommendation = useMemo(() => {
    const counts = classCounts({ images, classNames }).filter((count) => count > 0);
    // What would keep a head-only run off the feature cache (augmentation, a BN layer training its statistics, a schedule).
    const cacheBlocker = cachedFeaturesBlocker({
      layers: rows,
      plan: headOnlyPlan(blocks),
      batchNormOverrides,
      unfreezeSchedule: scheduleSteps,
      augmentation,
    });
    return recommendPreset({ imagesPerClass: median(counts), classCount: counts.length, blockCount: blocks.length, training: { auto, epochs, cacheBlocker } });
  }, [images, classNames, blocks, rows, auto, epochs, augmentation, batchNormOverrides, scheduleSteps]);

  // Slider positions while their preset is not the current one: the recommendation's, else a quarter / a third of the blocks.
  const [chosen, setChosen] = useState<Partial<Record<Parametric, number>>>({});
  const sliderValue = (preset: Parametric): number => {
    if (!range) return 1;
    if (current !== 'custom' && current.preset === preset) return current.param;
    const fallback =
      recommendation.preset === preset ? recommendation.param : preset === 'freeze-early' ? Math.floor(blocks.length / 3) : Math.ceil(blocks.length / 4);
    return clamp(chosen[preset] ?? fallback, range.min, range.max);
  };

  const apply = (choice: PresetChoice) => {
    setPrefer(choice.preset);
    if (choice.preset === 'freeze-early' || choice.preset === 'fine-tune-top') setChosen((c) => ({ ...c, [choice.preset]: choice.param }));
    setFreezePlan(presetPlan(blocks, choice));
  };

  const baseId = useId();
  const reasonId = `${baseId}-reason`;
  const custom = current === 'custom';
  const checkedId: PresetId | 'custom' = custom ? 'custom' : current.preset;
  const parametric = PRESETS.find((p) => p.id === checkedId)?.parametric && range ? (checkedId as Parametric) : null;
  const recommended = PRESETS.find((p) => p.id === recommendation.preset);
  return (
    <fieldset className="freeze-presets" role="radiogroup" aria-label="Freeze preset">
      <legend>
        Freeze preset{' '}
        <span className="muted small">
          · {blocks.length} {blocks.length === 1 ? 'block' : 'blocks'}
        </span>
      </legend>
      <div className="preset-choices">
        {PRESETS.map(({ id, label, parametric }) => {
          const unavailable = parametric && !range;
          const value = parametric ? sliderValue(id as Parametric) : 0;
          const isRecommended = recommendation.preset === id;
          return (
            <label
              key={id}
              className={`preset-choice${checkedId === id ? ' checked' : ''}`}
              title={unavailable ? 'This model has fewer than two blocks.' : HINTS[id]}
            >
              <input
                type="radio"
                name={`${baseId}-preset`}
                value={id}
                checked={checkedId === id}
                disabled={unavailable}
                aria-describedby={isRecommended ? reasonId : undefined}
                onChange={() => apply({ preset: id, param: value })}
              />
              <span className="preset-label">{label}</span>
              {isRecommended ? <span className="badge accent">Recommended</span> : null}
            </label>
          );
        })}
        <label className={`preset-choice${custom ? ' checked' : ''}`} title="Shown when your own toggles match no preset.">
          <input type="radio" name={`${baseId}-preset`} value="custom" checked={custom} disabled readOnly />
          <span className="preset-label">Custom</span>
        </label>
      </div>
      {parametric && range ? (
        <PresetSlider
          preset={parametric}
          blocks={blocks}
          range={range}
          value={sliderValue(parametric)}
          onValue={(param) => apply({ preset: parametric, param })}
        />
      ) : null}
      {recommended ? (
        <p className="preset-reason small" title={`${recommended.label} suits this data: ${recommendation.reason}`}>
          <strong>{recommended.label}</strong> suits this data: <span id={reasonId}>{recommendation.reason}</span>
        </p>
      ) : null}
    </fieldset>
  );
}
