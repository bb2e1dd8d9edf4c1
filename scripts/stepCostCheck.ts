/**
 * `npm run bench:cost`: checks the step cost estimate (src/core/stepCost.ts)
 * against measured steps. For the built-in digits CNN and MobileNetV2, each
 * with the studio's head at the default cut, it times a few training steps of
 * three plans — full fine-tune, head only (through the model, not on cached
 * features), and the first half of the blocks frozen (the freeze-early preset)
 * — with the studio's own loop (engine/trainer.ts trainModel on a model built,
 * guarded and frozen by the engine's functions, as bench/stepBench.ts does),
 * timing each step in CPU time of this process (the backend runs in it; other
 * work on a shared machine then barely moves the figure), then compares the
 * measured ratio full ÷ plan with the estimated one and prints whether they
 * agree within ±30%, plus a Markdown table for bench/results.md. Two
 * estimates: plain FLOPs, and the backend's cost model (a backward FLOP costs
 * k forward FLOPs, each float a backward kernel reads or writes b), whose two
 * numbers are fitted here on the two head-only steps (digits and MobileNetV2,
 * each against its full fine-tune), so the half-frozen rows are predictions.
 * The printed model goes into BACKEND_COST_MODELS (src/core/stepCost.ts).
 * With --only, the table's model is used.
 *
 * Options: --backend wasm|cpu (default wasm: in Node, with the studio's
 * gradient kernels, TFJS-FACTS #9/#20); --only digits|mobilenetv2;
 * --steps N timed steps per plan and round (default 2, the digits model 4×; 1 untimed before);
 * --rounds N rounds of the three plans in turn (default 3; each plan's
 * figure is the median of all its timed steps).
 */
import * as tf from '@tensorflow/tfjs';
import { MOBILENET_V2_BENCH, syntheticImages, type FreezeCase } from '../bench/stepBench';
import type { ImageSet } from '../src/engine/batches';
import { applyFreezePlan } from '../src/engine/freeze';
import { guardFrozenLayers } from '../src/engine/frozenLayers';
import { buildTransferModel } from '../src/engine/head';
import { trainModel } from '../src/engine/trainer';
import { DEFAULT_HEAD, headLayerInfos } from '../src/core/headSpec';
import { freezeEarlyPlan, presetBlocks } from '../src/core/presets';
import { cheaperOn, costModelOf, estimateStepCost, type BackendCostModel, type StepCost } from '../src/core/stepCost';
import type { LayerInfo } from '../src/core/types';
import { defaultCutLayer } from '../src/engine/head';
import type { LoadedModel } from '../src/engine/modelFiles';
import { summarizeLayers } from '../src/engine/summary';
import { prepareWasmInNode } from '../src/engine/testing/wasmNode';
import { loadBuiltInModelFromDisk, loadMobileNetV2FromDisk, loadSampleFromDisk } from '../src/engine/testing/builtInFiles';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const BACKEND = arg('--backend', 'wasm');
const ONLY = arg('--only', '');
const STEPS = Number(arg('--steps', '2'));
/** The digits model's steps last milliseconds: more of them keep its medians steady. */
const DIGITS_STEPS = 4 * STEPS;
const ROUNDS = Number(arg('--rounds', '3'));
/** The estimate passes when the measured ratio is within this fraction of it. */
const TOLERANCE = 0.3;

interface CheckRow {
  model: string;
  plan: string;
  cost: StepCost;
  msPerStep: number | null;
  measuredRatio: number | null;
}

/** The transfer rows the studio shows for `loaded` at its default cut with `numClasses` classes. */
function transferRows(loaded: LoadedModel, numClasses: number): LayerInfo[] {
  const cut = defaultCutLayer(loaded.model);
  const rows = summarizeLayers(loaded.model, cut);
  return [...rows, ...headLayerInfos(rows[rows.length - 1].outputShape, numClasses, DEFAULT_HEAD)];
}

/** Full fine-tune, head only, and the first half of the blocks frozen, as the bench's freeze cases. */
function cases(rows: LayerInfo[]): FreezeCase[] {
  const blocks = presetBlocks(rows);
  const half = freezeEarlyPlan(blocks, Math.floor(blocks.length / 2));
  return [
    { plan: 'full fine-tune', frozen: () => false },
    { plan: 'head only (through the model)', frozen: () => true },
    { plan: `first ${Math.floor(blocks.length / 2)} of ${blocks.length} blocks frozen`, frozen: (name) => half[name] === true },
  ];
}

