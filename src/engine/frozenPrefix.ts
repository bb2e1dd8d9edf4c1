import * as tf from '@tensorflow/tfjs';
import { STOCHASTIC_LAYER_CLASSES } from '../core/layerClasses';
import { runsInTrainingMode } from './frozenLayers';

/**
 * The frozen prefix of a training step, run outside the gradient tape.
 *
 * A layer is *still* when it has no trainable weight and computes the same
 * with `training: true` as without (a frozen BatchNormalization or Dropout is
 * put in inference mode by guardFrozenLayers; a convolution, pooling, add or
 * activation never depends on it). The prefix is every layer node that is
 * still and reads only the model's inputs or other prefix outputs: it is a
 * fixed function of the batch, no gradient can reach it, and it need not be
 * recorded. trainStep computes it first under a plain tidy (no tape: its
 * activations are freed as it goes, and tfjs fuses ops it would not fuse
 * under a tape), then only the rest of the graph runs under the tape, fed
 * with the prefix's outputs (the frontier).
 *
 * In the prefix, a convolution followed only by an inference-mode
 * BatchNormalization (and then only a ReLU/ReLU6) runs as one fused
 * convolution with the normalisation folded into its weights and bias —
 * what inference engines do — instead of three or four passes over the
 * activation: BatchNormalization alone was 45% of MobileNetV2's forward pass
 * on wasm. The results match the unfolded layers to float rounding. The
 * folded weights are computed once per set of weights and kept until the
 * weights change (a run's start restores them) or releaseFrozenPrefixes.
 */

type Symbolic = tf.SymbolicTensor;

/** One call of a layer in the model's graph. */
interface GraphNode {
  layer: tf.layers.Layer;
  inputs: Symbolic[];
  outputs: Symbolic[];
}

/** Whether a layer's result depends on `training` (BatchNormalization, dropout, noise): still only when guardFrozenLayers puts it in inference mode. */
const trainingDependent = (className: string) => className === 'BatchNormalization' || STOCHASTIC_LAYER_CLASSES.has(className);

/**
 * Whether `layer` computes the same with and without `training: true` and has no trainable weight. A
 * training-dependent layer counts only when guardFrozenLayers patched its `call` (an own property): an
 * unguarded frozen BatchNormalization still trains its statistics (TFJS-FACTS #6).
 */
function isStill(layer: tf.layers.Layer): boolean {
  if (layer instanceof tf.LayersModel) return layer.layers.every(isStill);
  if (layer.trainableWeights.length > 0) return false;
  if (!trainingDependent(layer.getClassName())) return true;
  return Object.prototype.hasOwnProperty.call(layer, 'call') && !runsInTrainingMode(layer);
}

const graphs = new WeakMap<tf.LayersModel, GraphNode[]>();

/** The model's layer calls in an order where each comes after those it reads (as tfjs-layers' executor sorts them); once per model (a step asks for it). */
function graphOf(model: tf.LayersModel): GraphNode[] {
  const known = graphs.get(model);
  if (known) return known;
  const nodes: GraphNode[] = [];
  const seen = new Set<number>();
  const inputIds = new Set(model.inputs.map((t) => t.id));
  const nodeOf = (t: Symbolic): GraphNode => {
    const layer = t.sourceLayer as tf.layers.Layer;
    const inbound = layer.inboundNodes.find((n) => n.outputTensors.some((o) => o.id === t.id)) ?? layer.inboundNodes[0];
    return { layer, inputs: inbound.inputTensors, outputs: inbound.outputTensors };
  };
  const visit = (t: Symbolic) => {
    if (inputIds.has(t.id) || seen.has(t.id)) return;
    const node = nodeOf(t);
    for (const o of node.outputs) seen.add(o.id);
    for (const input of node.inputs) visit(input);
    nodes.push(node);
  };
  for (const output of model.outputs) visit(output);
  graphs.set(model, nodes);
  return nodes;
}

/** The split of a model's graph for the current freeze plan. */
export interface PrefixPlan {
  /** The prefix's nodes, in order; empty when nothing before the trained part is still. */
  prefix: GraphNode[];
  /** The rest, in order. */
  rest: GraphNode[];
  /** The prefix outputs the rest (or the model's output) reads. */
  frontier: Symbolic[];
  /** How many times each symbolic tensor is read, by id (the model's outputs count once more). */
  readers: Map<number, number>;
}

