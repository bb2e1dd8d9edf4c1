/**
 * Browser half of the tree part of `npm run bench`: renders the studio's own
 * LayerTree (with the app's styles and store) for MobileNetV2 and for a
 * synthetic 500-layer model, and times what a user waits for — the tree
 * appearing after a model loads, Expand all, Freeze all, a scroll to the end —
 * each from the action to the second animation frame after it (painted).
 * Leaves `{ rows }` on `window.__bench`.
 */
import * as tf from '@tensorflow/tfjs';
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { LayerTree } from '../src/components/LayerTree';
import { loadLayersModelFromUrl } from '../src/engine/modelFiles';
import { sourceFreezePlan } from '../src/core/params';
import type { LayerInfo } from '../src/core/types';
import { useStudio } from '../src/store/store';
import { describeModel } from '../src/worker/describeModel';
import type { ModelDescription } from '../src/worker/protocol';
import '../src/styles.css';

/** One measured scenario. */
export interface TreeBenchRow {
  model: string;
  layers: number;
  action: string;
  /** React's render and commit, synchronous (median ms). */
  workMs: number;
  /** Until the second animation frame after the action: painted (median ms; frames are ~16.7 ms apart). */
  paintMs: number;
  repeats: number;
  /** Tree items in the DOM after the action (virtualisation keeps this small). */
  itemsInDom: number;
}

const REPEATS = 5;
const target = window as unknown as { __bench?: unknown };
const nextPaint = () => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function mobileNetV2(): Promise<ModelDescription> {
  await tf.setBackend('cpu');
  const loaded = await loadLayersModelFromUrl('/models/mobilenet_v2/model.json');
  const description = { ...describeModel(loaded), name: 'MobileNetV2' };
  loaded.model.dispose();
  return description;
}

/** 100 blocks of conv, BN, ReLU, depthwise conv, BN (`block_N_…`), then a flatten: 501 layers. */
function syntheticModel(): ModelDescription {
  const layers: LayerInfo[] = [];
  const row = (name: string, className: string, trainableParams: number, nonTrainableParams = 0): LayerInfo => ({
    name,
    className,
    outputShape: [14, 14, 64],
    trainableParams,
    nonTrainableParams,
    frozenInSource: false,
    origin: 'pretrained',
    parent: null,
  });
  for (let b = 1; b <= 100; b++) {
    layers.push(row(`block_${b}_conv`, 'Conv2D', 36_928), row(`block_${b}_bn`, 'BatchNormalization', 128, 128), row(`block_${b}_relu`, 'ReLU', 0));
    layers.push(row(`block_${b}_dw`, 'DepthwiseConv2D', 640), row(`block_${b}_dw_bn`, 'BatchNormalization', 128, 128));
  }
  layers.push({ ...row('flatten', 'Flatten', 0), outputShape: [12_544] });
  return {
    name: 'synthetic_500',
    layers,
    defaultCutLayer: 'flatten',
    inputShape: { height: 14, width: 14, channels: 64 },
    preprocessing: { range: [0, 1], resize: 'stretch' },
    provenance: null,
    sourceHash: '',
    cutCandidates: layers.map((l) => l.name),
    layerCount: layers.length + 1,
  };
}

async function timed(action: () => void): Promise<[number, number]> {
  const start = performance.now();
  await act(async () => action());
  const work = performance.now() - start;
  await nextPaint();
  return [work, performance.now() - start];
}

async function benchModel(model: ModelDescription, root: HTMLElement): Promise<TreeBenchRow[]> {
  const items = () => root.querySelectorAll('[role="treeitem"]').length;
  const samples: Record<string, [number, number][]> = {
    'tree shown after the model loads': [],
    'Expand all': [],
    'Freeze all': [],
    'scroll to the last row': [],
  };
  const counts: Record<string, number> = {};
  const click = (name: string) => [...root.querySelectorAll('button')].find((b) => b.textContent === name)!.click();
  for (let i = 0; i < REPEATS; i++) {
    const reactRoot = createRoot(root);
    useStudio.getState().loadSample('bench', [
      { path: 'a/1', className: 'a', pixels: new Uint8Array(1) },
      { path: 'b/1', className: 'b', pixels: new Uint8Array(1) },
    ]);
    samples['tree shown after the model loads'].push(
      await timed(() => {
        useStudio.getState().modelLoaded(model, sourceFreezePlan(model.layers), { kind: 'builtin', id: 'bench', label: model.name });
        reactRoot.render(<LayerTree />);
      }),
    );
    counts['tree shown after the model loads'] = items();
    samples['Expand all'].push(await timed(() => click('Expand all')));
    counts['Expand all'] = items();
    samples['Freeze all'].push(await timed(() => useStudio.getState().setAllFrozen(true)));
    counts['Freeze all'] = items();
    const scroller = root.querySelector<HTMLElement>('.tree-scroll')!;
    samples['scroll to the last row'].push(
      await timed(() => {
        scroller.scrollTop = scroller.scrollHeight;
        scroller.dispatchEvent(new Event('scroll'));
      }),
    );
    counts['scroll to the last row'] = items();
    await act(async () => reactRoot.unmount());
  }
  return Object.entries(samples).map(([action, xs]) => ({
    model: model.name,
    layers: model.layers.length,
    action,
    workMs: median(xs.map((x) => x[0])),
    paintMs: median(xs.map((x) => x[1])),
    repeats: xs.length,
    itemsInDom: counts[action],
  }));
}

try {
  (globalThis as unknown as { IS_REACT_ACT_ENVIRONMENT: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
  const root = document.getElementById('root')!;
  root.className = 'panel';
  const rows = [...(await benchModel(await mobileNetV2(), root)), ...(await benchModel(syntheticModel(), root))];
  target.__bench = { rows };
} catch (error) {
  target.__bench = { error: String((error as Error).stack ?? error) };
}
document.getElementById('out')!.textContent = JSON.stringify(target.__bench);
