/** What a programmer did wrong when calling a data module (bad user files never throw; they become reasons). */
export type DataErrorCode = 'bad-shape' | 'bad-pixels' | 'bad-fraction' | 'bad-label' | 'decoder-output' | 'no-canvas' | 'bad-limit' | 'bad-project';

/** Thrown for programmer errors in `src/data` (wrong shapes, out-of-range options), never for bad user files. */
export class DataError extends Error {
  /** Stable machine-readable cause. */
  readonly code: DataErrorCode;

  /** Creates an error with a `code` and a message that quotes the offending value. */
  constructor(code: DataErrorCode, message: string) {
    super(message);
    this.name = 'DataError';
    this.code = code;
  }
}
