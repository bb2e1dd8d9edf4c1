/**
 * Browser side of `npm run bench -- --quick`: the three figures of
 * bench/quickBench.ts on one backend. Each part's result is put on
 * `window.__quick` as soon as it is measured (a caller that gives up waiting
 * still has them); `window.__quickDone` is set at the end.
 * Query: ?backend=webgl|webgpu&parts=head,overhead,prefix&overheadRepeats=N
 */
import { selectBackend } from '../src/engine/backend';
import type { BackendName } from '../src/worker/protocol';
import { benchFrozenPrefix, benchHeadCache, benchStudioOverhead, QUICK_BENCH } from './quickBench';

const params = new URLSearchParams(location.search);
const wanted = (params.get('backend') ?? 'webgl') as BackendName;
const parts = (params.get('parts') ?? 'head,overhead,prefix').split(',');
const out = document.getElementById('out')!;
const target = window as unknown as { __quick: Record<string, unknown>; __quickDone?: boolean };
target.__quick = { errors: [] as string[] };
const log = (line: string) => {
  console.log(`[quick] ${line}`);
  out.textContent = line;
};

async function fetchFile(url: string): Promise<{ name: string; buffer: ArrayBuffer }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not fetch '${url}': HTTP ${response.status}. Run 'npm run models' first.`);
  return { name: url.split('/').pop()!, buffer: await response.arrayBuffer() };
}

try {
  const { backend, notes } = await selectBackend(wanted, true);
  target.__quick.backend = backend;
  if (backend !== wanted) throw new Error(`${wanted} did not start: ${notes.join('; ')}`);
  const files = await Promise.all(['/models/mobilenet_v2/model.json', '/models/mobilenet_v2/weights.bin'].map(fetchFile));
  const runs: Record<string, () => Promise<unknown>> = {
    head: () => benchHeadCache(files, log),
    overhead: () => benchStudioOverhead(files, log, Number(params.get('overheadRepeats') ?? QUICK_BENCH.overhead.repeats)),
    prefix: () => benchFrozenPrefix(files, log),
  };
  for (const part of parts) {
    if (!runs[part]) throw new Error(`'${part}' is not a part of the quick bench; use head, overhead or prefix.`);
    try {
      target.__quick[part] = await runs[part]();
    } catch (error) {
      (target.__quick.errors as string[]).push(`${part}: ${String((error as Error).stack ?? error)}`);
    }
  }
} catch (error) {
  (target.__quick.errors as string[]).push(String((error as Error).stack ?? error));
}
target.__quickDone = true;
out.textContent = JSON.stringify(target.__quick);