/** Splits `model`'s graph into its still prefix and the rest, as the layers' flags are now (`still`: which layers may be in it). */
export function planPrefix(model: tf.LayersModel, still: (layer: tf.layers.Layer) => boolean = isStill): PrefixPlan {
  const nodes = graphOf(model);
  const known = new Set(model.inputs.map((t) => t.id));
  const prefix: GraphNode[] = [];
  const rest: GraphNode[] = [];
  const readers = new Map<number, number>();
  for (const node of nodes) {
    for (const input of node.inputs) readers.set(input.id, (readers.get(input.id) ?? 0) + 1);
    if (still(node.layer) && node.inputs.every((t) => known.has(t.id))) {
      prefix.push(node);
      for (const o of node.outputs) known.add(o.id);
    } else rest.push(node);
  }
  for (const output of model.outputs) readers.set(output.id, (readers.get(output.id) ?? 0) + 1);
  const prefixOut = new Set(prefix.flatMap((n) => n.outputs.map((o) => o.id)));
  const frontierIds = new Set<number>();
  const frontier: Symbolic[] = [];
  const mark = (t: Symbolic) => {
    if (prefixOut.has(t.id) && !frontierIds.has(t.id)) {
      frontierIds.add(t.id);
      frontier.push(t);
    }
  };
  for (const node of rest) node.inputs.forEach(mark);
  model.outputs.forEach(mark);
  return { prefix, rest, frontier, readers };
}

/** Runs `nodes` on the values in `values` (by symbolic id), adding their outputs; every layer gets `kwargs`. `skip` may compute a node itself; `after` hears what each node read. */
function runNodes(
  nodes: readonly GraphNode[],
  values: Map<number, tf.Tensor>,
  kwargs: Record<string, unknown>,
  skip?: (node: GraphNode) => boolean,
  after?: (read: Symbolic[]) => void,
): void {
  for (const node of nodes) {
    if (skip?.(node)) continue;
    const inputs = node.inputs.map((t) => values.get(t.id)!);
    const out = node.layer.apply(inputs.length === 1 ? inputs[0] : inputs, kwargs) as tf.Tensor | tf.Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    node.outputs.forEach((o, i) => values.set(o.id, outs[i]));
    after?.(node.inputs);
  }
}

type ConvLike = {
  kernel?: tf.LayerVariable;
  depthwiseKernel?: tf.LayerVariable;
  bias?: tf.LayerVariable;
  useBias: boolean;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dilationRate: number | number[];
  dataFormat: string;
  activation: { getClassName(): string };
};

type BatchNormLike = {
  axis: number | number[];
  epsilon: number;
  gamma?: tf.LayerVariable;
  beta?: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
};

/** The fused activation a ReLU-like layer computes ('relu', 'relu6'), or null for anything else. */
function reluOf(layer: tf.layers.Layer): 'relu' | 'relu6' | null {
  const name = layer.getClassName();
  if (name === 'ReLU') {
    const max = (layer as unknown as { maxValue?: number | null }).maxValue;
    return max == null ? 'relu' : max === 6 ? 'relu6' : null;
  }
  if (name === 'Activation') {
    const fn = (layer as unknown as { activation: { getClassName(): string } }).activation.getClassName();
    return fn === 'relu' || fn === 'relu6' ? fn : null;
  }
  return null;
}

const dataIds = new WeakMap<object, number>();
let nextDataId = 0;

/** The variables a fold reads, by their current data (an assign gives a variable new data): when it changes, the fold is computed again. */
function foldKey(vars: (tf.LayerVariable | undefined)[]): string {
  return vars
    .map((v) => {
      if (!v) return '-';
      const dataId = (v.read() as unknown as { dataId: object }).dataId;
      if (!dataIds.has(dataId)) dataIds.set(dataId, nextDataId++);
      return String(dataIds.get(dataId));
    })
    .join(',');
}

/** The chain starting at `conv` that can be folded, or null (see FoldedChain). */
function chainAt(conv: GraphNode, byInput: Map<number, GraphNode[]>, plan: PrefixPlan, frontier: Set<number>): GraphNode[] | null {
  const className = conv.layer.getClassName();
  if (className !== 'Conv2D' && className !== 'DepthwiseConv2D') return null;
  const c = conv.layer as unknown as ConvLike;
  if (c.dataFormat !== 'channelsLast' || c.activation.getClassName() !== 'linear' || c.padding === 'causal') return null;
  const only = (t: Symbolic) => (plan.readers.get(t.id) === 1 && !frontier.has(t.id) ? (byInput.get(t.id)?.[0] ?? null) : null);
  const bn = only(conv.outputs[0]);
  if (!bn || bn.layer.getClassName() !== 'BatchNormalization') return null;
  const axis = (bn.layer as unknown as BatchNormLike).axis;
  if (!(axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)))) return null;
  const relu = only(bn.outputs[0]);
  return relu && reluOf(relu.layer) ? [conv, bn, relu] : [conv, bn];
}

