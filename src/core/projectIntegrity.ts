/**
 * What a checked project manifest must also agree with itself on: every binary part it names (once),
 * classes and image ids that the evaluation and the weights point at, probability sizes that match their
 * images and classes. Each problem is a sentence naming the fields and quoting the values.
 */
import type { ProjectHeldOut, ProjectPartRef, ProjectSnapshot } from './project';

/** One binary part a manifest names, with the field that names it (`dataset.images[3].file`). */
export interface NamedPart extends ProjectPartRef {
  field: string;
}

/** Every binary part `snapshot` names, in manifest order: model files, dataset files, weights, probabilities. */
export function projectPartRefs(snapshot: ProjectSnapshot): NamedPart[] {
  const parts: NamedPart[] = [];
  const source = snapshot.model?.source;
  if (source?.kind === 'files') source.files.forEach((f, i) => parts.push({ ...f.file, field: `model.source.files[${i}].file` }));
  snapshot.dataset.images.forEach((image, i) => {
    if (image.file) parts.push({ ...image.file, field: `dataset.images[${i}].file` });
  });
  if (snapshot.weights) {
    parts.push({ ...snapshot.weights.modelJson, field: 'weights.modelJson' }, { ...snapshot.weights.weightsBin, field: 'weights.weightsBin' });
  }
  for (const set of ['validation', 'test'] as const) {
    const probabilities = snapshot.evaluation?.[set]?.probabilities;
    if (probabilities) parts.push({ ...probabilities, field: `evaluation.${set}.probabilities` });
  }
  return parts;
}

const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

function firstDuplicate<T>(items: readonly T[]): [number, number] | null {
  const seen = new Map<T, number>();
  for (let i = 0; i < items.length; i++) {
    const earlier = seen.get(items[i]);
    if (earlier !== undefined) return [earlier, i];
    seen.set(items[i], i);
  }
  return null;
}

function datasetProblem(snapshot: ProjectSnapshot): string | null {
  const { dataset } = snapshot;
  const names = firstDuplicate(dataset.classNames);
  if (names) return `Class '${dataset.classNames[names[1]]}' is listed twice in dataset.classNames (at ${names[0]} and ${names[1]}).`;
  const ids = firstDuplicate(dataset.images.map((image) => image.id));
  if (ids) return `dataset.images[${ids[0]}] and dataset.images[${ids[1]}] have the same id ${dataset.images[ids[1]].id}.`;
  const classes = new Set(dataset.classNames);
  for (const [i, image] of dataset.images.entries()) {
    if (!classes.has(image.className)) {
      return `dataset.images[${i}] ('${image.path}') is in class '${image.className}', which is not one of dataset.classNames (${quoted(dataset.classNames)}).`;
    }
    if (image.file === null && dataset.source !== 'sample' && !dataset.fromSample) {
      return `dataset.images[${i}] ('${image.path}') has no file, but only images of the built-in sample may come without one.`;
    }
  }
  if (!(dataset.validationFraction + dataset.testFraction < 1)) {
    return `dataset.validationFraction ${dataset.validationFraction} and dataset.testFraction ${dataset.testFraction} add up to 1 or more; nothing would be left to train on.`;
  }
  return null;
}

function heldOutProblem(set: ProjectHeldOut, field: string, classCount: number, imageIds: ReadonlySet<number>): string | null {
  if (set.labels.length !== set.imageIds.length) return `${field} has ${set.imageIds.length} image ids but ${set.labels.length} labels.`;
  const label = set.labels.findIndex((l) => l >= classCount);
  if (label >= 0) return `${field}.labels[${label}] is ${set.labels[label]}, but the evaluation has ${classCount} classes (labels 0 to ${classCount - 1}).`;
  const missing = set.imageIds.findIndex((imageId) => !imageIds.has(imageId));
  if (missing >= 0) return `${field}.imageIds[${missing}] is ${set.imageIds[missing]}, which is no image of dataset.images.`;
  const bytes = set.imageIds.length * classCount * 4;
  if (set.probabilities && set.probabilities.bytes !== bytes) {
    return `${field}.probabilities.bytes is ${set.probabilities.bytes}, but ${set.imageIds.length} images × ${classCount} classes of float32 take ${bytes} bytes.`;
  }
  return null;
}

function runsProblem(snapshot: ProjectSnapshot): string | null {
  const runs = firstDuplicate(snapshot.runs.map((run) => run.runId));
  if (runs) return `runs[${runs[0]}] and runs[${runs[1]}] are both run ${snapshot.runs[runs[1]].runId}.`;
  const { weights, evaluation } = snapshot;
  if (weights && !snapshot.model) return 'The project has trained weights (weights) but no model (model is null).';
  if (weights && weights.classNames.length === 0) return 'weights.classNames is empty; trained weights have at least one class.';
  if (weights?.run && weights.run.settings.classNames.join('\u0000') !== weights.classNames.join('\u0000'))
    return `weights.run.settings.classNames (${JSON.stringify(weights.run.settings.classNames)}) are not the weights' classes (${JSON.stringify(weights.classNames)}).`;
  if (!evaluation) return null;
  const imageIds = new Set(snapshot.dataset.images.map((image) => image.id));
  for (const set of ['validation', 'test'] as const) {
    const heldOut = evaluation[set];
    const problem = heldOut && heldOutProblem(heldOut, `evaluation.${set}`, evaluation.classNames.length, imageIds);
    if (problem) return problem;
  }
  return null;
}

/** The first way `snapshot`'s fields contradict each other, as a sentence; null when they agree. */
export function projectInconsistency(snapshot: ProjectSnapshot): string | null {
  const source = snapshot.model?.source;
  if (source?.kind === 'files') {
    if (source.files.length === 0) return 'model.source.files is empty; an imported model needs its files (model.json and its weights).';
    const names = firstDuplicate(source.files.map((f) => f.name));
    if (names) return `model.source.files[${names[0]}] and model.source.files[${names[1]}] are both named '${source.files[names[1]].name}'.`;
  }
  const parts = projectPartRefs(snapshot);
  const twice = firstDuplicate(parts.map((p) => p.part));
  if (twice) return `Part '${parts[twice[1]].part}' is named twice, by ${parts[twice[0]].field}.part and ${parts[twice[1]].field}.part.`;
  return datasetProblem(snapshot) ?? runsProblem(snapshot);
}
