import { createStudioClient, type StudioClient } from '../client/studioClient';
import { createWorkerTransport } from '../client/transport';
import { decodeToPixels } from '../data/decode';
import type { DroppedFile } from '../data/dropWalk';
import { checkClasses } from '../data/folderLayout';
import { ingestFiles } from '../data/ingest';
import { fetchSampleDataset } from '../data/sampleDataset';
import type { DatasetNotice, ImageShape } from '../data/types';
import type { BackendPreference } from '../worker/protocol';
import { useStudio } from '../store/store';

/** URLs of what ships in public/. */
const BUILT_IN_MODEL_URL = new URL('models/digits/model.json', document.baseURI).href;
const SAMPLE_URL = new URL('sample/digits-5-9.json', document.baseURI).href;

let client: StudioClient | null = null;

/** The app's one client; created on first use. */
export function studioClient(): StudioClient {
  client ??= createStudioClient(createWorkerTransport(), useStudio);
  return client;
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
    .then(({ name, images }) => {
      if (useStudio.getState().datasetSource === 'none') useStudio.getState().loadSample(name, images);
    })
    .catch((error: Error) => useStudio.getState().runFailed(error.message));
  await c.init(preference, params.get('softwareWebgl') === '1');
  const model = await c.loadModel({ kind: 'url', url: BUILT_IN_MODEL_URL }, 'Built-in: digits CNN');
  // The built-in demo is the classic transfer experiment: backbone frozen, head trained.
  if (model) useStudio.getState().setAllFrozen(true);
  await samplePromise;
}

/**
 * Decodes dropped or picked files at the model's input size and adds them to
 * the dataset. The first user folder replaces the built-in sample.
 */
export async function addFiles(files: DroppedFile[], emptyFolders: string[] = []): Promise<void> {
  const state = useStudio.getState();
  const model = state.model;
  if (!model) {
    // Images are decoded at the model's input size, so they cannot be taken before it is known.
    state.reportRejected([], [{ level: 'error', message: 'The model is still loading; add the folder again in a moment.' }]);
    return;
  }
  const shape: ImageShape = { ...model.inputShape, channels: model.inputShape.channels === 3 ? 3 : 1 };
  const rootName = files[0]?.path.split('/')[0] ?? emptyFolders[0]?.split('/')[0] ?? 'files';
  state.setIngestProgress({ done: 0, total: files.length });
  try {
    const result = await ingestFiles(files, shape, (_bytes, blob, s) => decodeToPixels(blob, s), (done, total) =>
      useStudio.getState().setIngestProgress({ done, total }),
    );
    // Class-level checks are re-derived over the whole dataset (see datasetNotices), so drop this drop's own.
    const dropCounts = new Map<string, number>();
    for (const image of result.images) dropCounts.set(image.className, (dropCounts.get(image.className) ?? 0) + 1);
    const classLevel = new Set(checkClasses(dropCounts).map((n) => n.message));
    const notices: DatasetNotice[] = result.notices.filter((n) => !classLevel.has(n.message));
    for (const folder of emptyFolders) {
      notices.push({ level: 'warning', message: `Folder '${folder}' is empty; no images were taken from it.` });
    }
    if (result.images.length === 0 && notices.length === 0 && result.rejected.length > 0) {
      notices.push({ level: 'error', message: `No usable images in '${rootName}': every file was rejected (see Rejected files).` });
    }
    if (result.images.length > 0 || useStudio.getState().datasetSource === 'user') {
      useStudio.getState().addUserImages(rootName, result.images, result.rejected, notices);
    } else {
      // Nothing usable: keep the current dataset, but say what was wrong.
      useStudio.getState().reportRejected(result.rejected, notices);
    }
  } finally {
    useStudio.getState().setIngestProgress(null);
  }
}
