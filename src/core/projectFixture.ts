/**
 * For tests only: a project with every field of the schema filled in (an imported model of two files,
 * images in three classes with clashing and unsafe file names and one from the built-in sample, rejected
 * files, every optional training setting, two runs with curves, one of them diverged (NaN, Infinity),
 * trained weights and an evaluation with both held-out sets), with its binary parts.
 */
import type { ModelArtifactsWire } from './exportModelFiles';
import { PROJECT_FORMAT, PROJECT_SCHEMA_VERSION, type ProjectImage, type ProjectSnapshot } from './project';
import {
  datasetPartNames,
  float32Bytes,
  modelPartNames,
  TEST_PROBABILITIES_PART,
  VALIDATION_PROBABILITIES_PART,
  WEIGHTS_BIN_PART,
  WEIGHTS_MODEL_JSON_PART,
} from './projectParts';
import { weightPartsOf } from './projectWeights';
import type { RunRecord } from './runRecords';

const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) & 255);

/** The trained weights of the fixture's last run, as the worker's exportModel would give them. */
export function fixtureArtifacts(): ModelArtifactsWire {
  const weightData = new Float32Array(3 * 3 * 1 * 2 + 3).map((_, i) => i / 7 - 1);
  return {
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    modelTopology: {
      class_name: 'Functional',
      config: {
        name: 'transfer',
        layers: [
          { name: 'conv1', class_name: 'Conv2D', config: { name: 'conv1', trainable: false, filters: 2 }, inbound_nodes: [] },
          { name: 'head_dense', class_name: 'Dense', config: { name: 'head_dense', units: 3, activation: 'softmax' }, inbound_nodes: [[['conv1', 0, 0, {}]]] },
        ],
        input_layers: [['input_1', 0, 0]],
        output_layers: [['head_dense', 0, 0]],
      },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightSpecs: [
      { name: 'conv1/kernel', shape: [3, 3, 1, 2], dtype: 'float32' },
      { name: 'head_dense/bias', shape: [3], dtype: 'float32' },
    ],
    weightData: weightData.buffer,
    identicalToSource: { conv1: true },
  };
}

function run(runId: number, overrides: Partial<RunRecord>): RunRecord {
  return {
    runId,
    name: `Run ${runId} · first 1 of 2 blocks`,
    freeze: { kind: 'prefix', frozenBlocks: 1, totalBlocks: 2, frozenLayers: 2, totalLayers: 4, frozenBlockLabels: ['stem'], text: 'first 1 of 2 blocks' },
    trainableParams: 1234,
    finalTrainableParams: 2345,
    schedule: ['epoch 3: unfreeze block_2 (LR × 0.1)'],
    optimizer: 'momentum',
    learningRate: 0.01,
    learningRateSchedule: 'one-cycle',
    backend: 'cpu',
    millisPerEpoch: 12.5,
    cacheMillis: 40,
    bestValidationAccuracy: 0.75,
    bestValidationLoss: 0.5,
    epochs: [
      { epoch: 0, trainLoss: 1.1, trainAccuracy: 0.4, validationLoss: 0.9, validationAccuracy: 0.5, millis: 12 },
      { epoch: 1, trainLoss: 0.7, trainAccuracy: 0.6, validationLoss: 0.5, validationAccuracy: 0.75, millis: 13 },
    ],
    trainableChanges: [
      {
        step: 7,
        epoch: 2,
        batch: 0,
        cause: 'schedule',
        label: 'unfreeze block_2',
        trainableParams: 2345,
        learningRateFactor: 0.1,
        optimizerVariables: [{ name: 'conv2/kernel', shape: [3, 3, 2, 4] }],
        unfrozen: ['conv2', 'bn2'],
        frozen: ['bn1'],
      },
    ],
    batchesPerEpoch: 3,
    epochsPlanned: 4,
    stopped: false,
    fromPretrained: true,
    dataset: 'pets · 5 images',
    validationTrainedOn: 1,
    ...overrides,
  };
}

/** The fixture: a snapshot whose every field is filled in, and its parts by name. */
export function fullProject(): { snapshot: ProjectSnapshot; parts: Map<string, Uint8Array> } {
  const parts = new Map<string, Uint8Array>();
  const modelFiles = ['model.json', 'group1-shard1of1.bin'];
  const modelBytes = [new TextEncoder().encode('{"format":"layers-model","modelTopology":{}}'), bytesOf(96, 1)];
  const modelParts = modelPartNames(modelFiles);
  modelParts.forEach((part, i) => parts.set(part, modelBytes[i]));

  const images: Omit<ProjectImage, 'file'>[] = [
    { id: 3, className: 'cat', path: 'pets/cat/1.png', hash: 'a'.repeat(64) },
    { id: 4, className: 'cat', path: 'more/cat/1.png', hash: 'b'.repeat(64) },
    { id: 7, className: 'dog', path: 'pets/dog/a:b?.jpg', hash: '0123456789abcdef'.repeat(4) },
    { id: 9, className: '猫 ü', path: 'sample/猫 ü/0001', hash: null },
    { id: 10, className: 'dog', path: 'pets/dog/.hidden name.webp', hash: 'c'.repeat(64) },
  ];
  const names = datasetPartNames(images);
  const withFiles: ProjectImage[] = images.map((image, i) => {
    if (image.hash === null) return { ...image, file: null };
    const bytes = bytesOf(40 + i * 13, i + 2);
    parts.set(names[i], bytes);
    return { ...image, file: { part: names[i], bytes: bytes.length } };
  });

  const weights = weightPartsOf(fixtureArtifacts());
  parts.set(WEIGHTS_MODEL_JSON_PART, weights.modelJson);
  parts.set(WEIGHTS_BIN_PART, weights.weightsBin);
  const classNames = ['cat', 'dog', '猫 ü'];
  const validation = float32Bytes(Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1]));
  const test = float32Bytes(Float32Array.from([0.3, 0.6, 0.1]));
  parts.set(VALIDATION_PROBABILITIES_PART, validation);
  parts.set(TEST_PROBABILITIES_PART, test);

  const snapshot: ProjectSnapshot = {
    format: PROJECT_FORMAT,
    schemaVersion: PROJECT_SCHEMA_VERSION,
    name: 'Pets, fine-tuned',
    savedAt: '2025-03-04T05:06:07.000Z',
    studio: { name: 'Transfer Studio', version: '0.1.0' },
    model: {
      name: 'tiny-cnn',
      source: {
        kind: 'files',
        fileName: 'model.json',
        files: modelFiles.map((name, i) => ({ name, file: { part: modelParts[i], bytes: modelBytes[i].length } })),
      },
      sourceHash: 'd'.repeat(64),
      cutLayer: 'conv2',
      head: { pooling: 'max', hiddenUnits: 16, dropout: 0.25 },
      preprocessing: { range: [-1, 1], resize: 'center-crop' },
      freezePlan: { conv1: true, bn1: true, conv2: false },
      batchNormModes: { bn1: 'train-stats', bn2: 'inference' },
    },
    dataset: {
      name: 'pets + more',
      source: 'user',
      fromSample: true,
      classNames,
      images: withFiles,
      rejected: [{ path: 'pets/notes.txt', reason: "'pets/notes.txt' is not an image (it starts like a text file). It was skipped." }],
      validationFraction: 0.2,
      testFraction: 0.1,
      splitSeed: 1234,
    },
    training: {
      config: {
        epochs: 6,
        batchSize: 4,
        learningRate: 0.002,
        seed: 7,
        optimizer: 'sgd',
        schedule: 'cosine',
        earlyStopping: { patience: 3 },
        unfreezeSchedule: [{ epoch: 2, unfreeze: ['conv2', 'bn2'], learningRateFactor: 0.1, label: 'unfreeze block_2' }],
        rateMultipliers: { conv1: 0, conv2: 0.5 },
        augmentation: { flip: true, crop: 0.1, rotation: 10, brightness: 0.2, contrast: 0.05 },
        fromPretrained: false,
        epochsWithoutCache: 5,
      },
      autoEpochs: false,
      scheduleSteps: [
        { epoch: 3, fromBlock: 'block_2', learningRateFactor: 0.1 },
        { epoch: 5, fromBlock: 'stem', learningRateFactor: null },
      ],
      blockMultipliers: { stem: 0, block_2: 0.5 },
    },
    runs: [
      run(1, {
        name: 'Run 1 · head only',
        optimizer: 'adam',
        learningRateSchedule: 'constant',
        epochs: [{ epoch: 0, trainLoss: NaN, trainAccuracy: 0.25, validationLoss: Infinity, validationAccuracy: 0.25, millis: 9 }],
        bestValidationLoss: -Infinity,
        stopped: true,
        fromPretrained: false,
      }),
      run(2, {}),
    ],
    weights: {
      runId: 2,
      classNames,
      modelJson: { part: WEIGHTS_MODEL_JSON_PART, bytes: weights.modelJson.length },
      weightsBin: { part: WEIGHTS_BIN_PART, bytes: weights.weightsBin.length },
      trainedOnIds: [3, 4, 10],
      run: {
        settings: {
          config: { epochs: 6, batchSize: 4, learningRate: 0.002, seed: 7, optimizer: 'sgd', schedule: 'cosine', earlyStopping: { patience: 3 } },
          head: { pooling: 'max', hiddenUnits: 16, dropout: 0.25 },
          preprocessing: { range: [-1, 1], resize: 'center-crop' },
          classNames,
          dataset: { name: 'pets', images: 12, validationFraction: 0.2, splitSeed: 1234 },
          freezePlan: { conv1: true, bn1: true },
          freeze: { kind: 'prefix', frozenBlocks: 1, totalBlocks: 3, frozenLayers: 2, totalLayers: 7, frozenBlockLabels: ['stem'], text: 'stem frozen' },
          trainableParams: 1234,
          unfreezeSchedule: [{ epoch: 2, unfreeze: ['conv2'], learningRateFactor: 0.1, label: 'unfreeze block_2' }],
          autoEpochs: null,
          validationTrainedOn: 1,
          batchesPerEpoch: 3,
        },
        setup: {
          backend: 'webgl',
          optimizerVariables: [{ name: 'conv2/kernel', shape: [3, 3, 4, 8] }],
          trainableParams: 1234,
          featureCache: { used: false, built: false, millis: null, reason: "'conv2' is trained", probes: [{ backend: 'cpu', msPerImage: null }] },
          appliedPlan: { conv1: true, bn1: true, conv2: false },
          config: { epochs: 5, batchSize: 4, learningRate: 0.002, seed: 7, epochsWithoutCache: 5 },
          batchNormOverrides: { bn1: 'train-stats' },
        },
        outcome: {
          stopped: false,
          epochsCompleted: 5,
          batches: 15,
          validationLoss: 0.5,
          validationAccuracy: NaN,
          stoppedEarly: false,
          restoredEpoch: 4,
          failure: null,
          endNote: null,
        },
      },
    },
    evaluation: {
      runId: 2,
      status: 'done',
      classNames,
      validation: { imageIds: [3, 7], labels: [0, 1], probabilities: { part: VALIDATION_PROBABILITIES_PART, bytes: validation.length } },
      test: { imageIds: [10], labels: [1], probabilities: { part: TEST_PROBABILITIES_PART, bytes: test.length } },
      error: 'The test set was predicted on the cpu backend.',
    },
  };
  return { snapshot, parts };
}
