/**
 * `npm run bench`: milliseconds per training step of the built-in model,
 * full fine-tune vs head only, on every backend that works here — cpu in
 * Node, webgpu and webgl in headless Chromium — as one table. Writes
 * bench/results.md. Ratios are compared within one run (shared machines are
 * noisy); nothing here is a pass/fail gate.
 *
 * Options: --steps N (timed steps per configuration, default 20).
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS } from '../playwright.config';
import { loadBuiltInModelFromDisk, loadSampleFromDisk } from '../src/engine/testing/builtInFiles';
import { benchFreezePlans, type StepBenchRow } from '../bench/stepBench';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argSteps = process.argv.indexOf('--steps');
const STEPS = argSteps > 0 ? Number(process.argv[argSteps + 1]) : 8;

/** Browser flags per backend: SwiftShader stands in for a GPU on machines without one. */
const BROWSER_BACKENDS: { backend: 'webgpu' | 'webgl'; args: string[] }[] = [
  { backend: 'webgpu', args: ['--enable-unsafe-webgpu'] },
  { backend: 'webgl', args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'] },
];

async function benchCpu(): Promise<StepBenchRow[]> {
  await tf.setBackend('cpu');
  const data = loadSampleFromDisk();
  return benchFreezePlans(loadBuiltInModelFromDisk, data, data.classNames.length, { steps: STEPS, warmup: 2, batchSize: 32 });
}

async function benchBrowser(): Promise<{ rows: StepBenchRow[]; notes: string[] }> {
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { port: 0, host: '127.0.0.1' } });
  await server.listen();
  const address = server.httpServer!.address() as { port: number };
  const rows: StepBenchRow[] = [];
  const notes: string[] = [];
  try {
    for (const { backend, args } of BROWSER_BACKENDS) {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args] });
      try {
        const page = await browser.newPage();
        await page.goto(`http://127.0.0.1:${address.port}/bench/index.html?backend=${backend}&steps=${STEPS}`);
        await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, null, { timeout: 600_000 });
        const result = (await page.evaluate(() => (window as unknown as { __bench: unknown }).__bench)) as {
          rows?: StepBenchRow[];
          unavailable?: string;
          error?: string;
        };
        if (result.rows) rows.push(...result.rows);
        else notes.push(`${backend}: ${result.unavailable ?? result.error}`);
      } finally {
        await browser.close();
      }
    }
  } finally {
    await server.close();
  }
  return { rows, notes };
}

function table(rows: StepBenchRow[]): string {
  const lines = [
    '| backend | freeze plan | trainable params | ms / step (median) | steps timed | full ÷ this |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const full = rows.find((r) => r.backend === row.backend && r.plan.startsWith('full'));
    const ratio = full ? (full.msPerStep / row.msPerStep).toFixed(2) : '–';
    lines.push(`| ${row.backend} | ${row.plan} | ${row.trainableParams.toLocaleString('en-US')} | ${row.msPerStep.toFixed(2)} | ${row.steps} | ${ratio}× |`);
  }
  return lines.join('\n');
}

const cpuRows = await benchCpu();
const browser = await benchBrowser();
const rows = [...cpuRows, ...browser.rows];
const text = table(rows);
console.log(`\nTraining step of the built-in digits model (batch 32, 28×28×1), ${STEPS} timed steps each\n`);
console.log(text);
for (const note of browser.notes) console.log(`note: ${note}`);

const markdown = `# Benchmark results

Produced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, no GPU. WebGPU and WebGL run in headless Chromium on SwiftShader (software), cpu in Node 20 with plain \`@tensorflow/tfjs\`.

Each row times the studio's own training loop (\`src/engine/trainer.ts\`, one \`await loss.data()\` per step) on the built-in model with the studio's head, batch 32. "Full ÷ this" is how many times cheaper a step is than full fine-tuning on the same backend: frozen layers run no backward pass and frozen BatchNorm runs in inference mode.

${text}
${browser.notes.map((n) => `\nNote: ${n}`).join('')}
`;
writeFileSync(join(ROOT, 'bench/results.md'), markdown);
console.log('\nwrote bench/results.md');
process.exit(0);
