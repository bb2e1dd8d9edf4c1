/** Size of one decoded image: `height × width × channels` uint8 values, row-major HWC. */
export type ImageShape = { height: number; width: number; channels: 1 | 3 };

/**
 * One decoded training image; `pixels` holds `height × width × channels` uint8 values, row-major HWC.
 * `source` is the original file (kept to re-derive the pixels when the model's input changes);
 * `hash` is the hex SHA-256 of its bytes (duplicate detection).
 */
export type LabeledImage = { path: string; className: string; pixels: Uint8Array; source?: Blob; hash?: string };

/** A file left out of the dataset; `reason` is a user-facing sentence that quotes `path` and says what to do. */
export type RejectedFile = { path: string; reason: string };

/** A problem with the dataset's structure that is not tied to one file (an 'error' blocks training). */
export type DatasetNotice = { level: 'warning' | 'error'; message: string };
