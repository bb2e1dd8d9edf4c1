/**
 * The bench's 'cpu' part (issue 15) from Node: the studio's side in headless
 * Chromium (bench/cpu.html: wasm, threaded — the dev server sends COOP/COEP),
 * the PyTorch side by bench/torch_bench.py (all cores), their ratios against
 * the issue's targets, and the renderer's resident memory during the memory
 * steps. Also `--gpu`: the WebGPU step at batch 32 and PyTorch on CUDA, each
 * saying so when this machine has no GPU.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../playwright.config';
import type { CpuBenchResult, CpuPlan } from '../bench/cpuBench';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';

/** What bench/torch_bench.py printed (one device's figures per network). */
export interface TorchFigures {
  network: string;
  device: string;
  forward?: { batch: number; msPerImage: number; imagesPerSecond: number };
  steps: Record<string, { batch: number; msPerStep: number; imagesPerSecond: number; trainableParams: number }>;
}
export interface TorchResult {
  torch?: string;
  threads?: number;
  /** Which BLAS torch calls ('generic' = Debian's reference BLAS) and a 1024² matmul's GFLOP/s (convolutions go through oneDNN). */
  blas?: { info: string; matmulGflops: number };
  cpu?: TorchFigures;
  bundle?: TorchFigures;
  cuda?: (TorchFigures & { name: string }) | { unavailable: string };
  error?: string;
}

