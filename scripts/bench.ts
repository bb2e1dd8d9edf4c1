/**
 * `npm run bench`: milliseconds per training step under different freeze
 * plans, on every backend that works here — cpu in Node, webgpu and webgl in
 * headless Chromium — for the built-in digits model (full fine-tune vs head
 * only) and for the built-in MobileNetV2 (its load time, then full fine-tune,
 * head only and the last two blocks), and the layer tree's render times
 * (MobileNetV2 and 500 layers, in Chromium), and the dataset ingest rate and memory
 * (1,000 and 10,000 generated images, in Chromium), and the three figures of
 * issue #5 (head_cached_speedup, frozen_prefix_speedup, studio_overhead: see
 * bench/quickBench.ts; WebGL in Chromium). Writes bench/results.md and
 * bench/results.json (the three figures, their raw numbers and targets).
 * Ratios are compared within one run (shared machines are noisy); the
 * figures' targets are reported as pass/fail, nothing fails the command.
 *
 * Options: --quick (the three figures only, under 5 minutes on 2 cores: writes
 * bench/results.json, prints the table and the results.md section, leaves
 * bench/results.md alone); --steps N (timed steps per digits configuration,
 * default 8); --only digits|mobilenetv2|tree|ingest|figures|cpu|storage (one part; prints
 * the tables, leaves bench/results.md alone; figures also writes results.json);
 * --figures head,overhead,prefix picks some of the figures; --overhead-repeats N
 * sets studio_overhead's timed pairs of runs (default 7);
 * --ingest-cases 1000x28x28x1,… (files × H × W × C) replaces the ingest cases.
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
import type { FrozenPrefixResult, HeadCacheResult, OverheadResult } from '../bench/quickBench';
import { cpuJson, cpuMarkdown, runCpuPage, runTorchBench, type StudioCpu, type TorchResult } from './benchCpu';
import { benchGpu } from './benchGpu';
import { benchStorage, storageMarkdown, type StorageMeasured } from './benchStorage';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argSteps = process.argv.indexOf('--steps');
const STEPS = argSteps > 0 ? Number(process.argv[argSteps + 1]) : 8;
const argOnly = process.argv.indexOf('--only');
const QUICK = process.argv.includes('--quick');
const GPU = process.argv.includes('--gpu');
type Part = 'digits' | 'mobilenetv2' | 'tree' | 'ingest' | 'figures' | 'cpu' | 'storage';
const ALL_PARTS: Part[] = ['digits', 'mobilenetv2', 'tree', 'ingest', 'figures', 'cpu', 'storage'];
/** Parts measured only in the browser, by a page of their own. */
const PAGE_PARTS = ['tree', 'ingest', 'figures', 'cpu', 'storage'] as const satisfies readonly Part[];
/** The parts that run in a page of their own, not per backend. */
type PagePart = (typeof PAGE_PARTS)[number];
const PARTS: Part[] = GPU ? [] : QUICK ? ['figures', 'cpu', 'storage'] : argOnly > 0 ? [process.argv[argOnly + 1] as Part] : ALL_PARTS;
for (const part of PARTS) {
  if (!ALL_PARTS.includes(part)) throw new Error(`--only '${part}' is not a part of the bench; use --only ${ALL_PARTS.join(', --only ')}.`);
}

/** How long one browser page may run before its finished rows are taken and the rest reported as timed out. */
const PAGE_TIMEOUT_MS: Record<Exclude<Part, PagePart>, number> = { digits: 600_000, mobilenetv2: 1_800_000 };

