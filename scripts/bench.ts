/**
 * `npm run bench`: milliseconds per training step under different freeze
 * plans, on every backend that works here — cpu in Node, webgpu and webgl in
 * headless Chromium — for the built-in digits model (full fine-tune vs head
 * only) and for the built-in MobileNetV2 (its load time, then full fine-tune,
 * head only and the last two blocks), and the layer tree's render times
 * (MobileNetV2 and 500 layers, in Chromium), and the dataset ingest rate and memory
 * (1,000 and 10,000 generated images, in Chromium). Writes bench/results.md. Ratios are
 * compared within one run (shared machines are noisy); nothing here is a
 * pass/fail gate.
 *
 * Options: --steps N (timed steps per digits configuration, default 8);
 * --only digits|mobilenetv2|tree|ingest (one part; prints the tables, leaves
 * bench/results.md alone); --ingest-cases 1000x28x28x1,… (files × H × W × C) replaces the ingest cases.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { chromium } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS } from '../playwright.config';
import { loadBuiltInModelFromDisk, loadSampleFromDisk, readMobileNetV2FilesFromDisk } from '../src/engine/testing/builtInFiles';
import { benchFreezePlans, benchMobileNetV2, MOBILENET_V2_BENCH, type LoadBenchRow, type StepBenchRow } from '../bench/stepBench';
import type { TreeBenchRow } from '../bench/treePage';
import type { IngestBenchRow } from '../bench/ingestPage';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argSteps = process.argv.indexOf('--steps');
const STEPS = argSteps > 0 ? Number(process.argv[argSteps + 1]) : 8;
const argOnly = process.argv.indexOf('--only');
type Part = 'digits' | 'mobilenetv2' | 'tree' | 'ingest';
const ALL_PARTS: Part[] = ['digits', 'mobilenetv2', 'tree', 'ingest'];
/** Parts measured only in the browser, by a page of their own. */
const PAGE_PARTS: Part[] = ['tree', 'ingest'];
const PARTS: Part[] = argOnly > 0 ? [process.argv[argOnly + 1] as Part] : ALL_PARTS;
for (const part of PARTS) {
  if (!ALL_PARTS.includes(part)) throw new Error(`--only '${part}' is not a part of the bench; use --only ${ALL_PARTS.join(', --only ')}.`);
}

/** How long one browser page may run before its finished rows are taken and the rest reported as timed out. */
const PAGE_TIMEOUT_MS: Record<Exclude<Part, 'tree' | 'ingest'>, number> = { digits: 600_000, mobilenetv2: 1_800_000 };

