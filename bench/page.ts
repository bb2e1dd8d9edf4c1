/**
 * Browser side of `npm run bench`: measures one model on one backend and
 * leaves the result on `window.__bench`; rows finished so far are on
 * `window.__benchRows`, for a caller that gives up waiting.
 * Query: ?backend=webgpu|webgl&model=digits|mobilenetv2&steps=N
 */
import { selectBackend } from '../src/engine/backend';
import { loadLayersModelFromUrl } from '../src/engine/modelFiles';
import { packImages } from '../src/data/pixels';
import { fetchSampleDataset } from '../src/data/sampleDataset';
import type { BackendName } from '../src/worker/protocol';
import { benchFreezePlans, benchMobileNetV2, type StepBenchRow } from './stepBench';

const params = new URLSearchParams(location.search);
const wanted = (params.get('backend') ?? 'webgpu') as BackendName;
const which = params.get('model') ?? 'digits';
const out = document.getElementById('out')!;
const target = window as unknown as { __bench?: unknown; __benchRows: StepBenchRow[] };
target.__benchRows = [];

async function fetchFile(url: string): Promise<{ name: string; buffer: ArrayBuffer }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not fetch '${url}': HTTP ${response.status}. Run 'npm run models' first.`);
  return { name: url.split('/').pop()!, buffer: await response.arrayBuffer() };
}

async function benchDigits(): Promise<{ rows: StepBenchRow[] }> {
  const sample = await fetchSampleDataset('/sample/digits-5-9.json');
  const classNames = [...new Set(sample.images.map((i) => i.className))];
  const data = {
    pixels: packImages(
      sample.images.map((i) => i.pixels),
      { height: 28, width: 28, channels: 1 },
    ),
    labels: Int32Array.from(sample.images, (i) => classNames.indexOf(i.className)),
    shape: { height: 28, width: 28, channels: 1 },
  };
  const rows = await benchFreezePlans(() => loadLayersModelFromUrl('/models/digits/model.json'), data, classNames.length, {
    modelName: 'digits',
    steps: Number(params.get('steps') ?? 8),
    warmup: 2,
    batchSize: 32,
    onRow: (row) => target.__benchRows.push(row),
  });
  return { rows };
}

try {
  const { backend, notes } = await selectBackend(wanted, true);
  if (backend !== wanted) {
    target.__bench = { unavailable: `${wanted} did not start: ${notes.join('; ')}` };
  } else if (which === 'mobilenetv2') {
    const files = await Promise.all(['/models/mobilenet_v2/model.json', '/models/mobilenet_v2/weights.bin'].map(fetchFile));
    target.__bench = await benchMobileNetV2(files, (row) => target.__benchRows.push(row));
  } else {
    target.__bench = await benchDigits();
  }
} catch (error) {
  target.__bench = { error: String((error as Error).stack ?? error) };
}
out.textContent = JSON.stringify(target.__bench);