/** CPU milliseconds of this process since `from` (user + system, every thread). */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

/** CPU ms of each timed step of one plan: a fresh model, the studio's head, guard and plan, then `steps` steps after one untimed. */
async function timeSteps(
  load: () => Promise<LoadedModel>,
  data: ImageSet,
  numClasses: number,
  c: FreezeCase,
  batchSize: number,
  steps: number,
): Promise<number[]> {
  const loaded = await load();
  const { model, headLayers } = buildTransferModel(loaded.model, defaultCutLayer(loaded.model), numClasses, 1);
  guardFrozenLayers(model);
  applyFreezePlan(model, Object.fromEntries(summarizeLayers(loaded.model).map((layer) => [layer.name, c.frozen(layer.name)])), headLayers);
  const times: number[] = [];
  const batches = Math.floor(data.labels.length / batchSize);
  let mark = process.cpuUsage();
  await trainModel(
    model,
    data,
    null,
    numClasses,
    loaded.preprocessing,
    { epochs: Math.ceil((steps + 1) / batches) + 1, batchSize, learningRate: 1e-3, seed: 1 },
    {
      onBatch: (point) => {
        if (point.step > 0) times.push(cpuMs(mark));
        mark = process.cpuUsage();
      },
      shouldStop: () => times.length >= steps,
    },
  );
  const shared = new Set(model.layers);
  model.dispose();
  for (const layer of loaded.model.layers) if (!shared.has(layer)) layer.dispose();
  return times;
}

async function check(model: string, load: () => Promise<LoadedModel>, data: ImageSet, numClasses: number, batchSize: number) {
  const probe = await load();
  const rows = transferRows(probe, numClasses);
  probe.model.dispose();
  const freezeCases = cases(rows);
  const estimates = freezeCases.map(({ frozen }) => {
    const plan = Object.fromEntries(rows.filter((r) => r.origin === 'pretrained').map((r) => [r.name, frozen(r.name)]));
    return estimateStepCost({ layers: rows, plan, batchSize });
  });
  // Rounds of the three plans in turn, so a slow spell of the machine falls on all of them alike.
  const ms: number[][] = freezeCases.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of freezeCases.entries()) {
      const times = await timeSteps(load, data, numClasses, c, batchSize, model === 'digits' ? DIGITS_STEPS : STEPS);
      ms[i].push(...times);
      console.log(`  round ${round + 1} ${model} ${tf.getBackend()} ${c.plan}: ${times.map((t) => t.toFixed(0)).join(', ')} CPU ms/step`);
    }
  }
  const medians = ms.map(median);
  const full = medians[0];
  return freezeCases.map((c, i): CheckRow => {
    const own = medians[i];
    return { model, plan: c.plan, cost: estimates[i], msPerStep: own, measuredRatio: full !== null && own !== null ? full / own : null };
  });
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** "within ±30% (+12%)": how far the measured ratio is from `estimated`. */
function verdict(measured: number | null, estimated: number): string {
  if (measured === null) return '–';
  const off = measured / estimated - 1;
  return `${Math.abs(off) <= TOLERANCE ? 'within' : 'outside'} (${off >= 0 ? '+' : ''}${(off * 100).toFixed(0)}%)`;
}

/** One case's equation in (k, b): measured full ÷ plan = W_full ÷ W_plan with W = F + k·B + b·E, as k·x + b·y = z. */
function equation(row: CheckRow): [number, number, number] | null {
  const r = row.measuredRatio;
  if (r === null) return null;
  const { cost } = row;
  return [r * cost.backwardFlops - cost.full.backwardFlops, r * cost.backwardFloats - cost.full.backwardFloats, cost.full.forwardFlops - r * cost.forwardFlops];
}

/** The backend's cost model from two cases (the two head-only steps), or null when they do not give a positive one. */
function fitCostModel(a: CheckRow, b: CheckRow): BackendCostModel | null {
  const [e1, e2] = [equation(a), equation(b)];
  if (!e1 || !e2) return null;
  const det = e1[0] * e2[1] - e1[1] * e2[0];
  if (det === 0) return null;
  const backwardFlop = (e1[2] * e2[1] - e1[1] * e2[2]) / det;
  const backwardFloat = (e1[0] * e2[2] - e1[2] * e2[0]) / det;
  return backwardFlop > 0 && backwardFloat >= 0 ? { backwardFlop, backwardFloat } : null;
}