/** Browser flags per backend: SwiftShader stands in for a GPU on machines without one. */
const BROWSER_BACKENDS: { backend: 'webgpu' | 'webgl' | 'wasm'; args: string[] }[] = [
  { backend: 'webgpu', args: ['--enable-unsafe-webgpu'] },
  { backend: 'webgl', args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'] },
  // WebAssembly (XNNPACK, SIMD, threads: the dev server's COOP/COEP make the page cross-origin isolated).
  { backend: 'wasm', args: [] },
];

interface Results {
  steps: StepBenchRow[];
  loads: LoadBenchRow[];
  tree: TreeBenchRow[];
  ingest: IngestMeasured[];
  storage: StorageMeasured | null;
  figures: FiguresMeasured | null;
  cpu: { studio: StudioCpu; torch: TorchResult } | null;
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
    results.steps.push(
      ...(await benchFreezePlans(loadBuiltInModelFromDisk, data, data.classNames.length, {
        modelName: 'digits',
        steps: STEPS,
        warmup: 2,
        batchSize: 32,
        onRow: logRow,
      })),
    );
  }
  if (PARTS.includes('mobilenetv2')) {
    const { load, rows } = await benchMobileNetV2(readMobileNetV2FilesFromDisk(), logRow);
    console.log(`  MobileNetV2 cpu load: ${load.msPerLoad.toFixed(0)} ms`);
    results.loads.push(load);
    results.steps.push(...rows);
  }
}

/** Runs bench/index.html for one model on one backend in a fresh browser, collecting what it measured. */
async function benchPage(server: ViteDevServer, backend: string, args: string[], part: Exclude<Part, PagePart>, results: Results): Promise<void> {
  const port = (server.httpServer!.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/bench/index.html?backend=${backend}&model=${part}&steps=${STEPS}`);
    try {
      await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, null, {
        timeout: PAGE_TIMEOUT_MS[part],
        polling: 1000,
      });
    } catch {
      const partial = (await page.evaluate(() => (window as unknown as { __benchRows: unknown }).__benchRows)) as StepBenchRow[];
      partial.forEach(logRow);
      results.steps.push(...partial);
      results.notes.push(
        `${part} on ${backend}: stopped waiting after ${PAGE_TIMEOUT_MS[part] / 60_000} min; the cases after the ${partial.length} shown were not measured.`,
      );
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
      for (const row of result.rows)
        console.log(
          `  tree ${row.model} (${row.layers} layers) ${row.action}: ${row.workMs.toFixed(1)} ms work, painted after ${row.paintMs.toFixed(1)} ms, ${row.itemsInDom} items in the DOM`,
        );
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
      if ((message.type() === 'error' || message.type() === 'warning') && !message.text().startsWith('Failed to load resource'))
        console.log(`    page ${message.type()}: ${message.text()}`);
    });
    page.on('crash', () => console.log('    the page crashed'));
    page.on('pageerror', (error) => console.log(`    page error: ${error.message}`));
    const cdp = await browser.newBrowserCDPSession();
    const processes = async () => ((await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] }).processInfo;
    const sample = async () => {
      const list = await processes();
      const renderer = list.filter((p) => p.type === 'renderer').reduce((sum, p) => sum + rssOf(p.id), 0);
      const all = list.reduce((sum, p) => sum + rssOf(p.id), 0);
      return { renderer, all };
    };
    await page.goto(`http://127.0.0.1:${port}/bench/ingest.html?n=${c.n}&h=${c.h}&w=${c.w}&c=${c.c}`);
    await page.waitForFunction(
      () => (window as unknown as { __ready?: boolean; __bench?: unknown }).__ready || (window as unknown as { __bench?: unknown }).__bench !== undefined,
      null,
      { timeout: 600_000, polling: 500 },
    );
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
          console.log(
            `    ${await page
              .locator('#out')
              .textContent()
              .catch(() => '?')}; renderer RSS ${mib(rendererPeak)} MiB at most so far`,
          );
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
    console.log(
      `  ingest ${row.files} files at ${row.shape}: ${row.imagesPerSecond.toFixed(0)} images/s, ${row.images} added, ${row.rejected} rejected, renderer RSS ${mib(row.rendererRssBefore)} → ${mib(row.rendererRssPeak)} MiB for ${mib(row.pixelBytes)} MiB of pixels`,
    );
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
  // No file watching and no HMR: an edit to a source file during a run (others work in this tree) would reload the page and start its bench over.
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { port: 0, host: '127.0.0.1', watch: null, hmr: false } });
  await server.listen();
  try {
    if (PARTS.includes('tree')) {
      console.log('layer tree (headless Chromium)…');
      await benchTree(server, results);
    }
    if (PARTS.includes('figures')) {
      console.log(`the three figures of #5 on ${FIGURES_BACKEND.backend} (headless Chromium)…`);
      await benchFigures(server, results);
    }
    if (PARTS.includes('cpu')) {
      console.log('issue 15: PyTorch (bench/torch_bench.py, all cores)…');
      const torch = await runTorchBench(QUICK ? ['--repeats', '2'] : ['--repeats', '3']);
      if (torch.error) results.notes.push(`cpu: ${torch.error}`);
      console.log('issue 15: the studio on wasm (headless Chromium, cross-origin isolated)…');
      const port = (server.httpServer!.address() as { port: number }).port;
      const studio = await runCpuPage(port, {
        backend: 'wasm',
        steps: QUICK ? '2' : '3',
        repeats: QUICK ? '3' : '5',
        memory: '8,32',
        cacheImages: QUICK ? '250' : '1000',
      });
      results.cpu = { studio, torch };
      if (!QUICK) {
        // Memory on WebGL too (SwiftShader here: one step takes minutes, so batch 8 only and in the full run only).
        console.log('issue 15: memory of a full fine-tuning step on webgl, batch 8…');
        const webgl = await runCpuPage(port, { backend: 'webgl', parts: 'memory', memory: '8' }, BROWSER_BACKENDS[1].args);
        studio.result?.memory.push(...(webgl.result?.memory ?? []));
        if (webgl.error) results.notes.push(`cpu: webgl memory: ${webgl.error}`);
      }
    }
    if (PARTS.includes('storage')) {
      // Issue 13: a project of 1,000 (quick) or 1,000 and 10,000 images saved, reopened, and grown by 100.
      results.storage = await benchStorage((server.httpServer!.address() as { port: number }).port, QUICK ? [1000] : [1000, 10_000]);
    }
    if (PARTS.includes('ingest')) {
      for (const c of INGEST_CASES) {
        console.log(`ingest ${c.n.toLocaleString('en-US')} files at ${c.h}×${c.w}×${c.c} (headless Chromium)…`);
        await benchIngestCase(server, c, results);
      }
    }
    for (const { backend, args } of BROWSER_BACKENDS) {
      for (const part of PARTS) {
        if ((PAGE_PARTS as readonly Part[]).includes(part)) continue;
        console.log(`${part} on ${backend} (headless Chromium)…`);
        await benchPage(server, backend, args, part as Exclude<Part, PagePart>, results);
      }
    }
  } finally {
    await server.close();
  }
}