/** Runs bench/torch_bench.py; a missing interpreter or torch is a result with the error, not a throw. */
export async function runTorchBench(args: string[]): Promise<TorchResult> {
  try {
    const { stdout } = await promisify(execFile)(PYTHON, [join(ROOT, 'bench/torch_bench.py'), ...args], { maxBuffer: 1 << 20, timeout: 900_000 });
    return JSON.parse(stdout.trim().split('\n').pop()!) as TorchResult;
  } catch (error) {
    return {
      error: `${PYTHON} bench/torch_bench.py failed: ${String((error as Error).message)
        .split('\n')
        .slice(0, 4)
        .join(' ')}`,
    };
  }
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

/** The studio's side, with the renderer's peak resident memory during each memory step (bytes, by batch). */
export interface StudioCpu {
  result: CpuBenchResult | null;
  error?: string;
  browser: string;
  rendererPeakBytes: Record<number, number>;
  seconds: number;
  /** The machine's load average when the page finished (both results.json and results.md print this one). */
  loadAverage: number[];
}

/** Runs bench/cpu.html with `query` in a fresh Chromium (extra `args`), sampling renderer memory every 200 ms. */
export async function runCpuPage(port: number, query: Record<string, string>, args: string[] = [], timeoutMs = 900_000): Promise<StudioCpu> {
  const started = performance.now();
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args] });
  try {
    const page = await browser.newPage();
    let phase: number | null = null;
    page.on('console', (m) => {
      const text = m.text();
      if (text.startsWith('[cpu] ')) console.log(`  ${text.slice(6)}`);
      if (text.startsWith('[cpu-phase] ')) phase = text.endsWith('-') ? null : Number(text.slice(12));
    });
    page.on('pageerror', (e) => console.log(`  page error: ${e.message}`));
    const cdp = await browser.newBrowserCDPSession();
    const renderers = async () =>
      ((await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] }).processInfo.filter((p) => p.type === 'renderer');
    const peaks: Record<number, number> = {};
    let done = false;
    const sampler = (async () => {
      while (!done) {
        // The process list from the browser process (answers while the page computes); the memory from /proc.
        const now = phase;
        if (now !== null) {
          const rss = (await renderers()).reduce((sum, p) => sum + rssOf(p.id), 0);
          peaks[now] = Math.max(peaks[now] ?? 0, rss);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await page.goto(`http://127.0.0.1:${port}/bench/cpu.html?${new URLSearchParams(query)}`);
    let error: string | undefined;
    try {
      await page.waitForFunction(() => (window as unknown as { __cpuDone?: boolean }).__cpuDone === true, null, { timeout: timeoutMs, polling: 1000 });
    } catch {
      error = `stopped waiting after ${timeoutMs / 1000} s`;
    }
    done = true;
    await sampler;
    const got = (await page.evaluate(() => {
      const w = window as unknown as { __cpu?: unknown; __cpuError?: string };
      return { result: w.__cpu ?? null, error: w.__cpuError };
    })) as { result: CpuBenchResult | null; error?: string };
    for (const row of got.result?.memory ?? []) row.rendererPeakBytes = peaks[row.batch] ?? null;
    return {
      result: got.result,
      error: got.error ?? error,
      browser: `Chromium ${browser.version()}`,
      rendererPeakBytes: peaks,
      seconds: (performance.now() - started) / 1000,
      loadAverage: loadavg(),
    };
  } finally {
    await browser.close();
  }
}

/** Issue 15's targets: studio ÷ PyTorch at most this. */
export const CPU_TARGETS = { cpu_forward_vs_pytorch: 3, cpu_top_blocks_step_vs_pytorch: 5, cpu_full_step_vs_pytorch: 10 } as const;
type CpuFigure = keyof typeof CPU_TARGETS;

const stepOf = (studio: CpuBenchResult | null, plan: CpuPlan) => studio?.steps.find((s) => s.plan === plan)?.msPerStep ?? null;
const div = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null && b > 0 ? a / b : null);

/** The faster of PyTorch's two networks (plain torch.nn, the bundle) for one figure: the stricter comparison. */
const faster = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
const torchForward = (t: TorchResult) => faster(t.cpu?.forward?.msPerImage, t.bundle?.forward?.msPerImage);
const torchStep = (t: TorchResult, plan: string) => faster(t.cpu?.steps[plan]?.msPerStep, t.bundle?.steps[plan]?.msPerStep);

/** The three ratios against the faster PyTorch network (null where a side is missing). */
export function cpuFigures(studio: CpuBenchResult | null, torch: TorchResult): Record<CpuFigure, number | null> {
  return {
    cpu_forward_vs_pytorch: div(studio?.forward?.msPerImage, torchForward(torch)),
    cpu_top_blocks_step_vs_pytorch: div(stepOf(studio, 'last two blocks + head'), torchStep(torch, 'last two blocks + head')),
    cpu_full_step_vs_pytorch: div(stepOf(studio, 'full fine-tune'), torchStep(torch, 'full fine-tune')),
  };
}

/** The part of bench/results.json this adds: the figures, their targets, PyTorch's ms per step by plan, the cache build, memory, raw numbers. */
export function cpuJson(studio: StudioCpu, torch: TorchResult): Record<string, unknown> {
  const values = cpuFigures(studio.result, torch);
  const plans = ['full fine-tune', 'frozen half', 'head only', 'last two blocks + head'];
  return {
    ...values,
    cpu_targets: Object.fromEntries(
      (Object.keys(CPU_TARGETS) as CpuFigure[]).map((n) => [
        n,
        { target: `<= ${CPU_TARGETS[n]}`, value: values[n], pass: values[n] === null ? null : values[n]! <= CPU_TARGETS[n] },
      ]),
    ),
    pytorch_blas: torch.blas ?? null,
    pytorch_ms_per_step: Object.fromEntries(plans.map((p) => [p, torchStep(torch, p) ?? null])),
    load_average: studio.loadAverage,
    studio_ms_per_step: Object.fromEntries(plans.map((p) => [p, stepOf(studio.result, p as CpuPlan)])),
    cache_build_1000_seconds: studio.result?.cache ? (studio.result.cache.seconds * 1000) / studio.result.cache.images : null,
    images_per_second: {
      studio: {
        forward: studio.result?.forward?.imagesPerSecond ?? null,
        ...Object.fromEntries((studio.result?.steps ?? []).map((s) => [s.plan, s.imagesPerSecond])),
        cache_build: studio.result?.cache?.imagesPerSecond ?? null,
      },
      pytorch: {
        forward: torch.cpu?.forward?.imagesPerSecond ?? null,
        ...Object.fromEntries(Object.entries(torch.cpu?.steps ?? {}).map(([p, s]) => [p, s.imagesPerSecond])),
      },
    },
    memory: studio.result?.memory ?? [],
    raw: { studio, pytorch: torch },
  };
}

const ms = (v: number | null | undefined) => (v == null ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: v < 100 ? 1 : 0 }));
const mib = (v: number | null | undefined) => (v == null ? '–' : (v / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: 0 }));
const ips = (v: number | null | undefined) => (v == null ? '–' : v.toFixed(v < 10 ? 2 : 1));

