import type * as tf from '@tensorflow/tfjs';
import { captureWeights, compareSnapshots, relativeUpdates, type WeightSnapshot } from '../engine/audit';
import type { BatchNormOverrides, FreezePlan, UnfreezeStep } from '../engine/types';
import type { WorkerReply } from './protocol';
import { toWireError } from './wire';

/** What the audit needs to know of a run when it starts. */
export interface AuditRunStart {
  runId: number;
  model: tf.LayersModel;
  plan: FreezePlan;
  /** The studio's head: always trained, never audited as frozen. */
  headLayers: ReadonlySet<string>;
  unfreezeSchedule?: readonly UnfreezeStep[];
  batchNormOverrides?: BatchNormOverrides;
}

/** The freeze audit of the worker: the last run's start snapshot and which layers it kept frozen throughout. */
export interface AuditSession {
  /** Captures the start snapshot (await it before the first step) and records the layers frozen by the plan. */
  runStarting(start: AuditRunStart): Promise<void>;
  /** A live plan arrived for the active run: layers it trains are no longer audited as frozen. */
  planChanged(runId: number, plan: FreezePlan, batchNormOverrides?: BatchNormOverrides): void;
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
  start: WeightSnapshot;
  /** Frozen by the plan at the start and by every live plan since, and never unfrozen by the schedule. */
  frozen: Set<string>;
  statisticsMayChange: Set<string>;
  pending: Promise<void>[];
}

/** Layers `plan` freezes, less the head. */
function frozenByPlan(plan: FreezePlan, headLayers: ReadonlySet<string>): Set<string> {
  return new Set(Object.keys(plan).filter((name) => plan[name] === true && !headLayers.has(name)));
}

/** Creates the audit half of the worker session, answering through `post`. */
export function createAuditSession(post: (reply: WorkerReply) => void): AuditSession {
  let run: AuditedRun | null = null;
  // Live plans that arrive while a run is still being set up (before its start snapshot): applied when it starts.
  let early: { runId: number; plan: FreezePlan; batchNormOverrides?: BatchNormOverrides }[] = [];

  function applyPlan(target: AuditedRun, plan: FreezePlan, batchNormOverrides?: BatchNormOverrides): void {
    for (const name of [...target.frozen]) if (plan[name] !== true) target.frozen.delete(name);
    for (const name of Object.keys(batchNormOverrides ?? {})) target.statisticsMayChange.add(name);
  }

  return {
    async runStarting({ runId, model, plan, headLayers, unfreezeSchedule, batchNormOverrides }) {
      run = null;
      const frozen = frozenByPlan(plan, headLayers);
      // A scheduled unfreeze may or may not be reached: such a layer is not held to 0.
      for (const step of unfreezeSchedule ?? []) for (const name of step.unfreeze) frozen.delete(name);
      const start = await captureWeights(model);
      run = { runId, model, start, frozen, statisticsMayChange: new Set(Object.keys(batchNormOverrides ?? {})), pending: [] };
      for (const change of early) if (change.runId === runId) applyPlan(run, change.plan, change.batchNormOverrides);
      early = [];
    },

    planChanged(runId, plan, batchNormOverrides) {
      if (run?.runId === runId) applyPlan(run, plan, batchNormOverrides);
      else if (run === null || runId > run.runId) early.push({ runId, plan, batchNormOverrides });
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
        post({ type: 'audit', runId, requestId: null, report: compareSnapshots(current.start, end, current.frozen, 'run-end', current.statisticsMayChange) });
      } catch {
        // A failed read must not fail a finished run: the UI offers Verify, which reads again and reports the error.
      }
    },

    async verify(requestId) {
      const current = run;
      if (!current) {
        post({ type: 'requestFailed', requestId, error: { name: 'NoRun', message: 'No run to verify since this model was loaded. Press Train first; Verify then compares the weights with those at the start of the run.' } });
        return;
      }
      try {
        const now = await captureWeights(current.model);
        post({ type: 'audit', runId: current.runId, requestId, report: compareSnapshots(current.start, now, current.frozen, 'verify', current.statisticsMayChange) });
      } catch (error) {
        post({ type: 'requestFailed', requestId, error: toWireError(error) });
      }
    },

    reset() {
      run = null;
      early = [];
    },
  };
}
