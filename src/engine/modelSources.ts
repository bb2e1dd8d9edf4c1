/**
 * Where a model comes from, behind one contract (Netron's model factories):
 * each format says whether a source is its kind (`match`) and opens it
 * (`open`), answering a bad file with `{ ok: false, code, reason }` instead
 * of throwing. Only programmer errors throw.
 */
import { refused, type Result } from '../core/result';
import { loadLayersModelFromFileSet, loadLayersModelFromUrl, ModelFileError, type LoadedModel, type ModelFileErrorCode } from './modelFiles';

/** Where the worker reads a Layers model from: a URL, or files the user picked (model.json + shards, buffers transferred). */
export type ModelSource = { kind: 'url'; url: string } | { kind: 'files'; files: { name: string; buffer: ArrayBuffer }[] };

/** A model opened, or why not: a stable `code` and a sentence that names the file and says what to do. */
export type ModelOpenResult = Result<{ loaded: LoadedModel }, ModelFileErrorCode | 'unsupported-source'>;

/** One way a model reaches the studio. */
export interface ModelFormat {
  /** What the format is, in the user's words. */
  name: string;
  match(source: ModelSource): boolean;
  open(source: ModelSource): Promise<ModelOpenResult>;
}

/** Runs `load`, turning a ModelFileError (bad user input) into a result; anything else is a programmer error and is thrown. */
async function attempt(load: () => Promise<LoadedModel>): Promise<ModelOpenResult> {
  try {
    return { ok: true, loaded: await load() };
  } catch (error) {
    if (error instanceof ModelFileError) return refused(error.code, error.message);
    throw error;
  }
}

/** The formats the studio opens, in the order they are asked. */
export const MODEL_FORMATS: readonly ModelFormat[] = [
  {
    name: 'tfjs Layers model (model.json and its weight files)',
    match: (source) => source.kind === 'files',
    open: (source) => attempt(() => loadLayersModelFromFileSet((source as Extract<ModelSource, { kind: 'files' }>).files)),
  },
  {
    name: 'tfjs Layers model by URL',
    match: (source) => source.kind === 'url',
    open: (source) => attempt(() => loadLayersModelFromUrl((source as Extract<ModelSource, { kind: 'url' }>).url)),
  },
];

/** Opens `source` with the first format that matches it. */
export async function openModel(source: ModelSource, formats: readonly ModelFormat[] = MODEL_FORMATS): Promise<ModelOpenResult> {
  const format = formats.find((f) => f.match(source));
  if (!format)
    return {
      ok: false,
      code: 'unsupported-source',
      reason: `The studio cannot open a model from a source of kind '${(source as { kind: string }).kind}'. Pick a model.json with its weight files, or a URL.`,
    };
  return format.open(source);
}
