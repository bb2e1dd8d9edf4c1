/**
 * Per-kernel profile of MobileNetV2 training steps on wasm in Node (a developer's tool, not part of the bench):
 * `npx tsx scripts/profileStep.ts [full|top2|half|head] [--threads N]`.
 */
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { syntheticImages, MOBILENET_V2_BENCH } from '../bench/stepBench';
import { applyFreezePlan } from '../src/engine/freeze';
import { guardFrozenLayers } from '../src/engine/frozenLayers';
import { buildTransferModel, defaultCutLayer } from '../src/engine/head';
import { summarizeLayers } from '../src/engine/summary';
import { trainModel } from '../src/engine/trainer';
import { prepareWasmInNode } from '../src/engine/testing/wasmNode';
import { loadMobileNetV2FromDisk } from '../src/engine/testing/builtInFiles';

const plan = process.argv[2] ?? 'full';
const ti = process.argv.indexOf('--threads');
if (ti > 0) setThreadsCount(Number(process.argv[ti + 1]));
const TOP2 = /^(block_15_|block_16_|Conv_1$|Conv_1_bn$|out_relu$)/;

await prepareWasmInNode();
await tf.setBackend('wasm');
await tf.ready();
const loaded = await loadMobileNetV2FromDisk();
const cut = defaultCutLayer(loaded.model);
const { model, headLayers } = buildTransferModel(loaded.model, cut, 2, 1);
guardFrozenLayers(model);
const names = summarizeLayers(loaded.model).map((l) => l.name);
const half = new Set(names.slice(0, Math.floor(names.length / 2)));
const frozen = (n: string) => (plan === 'full' ? false : plan === 'head' ? true : plan === 'top2' ? !TOP2.test(n) : half.has(n));
applyFreezePlan(model, Object.fromEntries(names.map((n) => [n, frozen(n)])), headLayers);
const b = MOBILENET_V2_BENCH;
const run = async (steps: number) => {
  const data = syntheticImages(b.batchSize * steps, b.shape, 2, 7);
  let t = performance.now();
  const times: number[] = [];
  await trainModel(
    model,
    data,
    null,
    2,
    loaded.preprocessing,
    { epochs: 1, batchSize: b.batchSize, learningRate: 1e-3, seed: 1 },
    {
      onBatch: () => {
        const now = performance.now();
        times.push(now - t);
        t = now;
      },
    },
  );
  return times;
};
console.log(
  'warm',
  (await run(Number(process.env.WARM ?? 4))).map((t) => Math.round(t)),
);
if (process.env.NOPROFILE) process.exit(0);
const profile = await tf.profile(async () => {
  await run(1);
});
const by = new Map<string, { ms: number; n: number }>();
const byShape = new Map<string, { ms: number; n: number }>();
let total = 0;
for (const k of profile.kernels) {
  const ms = await (k.kernelTimeMs as unknown as Promise<number | { error: string }>);
  const v = typeof ms === 'number' ? ms : 0;
  const e = by.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += v;
  e.n++;
  by.set(k.name, e);
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const s = byShape.get(key) ?? { ms: 0, n: 0 };
  s.ms += v;
  s.n++;
  byShape.set(key, s);
  total += v;
}
console.log(
  'plan',
  plan,
  'threads',
  ti > 0 ? process.argv[ti + 1] : 'default',
  'kernels',
  profile.kernels.length,
  'sum ms (nested counted twice)',
  total.toFixed(0),
);
for (const [name, e] of [...by].sort((a, c) => c[1].ms - a[1].ms).slice(0, 40))
  console.log(name.padEnd(40), e.ms.toFixed(1).padStart(9), String(e.n).padStart(5));
console.log('--- by shape');
for (const [name, e] of [...byShape].sort((a, c) => c[1].ms - a[1].ms).slice(0, 40))
  console.log(e.ms.toFixed(1).padStart(9), String(e.n).padStart(4), name.slice(0, 150));