/** Browser flags per backend: SwiftShader stands in for a GPU on machines without one. */
const BROWSER_BACKENDS: { backend: 'webgpu' | 'webgl'; args: string[] }[] = [
  { backend: 'webgpu', args: ['--enable-unsafe-webgpu'] },
  { backend: 'webgl', args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'] },
];

interface Results {
  steps: StepBenchRow[];
  loads: LoadBenchRow[];
  tree: TreeBenchRow[];
  ingest: IngestMeasured[];
  notes: string[];
}

function logRow(row: StepBenchRow): void {
  const ms = row.msPerStep === null ? `skipped: ${row.skipped ?? 'no step timed'}` : `${row.msPerStep.toFixed(0)} ms/step`;
  console.log(`  ${row.model} ${row.backend} ${row.plan}: ${ms} (first step ${row.firstStepMs?.toFixed(0) ?? '–'} ms)`);
}

async function benchCpu(results: Results): Promise<void> {
  await tf.setBackend('cpu');
  if (PARTS.includes('digits')) {
    const data = loadSampleFromDisk();
    results.steps.push(...await benchFreezePlans(loadBuiltInModelFromDisk, data, data.classNames.length, {
      modelName: 'digits', steps: STEPS, warmup: 2, batchSize: 32, onRow: logRow,
    }));
  }
  if (PARTS.includes('mobilenetv2')) {
    const { load, rows } = await benchMobileNetV2(readMobileNetV2FilesFromDisk(), logRow);
    console.log(`  MobileNetV2 cpu load: ${load.msPerLoad.toFixed(0)} ms`);
    results.loads.push(load);
    results.steps.push(...rows);
  }
}

/** Runs bench/index.html for one model on one backend in a fresh browser, collecting what it measured. */
async function benchPage(server: ViteDevServer, backend: string, args: string[], part: Exclude<Part, 'tree' | 'ingest'>, results: Results): Promise<void> {
  const port = (server.httpServer!.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/bench/index.html?backend=${backend}&model=${part}&steps=${STEPS}`);
    try {
      await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, null, { timeout: PAGE_TIMEOUT_MS[part], polling: 1000 });
    } catch {
      const partial = (await page.evaluate(() => (window as unknown as { __benchRows: unknown }).__benchRows)) as StepBenchRow[];
      partial.forEach(logRow);
      results.steps.push(...partial);
      results.notes.push(`${part} on ${backend}: stopped waiting after ${PAGE_TIMEOUT_MS[part] / 60_000} min; the cases after the ${partial.length} shown were not measured.`);
      return;
    }
    const result = (await page.evaluate(() => (window as unknown as { __bench: unknown }).__bench)) as {
      rows?: StepBenchRow[];
      load?: LoadBenchRow;
      unavailable?: string;
      error?: string;
    };
    if (result.rows) {
      result.rows.forEach(logRow);
      results.steps.push(...result.rows);
      if (result.load) results.loads.push(result.load);
    } else {
      results.notes.push(`${part} on ${backend}: ${result.unavailable ?? result.error}`);
    }
  } finally {
    await browser.close();
  }
}

/** Runs bench/tree.html: the studio's LayerTree rendered with MobileNetV2 and with 500 layers. */
async function benchTree(server: ViteDevServer, results: Results): Promise<void> {
  const port = (server.httpServer!.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/bench/tree.html`);
    await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, null, { timeout: 300_000, polling: 500 });
    const result = (await page.evaluate(() => (window as unknown as { __bench: unknown }).__bench)) as { rows?: TreeBenchRow[]; error?: string };
    if (result.rows) {
      for (const row of result.rows) console.log(`  tree ${row.model} (${row.layers} layers) ${row.action}: ${row.workMs.toFixed(1)} ms work, painted after ${row.paintMs.toFixed(1)} ms, ${row.itemsInDom} items in the DOM`);
      results.tree.push(...result.rows);
    } else {
      results.notes.push(`tree: ${result.error}`);
    }
  } finally {
    await browser.close();
  }
}

/** The ingest cases: files × the digits model's input and MobileNetV2's; `--ingest-cases 1000x28x28x1,…` picks others. */
const argCases = process.argv.indexOf('--ingest-cases');
const INGEST_CASES: { n: number; h: number; w: number; c: 1 | 3 }[] =
  argCases > 0
    ? process.argv[argCases + 1].split(',').map((text) => {
        const [n, h, w, c] = text.split('x').map(Number);
        return { n, h, w, c: c === 3 ? 3 : 1 };
      })
    : [
        { n: 1000, h: 28, w: 28, c: 1 },
        { n: 1000, h: 224, w: 224, c: 3 },
        { n: 10_000, h: 28, w: 28, c: 1 },
        { n: 10_000, h: 224, w: 224, c: 3 },
      ];

/** An ingest row with what Node saw of the browser's memory (resident set sizes from /proc, bytes). */
interface IngestMeasured extends IngestBenchRow {
  rendererRssBefore: number;
  rendererRssPeak: number;
  browserRssPeak: number;
}

/** Resident set size of a process in bytes (Linux /proc), or 0 when it is gone. */
function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs bench/ingest.html for one case in a fresh browser: the page generates the files, then
 * ingests them while Node samples the resident memory of this browser's processes every 200 ms
 * (their ids from CDP SystemInfo.getProcessInfo; the page and its decode workers share the renderer).
 */
