import { useId, useState } from 'react';
import { reasonOf } from '../../core/result';
import { useStudio } from '../../store/store';

/** "New class" at the end of the class list: a name field and a button; a refused name is explained beside it. */
export function NewClassForm({ editable }: { editable: boolean }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const errorId = useId();
  return (
    <form
      className="new-class"
      aria-label="New class"
      onSubmit={(e) => {
        e.preventDefault();
        const result = useStudio.getState().createClass(name);
        setError(reasonOf(result));
        if (result.ok) setName('');
      }}
    >
      <label className="field inline">
        <span>New class name</span>
        <input
          type="text"
          value={name}
          placeholder="e.g. cats"
          aria-invalid={error !== null}
          aria-describedby={error ? errorId : undefined}
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      <button type="submit" className="small-button" disabled={!editable}>
        New class
      </button>
      {error ? (
        <p id={errorId} className="error small" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
