import { createStudioClient, type StudioClient } from '../client/studioClient';
import { createWorkerTransport } from '../client/transport';
import { fetchSampleDataset } from '../data/sampleDataset';
import { resizePixels } from '../data/fit';
import type { BackendPreference, ModelSource } from '../worker/protocol';
import { useStudio } from '../store/store';
import { BUILT_IN_MODELS, DEFAULT_MODEL_ID } from './builtInModels';
import { importPytorchRun } from './importPytorchRun';
import { decodeTarget, rederiveIfNeeded } from './ingest';

/** URL of the sample dataset that ships in public/. */
const SAMPLE_URL = new URL('sample/digits-5-9.json', document.baseURI).href;

let client: StudioClient | null = null;

/** The app's one client (like the app's one store); created on first use. */
export function studioClient(): StudioClient {
  client ??= createStudioClient(createWorkerTransport(), useStudio);
  return client;
}

/**
 * Puts the built-in sample into the store at the model's input size and
 * resize mode (MobileNetV2: 224×224 RGB), unless the user's own images
 * replaced it (those are re-derived from their files: see rederiveIfNeeded).
 */
function fitSampleToModel(force = false): void {
  const state = useStudio.getState();
  const sample = state.shippedSample;
  const target = decodeTarget();
  if (!sample || !target || (state.datasetSource === 'user' && !force)) return;
  if (target.key === state.decodedFor?.key && state.datasetSource === 'sample') return;
  const { name, shape, images } = sample;
  const same = shape.height === target.shape.height && shape.width === target.shape.width && shape.channels === target.shape.channels;
  state.loadSample(name, same ? images : images.map((image) => ({ ...image, pixels: resizePixels(image.pixels, shape, target.shape, target.resize) })), target);
}

/** Puts the built-in sample back as the dataset, replacing the user's images (opening a project saved with the sample); false before it is fetched or a model is loaded. */
export function reloadSample(): boolean {
  fitSampleToModel(true);
  return useStudio.getState().datasetSource === 'sample';
}

/**
 * Starts the studio: backend (`?backend=webgpu|webgl|cpu` forces one, for tests
 * and benchmarks), the built-in model, and the built-in sample dataset; then `reopen` (main.tsx: the
 * project autosaved in this browser, app/autosave, which starts saving after it).
 */
export async function startStudio(search: string, reopen?: () => Promise<void>): Promise<void> {
  const params = new URLSearchParams(search);
  const preference = (params.get('backend') ?? 'auto') as BackendPreference;
  const c = studioClient();
  useStudio.getState().backendRequested(preference, params.get('softwareWebgl') === '1');
  const samplePromise = fetchSampleDataset(SAMPLE_URL)
    .then((sample) => {
      useStudio.getState().setShippedSample(sample);
      if (useStudio.getState().datasetSource === 'none') fitSampleToModel();
    })
    .catch((error: Error) => useStudio.getState().runFailed(error.message));
  useStudio.subscribe((state, previous) => {
    if (state.model !== previous.model || state.preprocessing?.resize !== previous.preprocessing?.resize) {
      fitSampleToModel();
      rederiveIfNeeded();
    }
  });
  const { backendRequest } = useStudio.getState();
  await c.init(backendRequest.preference, backendRequest.allowSoftwareWebgl);
  await loadBuiltInModel(DEFAULT_MODEL_ID);
  await samplePromise;
  if (reopen) await reopen();
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
    useStudio
      .getState()
      .modelFailed(
        `'${text}' is a ${url.protocol.slice(0, -1)} address; only http and https URLs can be loaded. For files on this computer, use Import model.`,
      );
    return;
  }
  await studioClient().loadModel({ kind: 'url', url: url.href }, { kind: 'url', url: url.href });
}

/** The picked files as the worker takes them: `{name, buffer}` each, read now. */
function readModelFiles(picked: readonly File[]): Promise<{ name: string; buffer: ArrayBuffer }[]> {
  return Promise.all(picked.map(async (file) => ({ name: file.name, buffer: await file.arrayBuffer() })));
}

/**
 * Loads a model.json picked together with its weight files; a failure keeps the current model. A train.py result
 * (out/ with a PyTorch metadata.json) is recognised first (app/importPytorchRun.ts).
 */
export async function importModelFiles(picked: readonly File[]): Promise<void> {
  if (await importPytorchRun(picked, studioClient(), useStudio, () => loadModelFiles(picked))) return;
  await loadModelFiles(picked);
}

/** Loads the picked model files; resolves whether the model loaded. */
async function loadModelFiles(picked: readonly File[]): Promise<boolean> {
  const files = await readModelFiles(picked);
  const fileName =
    files.map((f) => f.name).find((n) => n.toLowerCase().endsWith('.json') && n.toLowerCase() !== 'metadata.json') ?? files[0]?.name ?? 'model.json';
  // The File objects stay in the model's origin: the buffers sent are transferred, so a restarted worker reads them again.
  return (await studioClient().loadModel({ kind: 'files', files }, { kind: 'files', fileName, files: [...picked] })) !== null;
}

/** Where the current model can be read from again: its URL, or the kept files of the last import read anew. */
async function currentModelSource(): Promise<ModelSource | null> {
  const origin = useStudio.getState().modelOrigin;
  switch (origin?.kind) {
    case 'builtin': {
      const entry = BUILT_IN_MODELS.find((m) => m.id === origin.id);
      return entry ? { kind: 'url', url: new URL(entry.path, document.baseURI).href } : null;
    }
    case 'url':
      return { kind: 'url', url: origin.url };
    case 'files':
      if (!origin.files) throw new Error(`the files of '${origin.fileName}' are no longer at hand`);
      return { kind: 'files', files: await readModelFiles(origin.files) };
    default:
      return null;
  }
}

/**
 * "Restart the training worker" after a crash: a fresh worker, the backend asked for at start-up, and the
 * current model loaded again (built-in or by URL: from its URL; imported: from the files kept since the
 * import), keeping the tree, plan, data and run history. When the model cannot be had again (no model had
 * loaded yet, or an imported file cannot be read any more), the default built-in model is loaded and the
 * reason is shown with the model.
 */
export async function restartTrainingWorker(): Promise<void> {
  const crash = useStudio.getState().workerCrash;
  if (!crash || crash.restarting) return;
  let source: ModelSource | null = null;
  let unreadable: string | null = null;
  try {
    source = await currentModelSource();
  } catch (error) {
    const origin = useStudio.getState().modelOrigin;
    unreadable = `The imported model '${origin?.kind === 'files' ? origin.fileName : '?'}' could not be read again (${(error as Error).message}); the built-in model was loaded instead. Import your model again to go on with it.`;
  }
  const { backendRequest } = useStudio.getState();
  const restarted = await studioClient().restart(backendRequest.preference, backendRequest.allowSoftwareWebgl, source);
  if (!restarted || source) return;
  await loadBuiltInModel(DEFAULT_MODEL_ID);
  if (unreadable) useStudio.getState().modelFailed(unreadable);
}

/** Adding files lives in ./ingest (decode workers, progress, Cancel); re-exported for the components that import it from here. */
export { addFiles, cancelIngest } from './ingest';