async function benchIngestCase(server: ViteDevServer, c: (typeof INGEST_CASES)[number], results: Results): Promise<void> {
  const port = (server.httpServer!.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--enable-precise-memory-info', '--js-flags=--expose-gc'] });
  try {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if ((message.type() === 'error' || message.type() === 'warning') && !message.text().startsWith('Failed to load resource')) console.log(`    page ${message.type()}: ${message.text()}`);
    });
    page.on('crash', () => console.log('    the page crashed'));
    page.on('pageerror', (error) => console.log(`    page error: ${error.message}`));
    const cdp = await browser.newBrowserCDPSession();
    const processes = async () =>
      ((await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] }).processInfo;
    const sample = async () => {
      const list = await processes();
      const renderer = list.filter((p) => p.type === 'renderer').reduce((sum, p) => sum + rssOf(p.id), 0);
      const all = list.reduce((sum, p) => sum + rssOf(p.id), 0);
      return { renderer, all };
    };
    await page.goto(`http://127.0.0.1:${port}/bench/ingest.html?n=${c.n}&h=${c.h}&w=${c.w}&c=${c.c}`);
    await page.waitForFunction(() => (window as unknown as { __ready?: boolean; __bench?: unknown }).__ready || (window as unknown as { __bench?: unknown }).__bench !== undefined, null, { timeout: 600_000, polling: 500 });
    await page.evaluate(() => (globalThis as unknown as { gc?: () => void }).gc?.());
    await new Promise((r) => setTimeout(r, 500));
    const before = await sample();
    let rendererPeak = before.renderer;
    let allPeak = before.all;
    let sampling = true;
    let lastLog = Date.now();
    const sampler = (async () => {
      while (sampling) {
        if (Date.now() - lastLog > 15_000) {
          lastLog = Date.now();
          console.log(`    ${await page.locator('#out').textContent().catch(() => '?')}; renderer RSS ${mib(rendererPeak)} MiB at most so far`);
        }
        const now = await sample();
        rendererPeak = Math.max(rendererPeak, now.renderer);
        allPeak = Math.max(allPeak, now.all);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await page.evaluate(() => (window as unknown as { __go?: () => void }).__go?.());
    try {
      await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, null, { timeout: 600_000, polling: 250 });
    } finally {
      sampling = false;
      await sampler;
    }
    const result = (await page.evaluate(() => (window as unknown as { __bench: unknown }).__bench)) as { row?: IngestBenchRow; error?: string };
    if (!result.row) {
      results.notes.push(`ingest ${c.n} at ${c.h}×${c.w}×${c.c}: ${result.error}`);
      return;
    }
    const row: IngestMeasured = { ...result.row, rendererRssBefore: before.renderer, rendererRssPeak: rendererPeak, browserRssPeak: allPeak };
    console.log(`  ingest ${row.files} files at ${row.shape}: ${row.imagesPerSecond.toFixed(0)} images/s, ${row.images} added, ${row.rejected} rejected, renderer RSS ${mib(row.rendererRssBefore)} → ${mib(row.rendererRssPeak)} MiB for ${mib(row.pixelBytes)} MiB of pixels`);
    if (row.firstRejection) console.log(`    first rejection: ${row.firstRejection}`);
    results.ingest.push(row);
  } finally {
    await browser.close();
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: bytes < 10 * 2 ** 20 ? 1 : 0 });
}

async function benchBrowser(results: Results): Promise<void> {
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { port: 0, host: '127.0.0.1' } });
  await server.listen();
  try {
    if (PARTS.includes('tree')) {
      console.log('layer tree (headless Chromium)…');
      await benchTree(server, results);
    }
    if (PARTS.includes('ingest')) {
      for (const c of INGEST_CASES) {
        console.log(`ingest ${c.n.toLocaleString('en-US')} files at ${c.h}×${c.w}×${c.c} (headless Chromium)…`);
        await benchIngestCase(server, c, results);
      }
    }
    for (const { backend, args } of BROWSER_BACKENDS) {
      for (const part of PARTS) {
        if (PAGE_PARTS.includes(part)) continue;
        console.log(`${part} on ${backend} (headless Chromium)…`);
        await benchPage(server, backend, args, part as Exclude<Part, 'tree' | 'ingest'>, results);
      }
    }
  } finally {
    await server.close();
  }
}

