import type { LayerInfo } from './types';

/** Name of the pooling layer the studio adds when the cut output is spatial. */
export const HEAD_POOL_NAME = 'head_pool';
/** Name of the softmax classifier the studio adds. */
export const HEAD_DENSE_NAME = 'head_dense';

/**
 * The rows the studio's new head adds to the tree, computed without tfjs so the
 * UI can show them (and their parameter counts) before the worker builds them.
 * `cutShape` is the cut layer's output without the batch dimension.
 */
export function headLayerInfos(cutShape: readonly (number | null)[], numClasses: number): LayerInfo[] {
  const rows: LayerInfo[] = [];
  let features: number;
  if (cutShape.length === 3) {
    features = cutShape[2] ?? 0;
    rows.push({
      name: HEAD_POOL_NAME,
      className: 'GlobalAveragePooling2D',
      outputShape: [features],
      trainableParams: 0,
      nonTrainableParams: 0,
      frozenInSource: false,
      origin: 'head',
      parent: null,
    });
  } else {
    features = cutShape.reduce<number>((product, dim) => product * (dim ?? 0), 1);
  }
  rows.push({
    name: HEAD_DENSE_NAME,
    className: 'Dense',
    outputShape: [numClasses],
    trainableParams: features * numClasses + numClasses,
    nonTrainableParams: 0,
    frozenInSource: false,
    origin: 'head',
    parent: null,
  });
  return rows;
}
