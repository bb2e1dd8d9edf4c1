import { useStudio } from '../../store/store';
import { NumberField } from '../NumberField';

/** The validation and test shares of each class, in whole percent (the test split is held out; training ignores it for now). */
export function SplitSettings() {
  const validationFraction = useStudio((s) => s.validationFraction);
  const testFraction = useStudio((s) => s.testFraction);
  return (
    <div className="split-settings">
      <NumberField
        label="Validation split (%)"
        value={Math.round(validationFraction * 100)}
        min={0}
        max={40}
        step={1}
        onValue={(percent) => useStudio.getState().setValidationFraction(percent / 100)}
      />
      <NumberField
        label="Test split (%)"
        value={Math.round(testFraction * 100)}
        min={0}
        max={40}
        step={1}
        onValue={(percent) => useStudio.getState().setTestFraction(percent / 100)}
      />
    </div>
  );
}
