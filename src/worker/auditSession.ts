import type * as tf from '@tensorflow/tfjs';
import { leafLayers } from '../engine/freeze';
import { captureWeights, compareSnapshots, relativeUpdates, type WeightSnapshot } from '../engine/audit';
import { runsInTrainingMode } from '../engine/frozenLayers';
import type { WorkerReply } from './protocol';
import { toWireError } from './wire';

/** What the audit needs to know of a run when it starts: the model with the run's plan and BatchNorm modes already applied. */
export interface AuditRunStart {
  runId: number;
  model: tf.LayersModel;
  /** The studio's head: always trained, never audited as frozen. */
  headLayers: ReadonlySet<string>;
}

/** The freeze audit of the worker: the last run's start snapshot and which layers it kept frozen throughout. */
export interface AuditSession {
  /** Captures the start snapshot (await it before the first step) and records the layers the applied plan froze. */
  runStarting(start: AuditRunStart): Promise<void>;
  /**
   * The trainer applied a change of the trainable set (a schedule step or a live plan, at a batch
   * boundary): layers that train now, or run BatchNorm in training mode, are no longer held to 0.
   * Only what the trainer applied counts: a step never reached or an edit after the last batch holds nothing.
   */
  trainableChanged(runId: number): void;
  /** Posts ‖ΔW‖/‖W‖ per layer after an epoch; the reads start at once, so they see the epoch's end. */
  epochEnded(runId: number, epoch: number): void;
  /** Captures the end of the run, compares it with the start and posts the audit. */
  runEnded(runId: number): Promise<void>;
  /** Re-reads every weight and posts the audit against the last run's start, answering `requestId`. */
  verify(requestId: number): Promise<void>;
  /** Forgets the last run (a new model was loaded). */
  reset(): void;
}

interface AuditedRun {
  runId: number;
  model: tf.LayersModel;
  headLayers: ReadonlySet<string>;
  start: WeightSnapshot;
  /** Layers with weights frozen by the applied plan at the start and by every change since. */
  frozen: Set<string>;
  /** Layers that ran in training mode at some point (for BatchNorm: used and updated batch statistics). */
  ranInTrainingMode: Set<string>;
  /** The BatchNorm layers among the audited ones. */
  batchNorms: Set<string>;
  pending: Promise<void>[];
}

/** Every leaf layer of `model` that has weights (nested models opened), the head left out. */
function weightedLayers(model: tf.LayersModel, headLayers: ReadonlySet<string>): tf.layers.Layer[] {
  return leafLayers(model).filter((layer) => !headLayers.has(layer.name) && layer.weights.length > 0);
}

/** Records what the model's flags and BatchNorm modes say now: a layer trained now is no longer frozen. */
function observe(run: AuditedRun): void {
  for (const layer of weightedLayers(run.model, run.headLayers)) {
    if (layer.trainable) run.frozen.delete(layer.name);
    if (runsInTrainingMode(layer)) run.ranInTrainingMode.add(layer.name);
  }
}

/** The audit of `current` against `end`: frozen layers must be bit-identical; BN statistics per the modes the run used. */
function auditReport(current: AuditedRun, end: WeightSnapshot, when: 'run-end' | 'verify') {
  const moved = current.ranInTrainingMode;
  // Frozen BN layers that trained their statistics ('train-stats') may have moved them; trained BN layers that
  // never left inference mode ('inference') must have kept them.
  const statisticsMayChange = new Set([...current.frozen].filter((name) => moved.has(name)));
  const statisticsFixed = new Set([...current.batchNorms].filter((name) => !current.frozen.has(name) && !moved.has(name)));
  return compareSnapshots(current.start, end, current.frozen, when, statisticsMayChange, statisticsFixed);
}

/** A run as the audit starts it: its start snapshot and the layers the applied plan froze. */
async function startAudit({ runId, model, headLayers }: AuditRunStart): Promise<AuditedRun> {
  const start = await captureWeights(model);
  const layers = weightedLayers(model, headLayers);
  const run: AuditedRun = {
    runId,
    model,
    headLayers,
    start,
    frozen: new Set(layers.filter((l) => !l.trainable).map((l) => l.name)),
    ranInTrainingMode: new Set(),
    batchNorms: new Set(layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.name)),
    pending: [],
  };
  observe(run);
  return run;
}

const NO_RUN_MESSAGE = 'No run to verify since this model was loaded. Press Train first; Verify then compares the weights with those at the start of the run.';

/** Creates the audit half of the worker session, answering through `post`. */
export function createAuditSession(post: (reply: WorkerReply) => void): AuditSession {
  let run: AuditedRun | null = null;

  return {
    async runStarting(start) {
      run = null;
      run = await startAudit(start);
    },

    trainableChanged(runId) {
      if (run?.runId === runId) observe(run);
    },

    epochEnded(runId, epoch) {
      const current = run;
      if (current?.runId !== runId) return;
      const reading = relativeUpdates(current.start, current.model).then(
        (updates) => post({ type: 'layerUpdates', runId, epoch, updates }),
        () => {}, // bars are a view; the audit at the end reads again and reports errors
      );
      current.pending.push(reading);
    },

    async runEnded(runId) {
      const current = run;
      if (current?.runId !== runId) return;
      await Promise.all(current.pending);
      current.pending = [];
      try {
        const end = await captureWeights(current.model);
        post({ type: 'audit', runId, requestId: null, report: auditReport(current, end, 'run-end') });
      } catch {
        // A failed read must not fail a finished run: the UI offers Verify, which reads again and reports the error.
      }
    },

    async verify(requestId) {
      const current = run;
      if (!current) {
        post({ type: 'requestFailed', requestId, error: { name: 'NoRun', message: NO_RUN_MESSAGE } });
        return;
      }
      try {
        const now = await captureWeights(current.model);
        post({ type: 'audit', runId: current.runId, requestId, report: auditReport(current, now, 'verify') });
      } catch (error) {
        post({ type: 'requestFailed', requestId, error: toWireError(error) });
      }
    },

    reset() {
      run = null;
    },
  };
}