function table(rows: CheckRow[], batches: Record<string, number>, model: BackendCostModel, fitted: readonly CheckRow[]): string {
  const lines = [
    '| model | freeze plan | trainable params | est. FLOPs / image (fwd + bwd) | est. full ÷ plan, FLOPs | est. full ÷ plan, cost model | measured CPU ms / step | measured full ÷ plan | FLOPs within ±30% | cost model within ±30% |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const ms = r.msPerStep === null ? 'skipped' : r.msPerStep.toFixed(0);
    const measured = r.measuredRatio === null ? '–' : `${r.measuredRatio.toFixed(2)}×`;
    const weighted = cheaperOn(r.cost, model);
    const full = r.plan === 'full fine-tune';
    const modelVerdict = fitted.includes(r) ? 'fitted here' : full ? '–' : verdict(r.measuredRatio, weighted);
    lines.push(
      `| ${r.model} (batch ${batches[r.model]}) | ${r.plan} | ${r.cost.trainableParams.toLocaleString('en-US')} | ${((r.cost.forwardFlops + r.cost.backwardFlops) / 1e9).toPrecision(3)} G | ${r.cost.cheaperBy.toFixed(2)}× | ${weighted.toFixed(2)}× | ${ms} | ${measured} | ${full ? '–' : verdict(r.measuredRatio, r.cost.cheaperBy)} | ${modelVerdict} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (BACKEND === 'wasm') await prepareWasmInNode();
  if (!(await tf.setBackend(BACKEND))) throw new Error(`The ${BACKEND} backend did not start; use --backend wasm or --backend cpu.`);
  const rows: CheckRow[] = [];
  const batches: Record<string, number> = { digits: 32, MobileNetV2: 2 };
  const started = performance.now();
  if (ONLY !== 'mobilenetv2') {
    const data = loadSampleFromDisk();
    rows.push(...(await check('digits', loadBuiltInModelFromDisk, data, data.classNames.length, batches.digits)));
  }
  if (ONLY !== 'digits') {
    const b = MOBILENET_V2_BENCH;
    const data = syntheticImages(batches.MobileNetV2 * (STEPS + 1), b.shape, b.numClasses, 7);
    rows.push(...(await check('MobileNetV2', loadMobileNetV2FromDisk, data, b.numClasses, batches.MobileNetV2)));
  }
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  console.log(
    `\nStep cost estimate vs measured steps on ${tf.getBackend()} in Node (${ROUNDS} rounds of the plans in turn, ${STEPS} timed steps each after 1 untimed (digits ${DIGITS_STEPS}: its steps are short); median of each plan's steps; ${minutes} min):\n`,
  );
  const heads = rows.filter((r) => r.plan.startsWith('head only'));
  const fittedModel = heads.length === 2 ? fitCostModel(heads[0], heads[1]) : null;
  const model = fittedModel ?? costModelOf(tf.getBackend());
  const fitted = fittedModel ? heads : [];
  const k = `backward FLOP = ${model.backwardFlop.toFixed(2)} forward FLOPs, backward float read or written = ${model.backwardFloat.toFixed(1)} forward FLOPs`;
  const why = heads.length === 2 ? 'the two head-only steps gave no positive fit' : 'both models are needed for a fit';
  console.log(fittedModel ? `Cost model on ${tf.getBackend()}, fitted on the two head-only steps: ${k}` : `Cost model from BACKEND_COST_MODELS (${why}): ${k}`);
  console.log(table(rows, batches, model, fitted));
  const checked = rows.filter((r) => r.measuredRatio !== null && r.plan !== 'full fine-tune');
  const flops = checked.filter((r) => verdict(r.measuredRatio, r.cost.cheaperBy).startsWith('within')).length;
  const predicted = checked.filter((r) => !fitted.includes(r));
  const weighted = predicted.filter((r) => verdict(r.measuredRatio, cheaperOn(r.cost, model)).startsWith('within')).length;
  console.log(`\nFLOPs alone: ${flops} of ${checked.length} plans within ±30% of the measured full ÷ plan ratio.`);
  console.log(`The cost model: ${weighted} of ${predicted.length} predicted plans within ±30%.`);
}

await main();