const argFiguresBackend = process.argv.indexOf('--figures-backend');
/**
 * The backend of the three figures: wasm (threaded, cross-origin isolated), the fastest one here for MobileNetV2 since
 * issue 15 (see the step tables); `--figures-backend webgl` measures them on WebGL (SwiftShader) as before.
 */
const FIGURES_BACKEND = BROWSER_BACKENDS.find((b) => b.backend === (argFiguresBackend > 0 ? process.argv[argFiguresBackend + 1] : 'wasm'))!;
const onSoftware = (backend: string) => (backend === 'wasm' ? ' (WebAssembly on the CPU, threaded)' : ' on SwiftShader (software rendering on the CPU)');
const argFigures = process.argv.indexOf('--figures');
/** Which of the figures to measure: head, overhead, prefix (all by default). */
const FIGURES_PARTS = argFigures > 0 ? process.argv[argFigures + 1] : 'head,overhead,prefix';
const argRepeats = process.argv.indexOf('--overhead-repeats');
/** Timed pairs of runs for studio_overhead (default QUICK_BENCH.overhead.repeats). */
const OVERHEAD_REPEATS = argRepeats > 0 ? process.argv[argRepeats + 1] : null;
/** How long the figures' page may run before what it measured so far is taken (the quick mode must end within 5 minutes). */
const FIGURES_TIMEOUT_MS = argRepeats > 0 ? 590_000 : 260_000;