/** The part's Markdown: the ratio table (studio, PyTorch eager, bundle), the cache build, memory. */
export function cpuMarkdown(studio: StudioCpu, torch: TorchResult): string {
  const r = studio.result;
  const t = torch.cpu;
  const b = torch.bundle;
  const values = cpuFigures(r, torch);
  const verdict = (n: CpuFigure) => (values[n] === null ? 'not measured' : values[n]! <= CPU_TARGETS[n] ? 'pass' : '**miss**');
  const row = (
    work: string,
    studioMs: number | null | undefined,
    studioIps: number | null | undefined,
    torchMs: number | undefined,
    bundleMs: number | undefined,
    figure?: CpuFigure,
  ) =>
    `| ${work} | ${ms(studioMs)} (${ips(studioIps)}/s) | ${ms(torchMs)} | ${ms(bundleMs)} | ${ms(div(studioMs, faster(torchMs, bundleMs)))}${figure ? ` | ${figure} ≤ ${CPU_TARGETS[figure]}: ${verdict(figure)}` : ' | –'} |`;
  const step = (plan: CpuPlan, figure?: CpuFigure) => {
    const s = r?.steps.find((x) => x.plan === plan);
    return row(`training step, ${plan}, batch 4`, s?.msPerStep, s?.imagesPerSecond, t?.steps[plan]?.msPerStep, b?.steps[plan]?.msPerStep, figure);
  };
  const lines = [
    `Studio: ${r?.detail ?? r?.backend ?? 'not measured'} in headless ${studio.browser} (the page cross-origin isolated by the dev server's COOP/COEP). PyTorch: ${torch.torch ? `${torch.torch}, ${torch.threads} threads, BLAS ${torch.blas?.info ?? '?'} (${torch.blas?.matmulGflops.toFixed(1) ?? '?'} GFLOP/s on a 1024² matmul)` : (torch.error ?? 'not measured')}; machine load average at the end ${studio.loadAverage
      .map((l) => l.toFixed(1))
      .join(
        ', ',
      )} (PyTorch's OpenMP threads slow down many times when other jobs hold the cores: compare ratios from a quiet run); "PyTorch eager" is ${t?.network ?? '–'}; "bundle" is ${b?.network ?? 'not run'}. Ratios use the faster of PyTorch's two networks in each row.`,
    '',
    '| work | studio ms (images/s) | PyTorch eager ms | bundle ms | studio ÷ PyTorch | target |',
    '|---|---:|---:|---:|---:|---|',
    row(
      'forward pass per image, batch 8',
      r?.forward?.msPerImage,
      r?.forward?.imagesPerSecond,
      t?.forward?.msPerImage,
      b?.forward?.msPerImage,
      'cpu_forward_vs_pytorch',
    ),
    step('full fine-tune', 'cpu_full_step_vs_pytorch'),
    step('frozen half'),
    step('last two blocks + head', 'cpu_top_blocks_step_vs_pytorch'),
    step('head only'),
    '',
    r?.cache
      ? `Feature cache build (buildFeatures at the default cut, batch 32): ${r.cache.images.toLocaleString('en-US')} images in ${r.cache.seconds.toFixed(1)} s (${r.cache.imagesPerSecond.toFixed(1)} images/s)${r.cache.images === 1000 ? '' : `; 1,000 images: ${((r.cache.seconds * 1000) / r.cache.images).toFixed(0)} s at that rate (--quick builds ${r.cache.images})`}.`
      : 'Feature cache build: not measured.',
    '',
    '| memory: full fine-tune step | backend | ms | peak tensor MiB (tf.profile) | wasm heap MiB | renderer RSS peak MiB | result |',
    '|---|---|---:|---:|---:|---:|---|',
    ...(r?.memory ?? []).map(
      (m) =>
        `| batch ${m.batch} | ${m.backend} | ${ms(m.msPerStep)} | ${mib(m.peakTensorBytes)} | ${mib(m.wasmHeapBytes)} | ${mib(m.rendererPeakBytes)} | ${m.error ? `failed: ${m.error}` : 'ok'} |`,
    ),
  ];
  if (studio.error) lines.push('', `Note: ${studio.error}`);
  for (const e of r?.errors ?? []) lines.push('', `Note: ${e.split('\n')[0]}`);
  return lines.join('\n');
}