function fmt(ms: number | null): string {
  return ms === null ? '–' : ms.toLocaleString('en-US', { maximumFractionDigits: ms < 100 ? 2 : 0 });
}

function stepTable(rows: StepBenchRow[]): string {
  const lines = [
    '| backend | freeze plan | trainable params | ms / step (median) | steps timed | full ÷ this | first step (ms) |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const full = rows.find((r) => r.backend === row.backend && r.plan.startsWith('full'));
    const ratio = full?.msPerStep && row.msPerStep ? `${(full.msPerStep / row.msPerStep).toFixed(2)}×` : '–';
    const ms = row.msPerStep === null ? `skipped: ${row.skipped ?? 'no step timed'}` : fmt(row.msPerStep);
    lines.push(`| ${row.backend} | ${row.plan} | ${row.trainableParams.toLocaleString('en-US')} | ${ms} | ${row.steps} | ${ratio} | ${fmt(row.firstStepMs)} |`);
  }
  return lines.join('\n');
}

function loadTable(rows: LoadBenchRow[]): string {
  const lines = ['| backend | ms per load (median) | loads | bytes (model.json + weights.bin) |', '|---|---:|---:|---:|'];
  for (const row of rows) lines.push(`| ${row.backend} | ${fmt(row.msPerLoad)} | ${row.repeats} | ${row.bytes.toLocaleString('en-US')} |`);
  return lines.join('\n');
}

function ingestTable(rows: IngestMeasured[]): string {
  const lines = [
    '| files (4000×3000 among them) | their bytes (MiB) | input | decode workers | images added | seconds | images / s | uint8 pixels (MiB) | renderer RSS before → peak (MiB) | growth (MiB) | overhead beyond the pixels (MiB) | JS heap before → peak (MiB) |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const growth = r.rendererRssPeak - r.rendererRssBefore;
    lines.push(
      `| ${r.files.toLocaleString('en-US')} (${r.bigFiles}) | ${mib(r.fileBytes)} | ${r.shape} | ${r.workers} | ${r.images.toLocaleString('en-US')} | ${r.seconds.toFixed(1)} | ${r.imagesPerSecond.toFixed(0)} | ${mib(r.pixelBytes)} | ${mib(r.rendererRssBefore)} → ${mib(r.rendererRssPeak)} | ${mib(growth)} | ${mib(growth - r.pixelBytes)} | ${mib(r.heapBefore)} → ${mib(r.heapPeak)} |`,
    );
  }
  return lines.join('\n');
}

function treeTable(rows: TreeBenchRow[]): string {
  const lines = ['| model | layers | action | render + commit (ms) | painted after (ms) | repeats | tree items in the DOM |', '|---|---:|---|---:|---:|---:|---:|'];
  for (const row of rows) {
    lines.push(`| ${row.model} | ${row.layers.toLocaleString('en-US')} | ${row.action} | ${fmt(row.workMs)} | ${fmt(row.paintMs)} | ${row.repeats} | ${row.itemsInDom} |`);
  }
  return lines.join('\n');
}

const results: Results = { steps: [], loads: [], tree: [], ingest: [], notes: [] };
const started = performance.now();
if (PARTS.some((p) => !PAGE_PARTS.includes(p))) {
  console.log('cpu (Node)…');
  await benchCpu(results);
}
await benchBrowser(results);
const minutes = ((performance.now() - started) / 60_000).toFixed(0);

