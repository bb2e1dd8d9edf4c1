import { useId, useState } from 'react';

/**
 * A numeric setting. The text is kept as typed (so "0." on the way to "0.01"
 * is allowed); `onValue` only receives values inside [min, max], and an
 * out-of-range entry is marked invalid and says which value is used instead.
 */
export function NumberField({
  label,
  value,
  onValue,
  min,
  max,
  step,
  disabled = false,
}: {
  label: string;
  value: number;
  onValue(value: number): void;
  min: number;
  max: number;
  step: number | 'any';
  disabled?: boolean;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const errorId = useId();
  const text = draft ?? String(value);
  const accepts = (raw: string) => {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) && n >= min && n <= max && (step === 'any' || Number.isInteger(n));
  };
  const valid = accepts(text);
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="number"
        value={text}
        min={min}
        max={max}
        step={step}
        disabled={disabled}
        aria-invalid={!valid}
        aria-describedby={valid ? undefined : errorId}
        onChange={(e) => {
          setDraft(e.target.value);
          if (accepts(e.target.value)) onValue(Number(e.target.value));
        }}
        onBlur={() => setDraft(null)}
      />
      {valid ? null : (
        <span id={errorId} className="error small">
          {label} must be {step === 'any' ? 'a number' : 'a whole number'} from {min} to {max}; {String(value)} is used.
        </span>
      )}
    </label>
  );
}
