/**
 * Browser side of the bench's 'cpu' part (issue 15): bench/cpuBench.ts on one
 * backend (default wasm, threaded when the dev server's COOP/COEP make the page
 * cross-origin isolated). `window.__cpu` holds the result when
 * `window.__cpuDone` is set; `window.__memoryPhase` is the batch of the memory
 * step running now (Node samples the renderer's memory meanwhile).
 * Query: ?backend=wasm&steps=2&repeats=3&cacheImages=1000&memory=8,32 (&threads=N: wasm's thread count instead of the studio's)
 */
import { prepareWasm, selectBackend, wasmDetails } from '../src/engine/backend';
import type { BackendName } from '../src/worker/protocol';
import { benchCpu, emptyCpuResult, type CpuBenchResult } from './cpuBench';

const params = new URLSearchParams(location.search);
const wanted = (params.get('backend') ?? 'wasm') as BackendName;
const out = document.getElementById('out')!;
const target = window as unknown as { __cpu?: CpuBenchResult; __cpuDone?: boolean; __cpuError?: string; __memoryPhase: number | null };
target.__memoryPhase = null;
const log = (line: string) => {
  console.log(`[cpu] ${line}`);
  out.textContent = line;
};

async function fetchFile(url: string): Promise<{ name: string; buffer: ArrayBuffer }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not fetch '${url}': HTTP ${response.status}. Run 'npm run models' first.`);
  return { name: url.split('/').pop()!, buffer: await response.arrayBuffer() };
}

/** What WebGPU adapter this Chromium reaches: vendor, architecture, description, and whether it is a fallback (software). */
async function adapterText(): Promise<string> {
  type Info = { vendor?: string; architecture?: string; description?: string; device?: string };
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Info; isFallbackAdapter?: boolean } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter();
  if (!adapter) return 'no adapter';
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') + (adapter.isFallbackAdapter ? ' (fallback adapter)' : '');
}

try {
  // ?threads=N: wasm on N threads instead of the studio's count (engine/backend.ts wasmThreadsFor).
  if (params.has('threads')) prepareWasm(Number(params.get('threads')));
  const { backend, notes } = await selectBackend(wanted, true);
  if (backend !== wanted) throw new Error(`${wanted} did not start: ${notes.join('; ')}`);
  const files = await Promise.all(['/models/mobilenet_v2/model.json', '/models/mobilenet_v2/weights.bin'].map(fetchFile));
  const partial = emptyCpuResult();
  target.__cpu = partial;
  const adapter = backend === 'webgpu' ? await adapterText() : undefined;
  // ?requireGpu=1 (npm run bench -- --gpu): on a software adapter the step would take many minutes and say nothing about a GPU.
  const software = adapter !== undefined && /swiftshader|fallback|no adapter/i.test(adapter);
  const skipGpu = software && params.has('requireGpu');
  const result = await benchCpu(
    files,
    {
      steps: Number(params.get('steps') ?? 2),
      repeats: Number(params.get('repeats') ?? 3),
      cacheImages: Number(params.get('cacheImages') ?? 1000),
      memoryBatches: (params.get('memory') ?? '8,32').split(',').filter(Boolean).map(Number),
      parts: skipGpu ? [] : params.get('parts')?.split(','),
      plans: params.get('plans')?.split(',') as CpuBenchResult['steps'][number]['plan'][] | undefined,
      stepBatch: params.has('stepBatch') ? Number(params.get('stepBatch')) : undefined,
    },
    log,
    (batch) => {
      target.__memoryPhase = batch;
      // Node reads this from the console event (sent at once, even while the page then computes for seconds).
      console.log(`[cpu-phase] ${batch ?? '-'}`);
    },
    partial,
  );
  result.detail = backend === 'wasm' ? await wasmDetails() : backend;
  if (adapter !== undefined) result.adapter = adapter;
  if (skipGpu) result.errors.push(`not measured: WebGPU's adapter here is ${adapter}, not a GPU`);
  target.__cpu = result;
} catch (error) {
  target.__cpuError = String((error as Error).stack ?? error);
}
target.__cpuDone = true;
out.textContent = 'done';
