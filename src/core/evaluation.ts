/**
 * Classification metrics from predicted probabilities, on the CPU side (no tfjs): accuracy, the
 * confusion matrix, per-class precision / recall / F1, macro averages, the members of a confusion
 * cell ordered "largest mistakes first", and top-k.
 *
 * 0/0 rules (the UI shows null as "—"):
 * - precision of a class that is never predicted (TP + FP = 0) is null;
 * - recall of a class with no image in the set (support 0) is null;
 * - F1 is 2·TP / (2·TP + FP + FN), so it is 0, not null, for a class that is present but never
 *   predicted (recall 0 makes the harmonic mean 0 whatever the precision); null only for a class that
 *   is neither present nor predicted;
 * - accuracy of an empty set is null;
 * - a macro average is the mean over the classes whose value is not null (null if there is none).
 * The predicted class of a row is its arg-max; ties go to the lower class index (as tf.argMax does).
 */

/** Precision, recall and F1 of one class (null where 0/0, see the file header), its support and how often it was predicted. */
export interface ClassMetrics {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  /** Images of this class in the set (the confusion row's sum). */
  support: number;
  /** Images predicted as this class (the confusion column's sum). */
  predicted: number;
}

/** Everything the evaluation panel shows for one set of images. */
export interface EvaluationReport {
  /** Number of images. */
  count: number;
  numClasses: number;
  /** Images whose arg-max equals their label. */
  correct: number;
  /** correct / count in [0, 1]; null for an empty set. */
  accuracy: number | null;
  /** numClasses × numClasses counts: row = true class, column = predicted class. */
  confusion: number[][];
  perClass: ClassMetrics[];
  /** Unweighted means over the classes whose value is defined (see the file header). */
  macro: { precision: number | null; recall: number | null; f1: number | null };
}

/** One class and its probability, for top-k lists. */
export interface ClassProbability {
  classIndex: number;
  probability: number;
}

function checkShape(probabilities: ArrayLike<number>, count: number, numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`numClasses must be a positive integer, got ${numClasses}.`);
  if (probabilities.length !== count * numClasses) {
    throw new Error(`Expected ${count} × ${numClasses} = ${count * numClasses} probabilities (one row per label), got ${probabilities.length}.`);
  }
}

function checkLabel(label: number, row: number, numClasses: number): void {
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    throw new Error(`Label of row ${row} must be an integer in [0, ${numClasses}), got ${label}.`);
  }
}

/** The arg-max class of each row of `probabilities` ([rows × numClasses], row-major); ties go to the lower index. */
export function predictedClasses(probabilities: ArrayLike<number>, numClasses: number): Int32Array {
  const rows = Math.floor(probabilities.length / numClasses);
  checkShape(probabilities, rows, numClasses);
  const predicted = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probabilities[row * numClasses + c] > probabilities[row * numClasses + best]) best = c;
    predicted[row] = best;
  }
  return predicted;
}

function mean(values: (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : defined.reduce((a, b) => a + b, 0) / defined.length;
}

/**
 * Accuracy, confusion matrix (row = true class, column = predicted) and per-class metrics of
 * `probabilities` ([labels.length × numClasses] float, row-major) against `labels` (class indices).
 * Throws when the sizes disagree or a label is outside [0, numClasses).
 */
export function evaluatePredictions(probabilities: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): EvaluationReport {
  checkShape(probabilities, labels.length, numClasses);
  const predicted = predictedClasses(probabilities, numClasses);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let correct = 0;
  for (let row = 0; row < labels.length; row++) {
    checkLabel(labels[row], row, numClasses);
    confusion[labels[row]][predicted[row]]++;
    if (labels[row] === predicted[row]) correct++;
  }
  const perClass: ClassMetrics[] = confusion.map((confusionRow, c) => {
    const tp = confusionRow[c];
    const support = confusionRow.reduce((a, b) => a + b, 0);
    const predictedCount = confusion.reduce((sum, r) => sum + r[c], 0);
    const fp = predictedCount - tp;
    const fn = support - tp;
    return {
      precision: predictedCount === 0 ? null : tp / predictedCount,
      recall: support === 0 ? null : tp / support,
      f1: 2 * tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn),
      support,
      predicted: predictedCount,
    };
  });
  return {
    count: labels.length,
    numClasses,
    correct,
    accuracy: labels.length === 0 ? null : correct / labels.length,
    confusion,
    perClass,
    macro: { precision: mean(perClass.map((m) => m.precision)), recall: mean(perClass.map((m) => m.recall)), f1: mean(perClass.map((m) => m.f1)) },
  };
}

/**
 * The rows (indices into `labels`) of confusion cell (trueClass, predictedClass), largest mistakes
 * first: ordered by the probability given to the true class, ascending (= 1 − p(true), or the
 * cross-entropy loss, descending — the order the model is penalised in). On the diagonal this lists
 * the least confident correct answers first. Ties: higher p(predictedClass) first, then row order.
 */
export function cellMembers(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
  trueClass: number,
  predictedClass: number,
): number[] {
  checkShape(probabilities, labels.length, numClasses);
  const predicted = predictedClasses(probabilities, numClasses);
  const rows: number[] = [];
  for (let row = 0; row < labels.length; row++) if (labels[row] === trueClass && predicted[row] === predictedClass) rows.push(row);
  const p = (row: number, c: number) => probabilities[row * numClasses + c];
  return rows.sort((a, b) => p(a, trueClass) - p(b, trueClass) || p(b, predictedClass) - p(a, predictedClass) || a - b);
}

/** The `k` most probable classes of one row of probabilities, most probable first (ties: lower index first); k is clamped to the row's length. */
export function topK(probs: ArrayLike<number>, k: number): ClassProbability[] {
  if (!(k >= 0)) throw new Error(`k must be 0 or more, got ${k}.`);
  return Array.from(probs, (probability, classIndex) => ({ classIndex, probability }))
    .sort((a, b) => b.probability - a.probability || a.classIndex - b.classIndex)
    .slice(0, Math.floor(k));
}

/** Row `row` of a [rows × numClasses] probability matrix, as a view (no copy). */
export function probabilityRow(probabilities: Float32Array, numClasses: number, row: number): Float32Array {
  return probabilities.subarray(row * numClasses, (row + 1) * numClasses);
}
