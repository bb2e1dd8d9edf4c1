import { DEFAULT_LOWEST_MULTIPLIER, sliceMultipliers } from '../../core/rateMultipliers';
import { useRunBlocks } from '../../store/hooks';
import { isRunActive } from '../../store/selectors';
import { useStudio } from '../../store/store';
import { NumberField } from '../NumberField';

/**
 * Discriminative learning rates: off (every block at the base rate), or
 * fastai's spread from a lowest multiplier on the first block to 1 on the
 * last, editable per block. The tree shows each block's multiplier.
 */
export function RateMultipliers() {
  const multipliers = useStudio((s) => s.blockMultipliers);
  const setMultipliers = useStudio((s) => s.setBlockMultipliers);
  const running = useStudio((s) => isRunActive(s));
  const blocks = useRunBlocks();
  const on = Object.keys(multipliers).length > 0;
  const lowest = blocks.length ? (multipliers[blocks[0].label] ?? DEFAULT_LOWEST_MULTIPLIER) : DEFAULT_LOWEST_MULTIPLIER;
  const disabled = running || blocks.length < 2;
  return (
    <details className="rate-multipliers">
      <summary>Learning rate per block{on ? ' (on)' : ''}</summary>
      <label className="field checkbox-field">
        <input
          type="checkbox"
          checked={on}
          disabled={disabled}
          onChange={(e) => setMultipliers(e.target.checked ? sliceMultipliers(blocks, DEFAULT_LOWEST_MULTIPLIER) : {})}
        />
        <span>Lower learning rates for earlier blocks</span>
      </label>
      <NumberField
        label="First block's multiplier"
        value={lowest}
        onValue={(v) => setMultipliers(sliceMultipliers(blocks, v))}
        min={0.0001}
        max={1}
        step="any"
        disabled={disabled || !on}
      />
      <p className="muted small">
        Like fastai’s <code>slice(lo, hi)</code>: the first block learns at this fraction of the base rate, rising evenly (on a log scale) to the full rate on
        the last block; the head always gets the full rate. Set a block to 0 to keep it still while it stays unfrozen.
      </p>
      {on ? (
        <ul className="multiplier-list" aria-label="Multiplier per block">
          {blocks.map((block) => (
            <li key={block.label}>
              <NumberField
                label={block.label}
                value={multipliers[block.label] ?? 1}
                onValue={(v) => setMultipliers({ ...multipliers, [block.label]: v })}
                min={0}
                max={10}
                step="any"
                disabled={running}
              />
            </li>
          ))}
        </ul>
      ) : null}
    </details>
  );
}
