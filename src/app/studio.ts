import { createStudioClient, type StudioClient } from '../client/studioClient';
import { createWorkerTransport } from '../client/transport';
import { fetchSampleDataset } from '../data/sampleDataset';
import { resizePixels } from '../data/fit';
import type { ImageShape, LabeledImage } from '../data/types';
import type { BackendPreference } from '../worker/protocol';
import { useStudio } from '../store/store';
import { BUILT_IN_MODELS, DEFAULT_MODEL_ID } from './builtInModels';
import { noteSampleFittedTo, rederiveIfNeeded } from './ingest';

/** URL of the sample dataset that ships in public/. */
const SAMPLE_URL = new URL('sample/digits-5-9.json', document.baseURI).href;

let client: StudioClient | null = null;

/** The app's one client; created on first use. */
export function studioClient(): StudioClient {
  client ??= createStudioClient(createWorkerTransport(), useStudio);
  return client;
}

/** The built-in sample as shipped (28×28 grey), kept to re-fit it when the model's input changes. */
let rawSample: { name: string; images: LabeledImage[]; shape: ImageShape } | null = null;
/** The input shape and resize mode the sample in the store was fitted to. */
let sampleFittedTo = '';

/**
 * Puts the built-in sample into the store at the model's input size and
 * resize mode (MobileNetV2: 224×224 RGB), unless the user's own images
 * replaced it (those are re-derived from their files: see rederiveIfNeeded).
 */
function fitSampleToModel(): void {
  const state = useStudio.getState();
  if (!rawSample || !state.model || !state.preprocessing || state.datasetSource === 'user') return;
  const target: ImageShape = { ...state.model.inputShape, channels: state.model.inputShape.channels === 3 ? 3 : 1 };
  const key = `${target.height}×${target.width}×${target.channels} ${state.preprocessing.resize}`;
  if (key === sampleFittedTo && state.datasetSource === 'sample') return;
  sampleFittedTo = key;
  const { name, shape, images } = rawSample;
  const same = shape.height === target.height && shape.width === target.width && shape.channels === target.channels;
  const resize = state.preprocessing.resize;
  state.loadSample(name, same ? images : images.map((image) => ({ ...image, pixels: resizePixels(image.pixels, shape, target, resize) })));
  noteSampleFittedTo({ shape: target, resize, key });
}

/**
 * Starts the studio: backend (`?backend=webgpu|webgl|cpu` forces one, for tests
 * and benchmarks), the built-in model, and the built-in sample dataset.
 */
export async function startStudio(search: string): Promise<void> {
  const params = new URLSearchParams(search);
  const preference = (params.get('backend') ?? 'auto') as BackendPreference;
  const c = studioClient();
  const samplePromise = fetchSampleDataset(SAMPLE_URL)
    .then((sample) => {
      rawSample = sample;
      if (useStudio.getState().datasetSource === 'none') fitSampleToModel();
    })
    .catch((error: Error) => useStudio.getState().runFailed(error.message));
  useStudio.subscribe((state, previous) => {
    if (state.model !== previous.model || state.preprocessing?.resize !== previous.preprocessing?.resize) {
      fitSampleToModel();
      rederiveIfNeeded();
    }
  });
  await c.init(preference, params.get('softwareWebgl') === '1');
  await loadBuiltInModel(DEFAULT_MODEL_ID);
  await samplePromise;
}

/** Loads one of the built-in models by id; the digits demo starts with its backbone frozen, others with the file's own flags. */
export async function loadBuiltInModel(id: string): Promise<void> {
  const entry = BUILT_IN_MODELS.find((m) => m.id === id);
  if (!entry) throw new Error(`No built-in model '${id}'.`);
  const url = new URL(entry.path, document.baseURI).href;
  const model = await studioClient().loadModel({ kind: 'url', url }, { kind: 'builtin', id, label: entry.label });
  // The classic transfer experiment: backbone frozen, head trained.
  if (model && entry.freezeAll) useStudio.getState().setAllFrozen(true);
}

/**
 * Loads a model.json (and the shards beside it) from a URL the user typed.
 * Only http(s) is accepted; fetch failures are explained in the worker.
 */
export async function loadModelFromUrl(text: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(text.trim(), document.baseURI);
  } catch {
    useStudio.getState().modelFailed(`'${text}' is not a URL. Give the address of a model.json, e.g. https://example.com/model/model.json.`);
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    useStudio.getState().modelFailed(`'${text}' is a ${url.protocol.slice(0, -1)} address; only http and https URLs can be loaded. For files on this computer, use Import model.`);
    return;
  }
  await studioClient().loadModel({ kind: 'url', url: url.href }, { kind: 'url', url: url.href });
}

/** Loads a model.json picked together with its weight files; a failure keeps the current model. */
export async function importModelFiles(picked: readonly File[]): Promise<void> {
  const files = await Promise.all(picked.map(async (file) => ({ name: file.name, buffer: await file.arrayBuffer() })));
  const fileName = files.map((f) => f.name).find((n) => n.toLowerCase().endsWith('.json')) ?? files[0]?.name ?? 'model.json';
  await studioClient().loadModel({ kind: 'files', files }, { kind: 'files', fileName });
}

/** Adding files lives in ./ingest (decode workers, progress, Cancel); re-exported for the components that import it from here. */
export { addFiles, cancelIngest } from './ingest';