/** What bench/quick.html measured, and how long it took. */
interface FiguresMeasured {
  backend: string;
  browser: string;
  seconds: number;
  head?: HeadCacheResult;
  overhead?: OverheadResult;
  prefix?: FrozenPrefixResult;
  errors: string[];
}

/** Runs bench/quick.html on WebGL in a fresh browser, printing its progress lines. */
async function benchFigures(server: ViteDevServer, results: Results): Promise<void> {
  const port = (server.httpServer!.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...FIGURES_BACKEND.args] });
  const started = performance.now();
  try {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (message.text().startsWith('[quick] ')) console.log(`  ${message.text().slice(8)}`);
    });
    page.on('pageerror', (error) => console.log(`  page error: ${error.message}`));
    const query = new URLSearchParams({ backend: FIGURES_BACKEND.backend, parts: FIGURES_PARTS });
    if (OVERHEAD_REPEATS) query.set('overheadRepeats', OVERHEAD_REPEATS);
    await page.goto(`http://127.0.0.1:${port}/bench/quick.html?${query}`);
    let finished = true;
    try {
      await page.waitForFunction(() => (window as unknown as { __quickDone?: boolean }).__quickDone === true, null, {
        timeout: FIGURES_TIMEOUT_MS,
        polling: 1000,
      });
    } catch {
      finished = false;
    }
    const measured = (await page.evaluate(() => (window as unknown as { __quick: unknown }).__quick)) as Omit<FiguresMeasured, 'browser' | 'seconds'>;
    if (!finished) measured.errors.push(`stopped waiting after ${FIGURES_TIMEOUT_MS / 1000} s; the parts not listed were not measured`);
    results.figures = {
      ...measured,
      backend: measured.backend ?? FIGURES_BACKEND.backend,
      browser: `Chromium ${browser.version()}`,
      seconds: (performance.now() - started) / 1000,
    };
    for (const error of measured.errors) results.notes.push(`figures: ${error}`);
  } finally {
    await browser.close();
  }
}

/** The targets of issue #5: at least (≥) or at most (≤) this value. */
const FIGURE_TARGETS = {
  head_cached_speedup: { at: 'least', value: 20 },
  frozen_prefix_speedup: { at: 'least', value: 2 },
  studio_overhead: { at: 'most', value: 1.05 },
} as const;
type FigureName = keyof typeof FIGURE_TARGETS;

function figureValues(f: FiguresMeasured): Record<FigureName, number | null> {
  return {
    head_cached_speedup: f.head?.speedup ?? null,
    frozen_prefix_speedup: f.prefix?.speedup ?? null,
    studio_overhead: f.overhead?.overhead ?? null,
  };
}

function passes(name: FigureName, value: number | null): boolean | null {
  if (value === null) return null;
  const t = FIGURE_TARGETS[name];
  return t.at === 'least' ? value >= t.value : value <= t.value;
}

/** bench/results.json: the three figures, pass/fail against their targets, and every raw number beside them. */
function figuresJson(f: FiguresMeasured): unknown {
  const values = figureValues(f);
  return {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : PARTS.length === ALL_PARTS.length ? 'full' : 'only figures',
    seconds: Math.round(f.seconds),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), gpu: 'none' },
    backend: f.backend,
    backendDetail: `${f.backend} in headless ${f.browser}${onSoftware(f.backend)}`,
    model: 'MobileNetV2 (built-in, from nsfwjs), studio head at the default cut, 2 classes, synthetic 224×224×3 images',
    ...values,
    targets: Object.fromEntries(
      (Object.keys(FIGURE_TARGETS) as FigureName[]).map((name) => [
        name,
        { target: `${FIGURE_TARGETS[name].at === 'least' ? '>=' : '<='} ${FIGURE_TARGETS[name].value}`, value: values[name], pass: passes(name, values[name]) },
      ]),
    ),
    raw: { head_cached_speedup: f.head ?? null, frozen_prefix_speedup: f.prefix ?? null, studio_overhead: f.overhead ?? null },
    errors: f.errors,
  };
}

