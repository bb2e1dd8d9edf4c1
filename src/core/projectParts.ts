/**
 * The names of a project's binary parts (the files beside project.json in a project file, or the blobs
 * beside the manifest in a stored project): which folders they live in, the rule every name follows, and
 * how dataset and model files get unique names. A name that follows the rule is a relative path of
 * non-empty segments without `..`, backslashes, drive letters, control characters, characters Windows
 * refuses in file names, or a leading dot, so it can neither escape an archive nor be hidden when unpacked.
 */

/** The manifest's name in a project file. */
export const PROJECT_MANIFEST_NAME = 'project.json';
/** The trained weights of the last run: model.json of the transfer model, its weight manifest naming `weights.bin`. */
export const WEIGHTS_MODEL_JSON_PART = 'weights/model.json';
/** The trained weights' bytes, in model.json's weight-manifest order. */
export const WEIGHTS_BIN_PART = 'weights/weights.bin';
/** [validation images × classes] float32 little-endian probabilities of the last run's evaluation. */
export const VALIDATION_PROBABILITIES_PART = 'evaluation/validation.f32';
/** [test images × classes] float32 little-endian probabilities of the last run's evaluation. */
export const TEST_PROBABILITIES_PART = 'evaluation/test.f32';

/** Longest segment a part name keeps (file systems allow 255 bytes; names of up to 4-byte characters fit). */
const MAX_SEGMENT = 60;
// eslint-disable-next-line no-control-regex -- control characters are what it must find.
const UNSAFE = /[\\/:*?"<>|\u0000-\u001f\u007f]/g;

/**
 * `name` made into one safe segment of a part name: unsafe characters become '_', trailing dots and
 * spaces go (Windows drops them), a leading dot gets a '_' before it, names over 60 characters are cut
 * keeping their extension, and '' becomes '_'. Safe segments come back unchanged.
 */
export function safePartSegment(name: string): string {
  let segment = name.replace(UNSAFE, '_');
  if (segment.startsWith('.')) segment = `_${segment}`;
  const chars = [...segment];
  if (chars.length > MAX_SEGMENT) {
    const dot = segment.lastIndexOf('.');
    const extension = dot > 0 && segment.length - dot <= 10 ? [...segment.slice(dot)] : [];
    segment = [...chars.slice(0, MAX_SEGMENT - extension.length), ...extension].join('');
  }
  segment = segment.replace(/[. ]+$/, '');
  return segment === '' ? '_' : segment;
}

/** True when every '/'-separated segment of `name` is safe (safePartSegment leaves it unchanged). */
export function isSafePartName(name: string): boolean {
  return name !== '' && name.split('/').every((segment) => segment === safePartSegment(segment));
}

/** `base (2).png`, `base (3).png`, …: the first of `folder/file` that is not in `taken` (compared without case, as unpacked on macOS and Windows). */
function uniqueName(taken: Set<string>, folder: string, file: string): string {
  const dot = file.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [file.slice(0, dot), file.slice(dot)] : [file, ''];
  for (let n = 1; ; n++) {
    const name = `${folder}/${n === 1 ? file : `${stem} (${n})${extension}`}`;
    if (!taken.has(name.toLowerCase())) {
      taken.add(name.toLowerCase());
      return name;
    }
  }
}

/**
 * Part names for the dataset's original files, in order: `dataset/<class folder>/<file name>`, the folder
 * and the file name made safe, and ` (2)`, ` (3)`… added where two files would get the same name.
 */
export function datasetPartNames(images: readonly { className: string; path: string }[]): string[] {
  const taken = new Set<string>();
  return images.map((image) => uniqueName(taken, `dataset/${safePartSegment(image.className)}`, safePartSegment(image.path.split('/').pop() ?? '')));
}

/** Part names for an imported model's files, in order: `model/<file name>`, made safe and unique. */
export function modelPartNames(fileNames: readonly string[]): string[] {
  const taken = new Set<string>();
  return fileNames.map((name) => uniqueName(taken, 'model', safePartSegment(name)));
}

/** `values` as float32 little-endian bytes (4 per value), whatever the platform's byte order. */
export function float32Bytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return bytes;
}

/** The float32 values of little-endian `bytes` (whose length is a multiple of 4). */
export function float32sOf(bytes: Uint8Array): Float32Array {
  const values = new Float32Array(Math.floor(bytes.length / 4));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return values;
}
