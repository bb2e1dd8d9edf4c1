/** Size of one decoded image: `height × width × channels` uint8 values, row-major HWC. */
export type ImageShape = { height: number; width: number; channels: 1 | 3 };

/** One decoded training image; `pixels` holds `height × width × channels` uint8 values, row-major HWC. */
export type LabeledImage = { path: string; className: string; pixels: Uint8Array };

/** A file left out of the dataset; `reason` is a user-facing sentence that quotes `path` and says what to do. */
export type RejectedFile = { path: string; reason: string };

/** A problem with the dataset's structure that is not tied to one file (an 'error' blocks training). */
export type DatasetNotice = { level: 'warning' | 'error'; message: string };