function ratio(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${value.toFixed(value < 10 ? 2 : 1)}×`;
}

/** The three figures as a Markdown table (printed, and results.md's section). */
function figuresTable(f: FiguresMeasured): string {
  const values = figureValues(f);
  const verdict = (name: FigureName) => {
    const pass = passes(name, values[name]);
    return pass === null ? 'not measured' : pass ? 'pass' : '**miss**';
  };
  const target = (name: FigureName) => `${FIGURE_TARGETS[name].at === 'least' ? '≥' : '≤'} ${FIGURE_TARGETS[name].value}`;
  const h = f.head;
  const p = f.prefix;
  const o = f.overhead;
  return [
    '| figure | value | target | verdict | what was timed (ms) |',
    '|---|---:|---:|---|---|',
    `| head_cached_speedup | ${ratio(values.head_cached_speedup)} | ${target('head_cached_speedup')} | ${verdict('head_cached_speedup')} | ${h ? `epoch of ${h.images} images, batch ${h.batchSize}: ${fmt(h.uncachedEpochMs)} through the whole model ÷ ${fmt(h.cachedEpochMs)} on cached features (one measured epoch each, not extrapolated; cache build ${fmt(h.cacheBuildMs)} once, before both, not in either epoch)` : '–'} |`,
    `| frozen_prefix_speedup | ${ratio(values.frozen_prefix_speedup)} | ${target('frozen_prefix_speedup')} | ${verdict('frozen_prefix_speedup')} | ${p ? `step of batch ${p.batchSize}: ${fmt(p.fullMsPerStep)} full fine-tune ÷ ${fmt(p.halfFrozenMsPerStep)} with the first ${p.frozenBlocks.length} of ${p.blocks} blocks frozen (median of ${p.steps} steps each, after 1 untimed)` : '–'} |`,
    `| studio_overhead | ${values.studio_overhead === null ? '–' : values.studio_overhead.toFixed(3)} | ${target('studio_overhead')} | ${verdict('studio_overhead')} | ${o ? `steady step (a run's second) of batch ${o.batchSize}, ${o.plan}: ${fmt(o.studioMedianMsPerStep)} in the worker's handler vs ${fmt(o.bareMedianMsPerStep)} in a bare loop (medians of ${o.repeats} runs each side, interleaved); the figure is the median of the ${o.repeats} back-to-back pairs' ratios, ${o.pairRatios.map((r) => r.toFixed(2)).join(', ')}. A run's first step: ${fmt(o.studioMedianFirstStepMs)} vs ${fmt(o.bareMedianFirstStepMs)}; the handler's whole ${o.stepsPerRun}-step run (setup, weight snapshots, both steps): ${fmt(o.studioMedianRunMs)}` : '–'} |`,
  ].join('\n');
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
  const lines = [
    '| model | layers | action | render + commit (ms) | painted after (ms) | repeats | tree items in the DOM |',
    '|---|---:|---|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.model} | ${row.layers.toLocaleString('en-US')} | ${row.action} | ${fmt(row.workMs)} | ${fmt(row.paintMs)} | ${row.repeats} | ${row.itemsInDom} |`,
    );
  }
  return lines.join('\n');
}