/** The fold of one chain: W·a and (bias − mean)·a + β with a = γ / √(variance + ε), per output channel. */
function foldChain(nodes: GraphNode[]): { filter: tf.Tensor4D; bias: tf.Tensor1D; vars: (tf.LayerVariable | undefined)[] } {
  const c = nodes[0].layer as unknown as ConvLike;
  const bn = nodes[1].layer as unknown as BatchNormLike;
  const kernel = (c.kernel ?? c.depthwiseKernel)!;
  const vars = [kernel, c.useBias ? c.bias : undefined, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance];
  const [filter, bias] = tf.tidy(() => {
    const w = kernel.read() as tf.Tensor4D;
    const scale = tf.mul(bn.gamma ? bn.gamma.read() : 1, tf.rsqrt(tf.add(bn.movingVariance.read(), bn.epsilon))) as tf.Tensor1D;
    const filter = (c.depthwiseKernel ? tf.mul(w, scale.reshape([1, 1, w.shape[2], w.shape[3]])) : tf.mul(w, scale)) as tf.Tensor4D;
    const shifted = tf.sub(c.useBias && c.bias ? c.bias.read() : 0, bn.movingMean.read());
    const bias = tf.add(tf.mul(shifted, scale), bn.beta ? bn.beta.read() : 0) as tf.Tensor1D;
    return [filter, bias] as [tf.Tensor4D, tf.Tensor1D];
  });
  // Kept: a fold made inside a caller's tidy (a step's prefix, an evaluation) outlives it, until dispose.
  return { filter: tf.keep(filter), bias: tf.keep(bias), vars };
}

/** The prefix of one model for one freeze plan, with its folded chains (weights kept until released). */
class PrefixRunner {
  readonly plan: PrefixPlan;
  private readonly chains = new Map<GraphNode, { nodes: GraphNode[]; key: string; filter: tf.Tensor4D; bias: tf.Tensor1D }>();
  private readonly inChain = new Set<GraphNode>();

  constructor(
    private readonly model: tf.LayersModel,
    readonly signature: string,
    private readonly training: boolean,
  ) {
    // In inference mode every layer computes a fixed function of its input: the whole graph is the prefix.
    this.plan = planPrefix(model, training ? isStill : () => true);
    const frontier = new Set(this.plan.frontier.map((t) => t.id));
    const byInput = new Map<number, GraphNode[]>();
    for (const node of this.plan.prefix) for (const t of node.inputs) byInput.set(t.id, [...(byInput.get(t.id) ?? []), node]);
    for (const node of this.plan.prefix) {
      if (this.inChain.has(node)) continue;
      const chain = chainAt(node, byInput, this.plan, frontier);
      if (!chain) continue;
      chain.forEach((n) => this.inChain.add(n));
      const folded = foldChain(chain);
      this.chains.set(node, { nodes: chain, key: foldKey(folded.vars), filter: folded.filter, bias: folded.bias });
    }
  }

  /** The names of the layers that run folded, each chain's layers joined by '+'. */
  get folded(): string[] {
    return [...this.chains.values()].map((c) => c.nodes.map((n) => n.layer.name).join('+'));
  }

  /** The chain's folded weights, computed again when one of its variables was assigned since. */
  private weights(head: GraphNode) {
    const chain = this.chains.get(head)!;
    const c = head.layer as unknown as ConvLike;
    const bn = chain.nodes[1].layer as unknown as BatchNormLike;
    const key = foldKey([(c.kernel ?? c.depthwiseKernel)!, c.useBias ? c.bias : undefined, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]);
    if (key !== chain.key) {
      tf.dispose([chain.filter, chain.bias]);
      const folded = foldChain(chain.nodes);
      Object.assign(chain, { key, filter: folded.filter, bias: folded.bias });
    }
    return chain;
  }