const digits = results.steps.filter((r) => r.model === 'digits');
const mobile = results.steps.filter((r) => r.model === MOBILENET_V2_BENCH.modelName);
const b = MOBILENET_V2_BENCH;
const mobileCut = mobile[0]?.cutLayer ?? '–';
const sections: string[] = [];
if (PARTS.includes('digits')) {
  sections.push(`## Built-in digits model

Training step of the built-in model with the studio's head (cut at \`${digits[0]?.cutLayer ?? '–'}\`), batch 32, 28×28×1, ${STEPS} timed steps after 2 untimed ones.

${stepTable(digits)}`);
}
if (PARTS.includes('mobilenetv2')) {
  sections.push(`## Built-in MobileNetV2 (from nsfwjs)

Load: \`loadLayersModelFromFileSet\` on model.json + weights.bin already in memory (parse, dequantize the uint8 weights, build the 162 layers; on webgpu/webgl the weights are uploaded when first used), median of ${b.loadRepeats}.

${loadTable(results.loads)}

Training step: the studio's head (softmax Dense, ${b.numClasses} classes) at the default cut \`${mobileCut}\`, batch ${b.batchSize} of synthetic 224×224×3 images (seeded random pixels: a step costs the same whatever they show), ${b.steps} timed steps after ${b.warmup} untimed one. "Last two blocks" trains \`block_15_*\`, \`block_16_*\`, \`Conv_1\`, \`Conv_1_bn\` (\`out_relu\` has no weights) and the head. A case stops after one step slower than ${b.maxStepMs / 1000} s (${(3 * b.maxStepMs) / 1000} s for the first step, which compiles the kernels) and is reported as skipped. "First step" is the untimed one.

${stepTable(mobile)}`);
}
if (PARTS.includes('tree')) {
  sections.push(`## Layer tree render time

The studio's own \`LayerTree\` (app styles and store) in headless Chromium, 1440×900: each time runs from the action (a model arriving in the store, a click, a store update, a scroll): React's synchronous render and commit, and until the second animation frame after it, i.e. painted (frames are about 16.7 ms apart, so this column moves in frame steps). Medians of ${results.tree[0]?.repeats ?? '–'}. The synthetic model is 100 blocks of 5 layers plus a flatten; only the rows in view (plus a margin) are in the DOM.

${treeTable(results.tree)}`);
}
if (PARTS.includes('ingest')) {
  sections.push(`## Dataset ingest rate and memory

The studio's own ingest path in headless Chromium: \`ingestFiles\` (sniff, header size check, SHA-256, class layout) with the decode pool's workers (\`createImageBitmap\` + \`OffscreenCanvas\`, resized to the model's input, uint8 pixels transferred back). The files are generated in the page (JPEG of 320×240 to 1600×1200 and small PNGs, from 48 drawn templates; one file in 500 a 4000×3000 JPEG; each file made distinct by a comment so none is a duplicate). They are kept small because generated Blobs live in Chromium's in-memory blob storage (about 500 MiB in a fresh profile, past which reads fail: the ingest then names them as unreadable and goes on); files a user drops are read from disk. Memory: the resident set of the browser's renderer processes (the page and its workers), from /proc every 200 ms, before the ingest (after a GC, the files already generated) and at its peak; "overhead" is the growth beyond the uint8 pixels the images need (N × H × W × C). The JS heap column is \`performance.memory.usedJSHeapSize\` (with --enable-precise-memory-info) of the page alone; it grows with the pixel buffers the page holds.

${ingestTable(results.ingest)}`);
}
const notes = results.notes.map((n) => `\nNote: ${n}`).join('');
const text = sections.join('\n\n');
console.log(`\n${text}\n${notes}`);

const markdown = `# Benchmark results

Produced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} in ${minutes} min: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, no GPU. WebGPU and WebGL run in headless Chromium on SwiftShader (software), cpu in Node 20 with plain \`@tensorflow/tfjs\`.

Each step row times the studio's own training loop (\`src/engine/trainer.ts\`, one \`await loss.data()\` per step) on a freshly loaded model with the studio's head, built, guarded and frozen by the engine's own functions (\`buildTransferModel\`, \`guardFrozenLayers\`, \`applyFreezePlan\`). "Full ÷ this" is how many times cheaper a step is than full fine-tuning on the same backend: frozen layers run no backward pass and frozen BatchNorm runs in inference mode. Medians of few steps on a shared 2-core machine: read the ratios, not the third digit.

${text}
${notes}
`;
if (PARTS.length === ALL_PARTS.length) {
  writeFileSync(join(ROOT, 'bench/results.md'), markdown);
  console.log('\nwrote bench/results.md');
} else {
  console.log('\n(one part only: bench/results.md left as it was)');
}
process.exit(0);