const results: Results = { steps: [], loads: [], tree: [], ingest: [], figures: null, cpu: null, storage: null, notes: [] };
if (GPU) {
  await benchGpu(ROOT);
  process.exit(0);
}
const started = performance.now();
if (PARTS.some((p) => !(PAGE_PARTS as readonly Part[]).includes(p))) {
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
if (PARTS.includes('figures')) {
  const f = results.figures;
  if (f) {
    const h = f.head;
    const o = f.overhead;
    sections.push(`## Issue #5's three figures (feature cache, frozen prefix, studio overhead)

Measured by \`${QUICK ? 'npm run bench -- --quick' : PARTS.length === ALL_PARTS.length ? 'npm run bench' : 'npm run bench -- --only figures'}\` (${Math.round(f.seconds)} s for this part) on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, no GPU: backend **${f.backend}** in headless ${f.browser}${onSoftware(f.backend)}, the fastest backend here for MobileNetV2 training (see the MobileNetV2 step table). Model: the built-in MobileNetV2 with the studio's head (softmax Dense, 2 classes) at the default cut \`${h?.cutLayer ?? 'flatten_1'}\`, synthetic 224×224×3 images. Every number comes from the studio's own code (bench/quickBench.ts); bench/results.json holds them all with the targets' pass/fail.

${figuresTable(f)}

- **head_cached_speedup**: how many times faster an epoch of "train head only" is with the feature cache. Without it (\`trainModel\`), every step runs all of MobileNetV2 forward; with it (\`buildFeatures\` once, then \`trainHeadOnFeatures\`), a step is the pooling + Dense head on stored ${h ? `${h.featureShape.join('×')}-value` : 'cut'} activations. Both epochs are the trainer's own \`millis\` of one epoch. The cache build (one forward pass per image) is paid once per dataset and cut, so the first epoch costs about the build plus one cached epoch; every later epoch, and every later run on the same images, costs the cached epoch alone.
- **frozen_prefix_speedup**: how many times faster a training step is with the first half of the preset blocks (\`presetBlocks\`: ${f.prefix ? f.prefix.frozenBlocks.join(', ') : '–'}) frozen than with nothing frozen: frozen layers run no backward pass and their BatchNorm runs in inference mode. Timed by stepBench (\`trainModel\`, one step between two \`onBatch\` calls).
- **studio_overhead**: the studio's time per step on its worker path divided by a bare tfjs loop's (above 1 = the studio is slower). The studio side is the worker's message handler (\`createStudioWorker\`, a \`train\` message; only \`postMessage\` itself is replaced by a function that records the replies and stamps them, batch posts not coalesced), its step timed between the posts of the run's first and second batch (so the yield between steps is in it); the bare side is \`optimizer.minimize\` over \`model.apply(x, {training: true})\` with the same trainable variables on a second copy of the model (same head, guard and plan), batches made as tensors before the clock starts, one \`await loss.data()\` per step, timed between the first and second. The figure compares that steady step; a run's first step also pays one-off costs (a fresh optimizer on both sides; in the studio also the pretrained weights it restores at the start of every run, which the backend uploads when they are first used), reported beside it. Same backend, plan and batch; a fresh Adam per run on both sides; one untimed run each, then ${o?.repeats ?? '–'} timed pairs of runs (studio and bare back to back, the order alternating); the figure is the median of the pairs' ratios, so a slow spell of the shared machine hits both sides of a pair alike.`);
  } else {
    results.notes.push('figures: nothing was measured');
  }
}
if (PARTS.includes('cpu') && results.cpu) {
  sections.push(`## Issue 15: the studio against PyTorch on this CPU

Measured by \`${QUICK ? 'npm run bench -- --quick' : 'npm run bench'}\` (${Math.round(results.cpu.studio.seconds)} s for the studio's page) on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, no GPU. MobileNetV2 at 224×224 through the studio's own code (bench/cpuBench.ts: the loader, the head at the default cut, the guard, \`trainModel\`, \`buildFeatures\`), synthetic images; PyTorch by bench/torch_bench.py on all cores in the same run, just before the studio's page. Steps: medians after one untimed step. Memory: one full fine-tuning step under \`tf.profile\` (peak tensor bytes; on WebGL/WebGPU that is GPU memory), the wasm heap after it (WebAssembly memory only grows), and the renderer processes' resident memory sampled every 200 ms.

${cpuMarkdown(results.cpu.studio, results.cpu.torch)}`);
}
if (PARTS.includes('storage') && results.storage) {
  sections.push(`## Issue 13: projects in the browser (IndexedDB)

The studio's own project store (app/projectStore.ts: parts by SHA-256, manifest last in one transaction) in headless Chromium, a fresh origin per size, distinct generated 224×224×3 JPEG/PNG files (bench/storage.html). "Reopen" reads the manifest and every part back; opening a project in the studio then decodes the images again at the model's input through the ingest (see the ingest table for its rate). "Add 100" saves again after 100 more images: it should write about those 100 files' bytes, not the whole project. OPFS: the same files written and read from the main thread, for the IndexedDB-or-OPFS choice (docs/ARCHITECTURE.md).

${storageMarkdown(results.storage)}`);
}
if (results.figures || results.cpu) {
  const base = results.figures
    ? figuresJson(results.figures)
    : {
        date: new Date().toISOString(),
        mode: QUICK ? 'quick' : 'only cpu',
        machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', gpu: 'none' },
      };
  const json = {
    ...(base as object),
    ...(results.cpu ? { cpu: cpuJson(results.cpu.studio, results.cpu.torch) } : {}),
    ...(results.storage ? { storage: results.storage.rows } : {}),
  };
  writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(json, null, 2)}\n`);
}
const notes = results.notes.map((n) => `\nNote: ${n}`).join('');
const text = sections.join('\n\n');
console.log(`\n${text}\n${notes}`);

const markdown = `# Benchmark results

Produced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} in ${minutes} min: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, no GPU. WebGPU and WebGL run in headless Chromium on SwiftShader (software), wasm in headless Chromium (threaded: the bench's dev server sends COOP/COEP), cpu in Node 20 with plain \`@tensorflow/tfjs\`.

Each step row times the studio's own training loop (\`src/engine/trainer.ts\`, one \`await loss.data()\` per step) on a freshly loaded model with the studio's head, built, guarded and frozen by the engine's own functions (\`buildTransferModel\`, \`guardFrozenLayers\`, \`applyFreezePlan\`). "Full ÷ this" is how many times cheaper a step is than full fine-tuning on the same backend: frozen layers run no backward pass and frozen BatchNorm runs in inference mode. Medians of few steps on a shared 2-core machine: read the ratios, not the third digit.

${text}
${notes}
`;
/** The sections other scripts write (the --gpu run, scripts/benchGpu.ts; npm run bench:cost's table): every run here keeps them. */
const gpuSection = () =>
  [...readFileSync(join(ROOT, 'bench/results.md'), 'utf8').matchAll(/\n## (?:GPU: |Cost of a training step)[\s\S]*?(?=\n## |$)/g)].map((m) => m[0]).join('');
if (PARTS.length === ALL_PARTS.length) {
  writeFileSync(join(ROOT, 'bench/results.md'), `${markdown}${gpuSection()}`);
  console.log('\nwrote bench/results.md');
} else if (QUICK) {
  // The quick run rewrites its own sections (from the figures on) and keeps the full run's tables above them.
  const old = readFileSync(join(ROOT, 'bench/results.md'), 'utf8');
  const cut = old.search(/^## Issue #5's three figures/m);
  const gpu = gpuSection();
  writeFileSync(join(ROOT, 'bench/results.md'), `${cut >= 0 ? old.slice(0, cut) : old}${text}\n${notes}\n${gpu}`);
  console.log('\nwrote the quick sections of bench/results.md (the tables above them are from the last full run)');
} else {
  console.log('\n(one part only: bench/results.md left as it was)');
}
if (results.figures) console.log(`\n${figuresTable(results.figures)}`);
if (results.cpu) console.log(`\n${cpuMarkdown(results.cpu.studio, results.cpu.torch)}`);
if (results.figures || results.cpu) console.log('\nwrote bench/results.json');
process.exit(0);
