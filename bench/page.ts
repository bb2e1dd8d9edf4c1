/** Browser side of `npm run bench`: measures one backend and leaves the rows on `window.__bench`. */
import { selectBackend } from '../src/engine/backend';
import { loadLayersModelFromUrl } from '../src/engine/modelFiles';
import { packImages } from '../src/data/pixels';
import { fetchSampleDataset } from '../src/data/sampleDataset';
import type { BackendName } from '../src/worker/protocol';
import { benchFreezePlans } from './stepBench';

const params = new URLSearchParams(location.search);
const wanted = (params.get('backend') ?? 'webgpu') as BackendName;
const out = document.getElementById('out')!;
const target = window as unknown as { __bench?: unknown };

try {
  const { backend, notes } = await selectBackend(wanted, true);
  if (backend !== wanted) {
    target.__bench = { unavailable: `${wanted} did not start: ${notes.join('; ')}` };
  } else {
    const sample = await fetchSampleDataset('/sample/digits-5-9.json');
    const classNames = [...new Set(sample.images.map((i) => i.className))];
    const data = {
      pixels: packImages(sample.images.map((i) => i.pixels), { height: 28, width: 28, channels: 1 }),
      labels: Int32Array.from(sample.images, (i) => classNames.indexOf(i.className)),
      shape: { height: 28, width: 28, channels: 1 },
    };
    const rows = await benchFreezePlans(() => loadLayersModelFromUrl('/models/digits/model.json'), data, classNames.length, {
      steps: Number(params.get('steps') ?? 8),
      warmup: 2,
      batchSize: 32,
    });
    target.__bench = { rows };
  }
} catch (error) {
  target.__bench = { error: String((error as Error).stack ?? error) };
}
out.textContent = JSON.stringify(target.__bench);