  /**
   * The frontier's values for the batch `xs`, outside any tape (in the order of `plan.frontier`); the caller
   * disposes them. Each activation is disposed as soon as its last reader has run.
   */
  run(xs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const values = new Map<number, tf.Tensor>();
      const inputs = Array.isArray(xs) ? xs : [xs];
      this.model.inputs.forEach((t, i) => values.set(t.id, inputs[i]));
      const keep = new Set([...this.model.inputs, ...this.plan.frontier].map((t) => t.id));
      const left = new Map(this.plan.readers);
      const done = (read: Symbolic[]) => {
        for (const t of read) {
          const n = (left.get(t.id) ?? 1) - 1;
          left.set(t.id, n);
          if (n <= 0 && !keep.has(t.id)) values.get(t.id)?.dispose();
        }
      };
      runNodes(
        this.plan.prefix,
        values,
        { training: this.training },
        (node) => {
          if (!this.inChain.has(node)) return false;
          const chain = this.chains.get(node);
          if (!chain) return true; // a later link of a chain: computed with its head
          values.set(chain.nodes[chain.nodes.length - 1].outputs[0].id, this.fused(chain, values.get(node.inputs[0].id) as tf.Tensor4D));
          done(node.inputs);
          return true;
        },
        done,
      );
      return this.plan.frontier.map((t) => values.get(t.id)!);
    });
  }

  /** One folded chain on `x`: a fused convolution with the folded weights and the chain's ReLU as its activation. */
  private fused(chain: { nodes: GraphNode[] }, x: tf.Tensor4D): tf.Tensor {
    const head = chain.nodes[0];
    const { filter, bias } = this.weights(head);
    const c = head.layer as unknown as ConvLike;
    const activation: 'relu' | 'relu6' | 'linear' = chain.nodes.length === 3 ? reluOf(chain.nodes[2].layer)! : 'linear';
    const dilations = (Array.isArray(c.dilationRate) ? c.dilationRate : [c.dilationRate, c.dilationRate]) as [number, number];
    const args = { x, filter, strides: c.strides as [number, number], pad: c.padding as 'same' | 'valid', dilations, bias, activation };
    return c.depthwiseKernel ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
  }

  /** The model's output from the frontier's values (under the caller's tape), with `kwargs` (training: true). */
  rest(frontier: tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const values = new Map(this.plan.frontier.map((t, i) => [t.id, frontier[i]]));
    runNodes(this.plan.rest, values, kwargs);
    return values.get(this.model.outputs[0].id)!;
  }

  dispose(): void {
    for (const chain of this.chains.values()) tf.dispose([chain.filter, chain.bias]);
    this.chains.clear();
  }
}

const runners = new Map<tf.LayersModel, PrefixRunner>();
const inference = new Map<tf.LayersModel, PrefixRunner>();

/** What decides the prefix: each layer's trainable flag and training mode, in graph order. */
function signatureOf(model: tf.LayersModel): string {
  return graphOf(model)
    .map((n) => (isStill(n.layer) ? '1' : '0'))
    .join('');
}

/** The model's prefix runner for its current plan (made again when the plan changed), or null when the prefix is empty. */
export function frozenPrefixOf(model: tf.LayersModel): PrefixRunner | null {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const signature = signatureOf(model);
  let runner = runners.get(model);
  if (runner && runner.signature !== signature) {
    runner.dispose();
    runners.delete(model);
    runner = undefined;
  }
  if (!runner) {
    runner = new PrefixRunner(model, signature, true);
    runners.set(model, runner);
  }
  return runner.plan.prefix.length > 0 ? runner : null;
}

/**
 * `model`'s output for `xs` in inference mode (evaluation, predict, the feature cache), with every
 * convolution → BatchNorm (→ ReLU/ReLU6) chain folded as in a training step's prefix: the same values
 * as `model.apply(xs, { training: false })` to float rounding. The folded weights are kept for the next
 * call until releaseFrozenPrefixes (a weight assigned since is seen and folded again).
 */
export function inferFolded(model: tf.LayersModel, xs: tf.Tensor): tf.Tensor {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return model.apply(xs, { training: false }) as tf.Tensor;
  let runner = inference.get(model);
  if (!runner) {
    runner = new PrefixRunner(model, 'inference', false);
    inference.set(model, runner);
  }
  return runner.run(xs)[0];
}

/** Disposes every model's folded weights (a run's end, a finished feature cache or prediction). */
export function releaseFrozenPrefixes(): void {
  for (const runner of [...runners.values(), ...inference.values()]) runner.dispose();
  runners.clear();
  inference.clear();
}
