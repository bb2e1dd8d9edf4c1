import type { HeadConfig, LayerInfo } from './types';

/** Name of the pooling layer the studio adds when the cut output is spatial. */
export const HEAD_POOL_NAME = 'head_pool';
/** Name of the flatten layer the studio adds when the cut output is neither spatial nor flat. */
export const HEAD_FLATTEN_NAME = 'head_flatten';
/** Name of the optional hidden ReLU layer of the head. */
export const HEAD_HIDDEN_NAME = 'head_hidden';
/** Name of the optional dropout layer of the head. */
export const HEAD_DROPOUT_NAME = 'head_dropout';
/** Name of the softmax classifier the studio adds. */
export const HEAD_DENSE_NAME = 'head_dense';
/** Every name the head may use; a model that already has one of them cannot take the head. */
export const HEAD_LAYER_NAMES = [HEAD_POOL_NAME, HEAD_FLATTEN_NAME, HEAD_HIDDEN_NAME, HEAD_DROPOUT_NAME, HEAD_DENSE_NAME] as const;

/** The head a new model starts with: average pooling straight into the softmax. */
export const DEFAULT_HEAD: HeadConfig = { pooling: 'avg', hiddenUnits: 0, dropout: 0 };

/** One layer of the studio's head, as built by the engine and shown by the tree. */
export interface HeadLayerSpec {
  name: string;
  className: 'GlobalAveragePooling2D' | 'GlobalMaxPooling2D' | 'Flatten' | 'Dense' | 'Dropout';
  /** Output shape without the batch dimension. */
  outputShape: number[];
  trainableParams: number;
  /** Dense only: units and activation. */
  units?: number;
  activation?: 'relu' | 'softmax';
  /** Dropout only. */
  rate?: number;
}

/**
 * The head's layers in order for a cut output of `cutShape` (no batch
 * dimension): global pooling if spatial ([H, W, C]), flatten if of another
 * rank, then the optional hidden ReLU Dense and dropout, then the softmax.
 * The engine builds exactly these; the UI shows them before the worker does.
 */
export function headLayerSpecs(cutShape: readonly (number | null)[], numClasses: number, head: HeadConfig = DEFAULT_HEAD): HeadLayerSpec[] {
  const specs: HeadLayerSpec[] = [];
  let features: number;
  if (cutShape.length === 3) {
    features = cutShape[2] ?? 0;
    specs.push({
      name: HEAD_POOL_NAME,
      className: head.pooling === 'max' ? 'GlobalMaxPooling2D' : 'GlobalAveragePooling2D',
      outputShape: [features],
      trainableParams: 0,
    });
  } else {
    features = cutShape.reduce<number>((product, dim) => product * (dim ?? 0), 1);
    if (cutShape.length !== 1) specs.push({ name: HEAD_FLATTEN_NAME, className: 'Flatten', outputShape: [features], trainableParams: 0 });
  }
  if (head.hiddenUnits > 0) {
    specs.push({
      name: HEAD_HIDDEN_NAME,
      className: 'Dense',
      outputShape: [head.hiddenUnits],
      trainableParams: features * head.hiddenUnits + head.hiddenUnits,
      units: head.hiddenUnits,
      activation: 'relu',
    });
    features = head.hiddenUnits;
  }
  if (head.dropout > 0) {
    specs.push({ name: HEAD_DROPOUT_NAME, className: 'Dropout', outputShape: [features], trainableParams: 0, rate: head.dropout });
  }
  specs.push({
    name: HEAD_DENSE_NAME,
    className: 'Dense',
    outputShape: [numClasses],
    trainableParams: features * numClasses + numClasses,
    units: numClasses,
    activation: 'softmax',
  });
  return specs;
}

/** The head's layers as tree rows (always trained, origin 'head'). */
export function headLayerInfos(cutShape: readonly (number | null)[], numClasses: number, head: HeadConfig = DEFAULT_HEAD): LayerInfo[] {
  return headLayerSpecs(cutShape, numClasses, head).map((spec) => ({
    name: spec.name,
    className: spec.className,
    outputShape: spec.outputShape,
    trainableParams: spec.trainableParams,
    nonTrainableParams: 0,
    frozenInSource: false,
    origin: 'head',
    parent: null,
  }));
}
