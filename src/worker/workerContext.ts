/** What the worker side holds and needs: the reply channel, its surroundings, its models, the audit, the backend, the run in progress. */
import type { createTrainingBackendPicker } from '../engine/forwardBackend';
import type { ModelOpenResult } from '../engine/modelSources';
import type { TransferSession } from '../engine/transferSession';
import type { AuditSession } from './auditSession';
import type { BackendName, BackendPreference, ModelSource, WorkerReply } from './protocol';
import type { RunControl } from './runControl';

/** Sends a reply to the main thread, transferring the listed buffers. */
export type Post = (reply: WorkerReply, transfer?: Transferable[]) => void;

/** What the worker needs from its surroundings; the worker entry passes the real ones, tests pass fakes. */
export interface WorkerDeps {
  selectBackend(preference: BackendPreference, allowSoftwareWebgl: boolean): Promise<{ backend: BackendName; notes: string[] }>;
  /** Opens a model (engine/modelSources.ts openModel): a bad file is a result with a code, not a throw. */
  loadModel(source: ModelSource): Promise<ModelOpenResult>;
  /** The backends a run is timed on besides the active one (default: those of TRAIN_CANDIDATES that could start here). */
  trainingCandidates?: () => string[];
  /** Minimum milliseconds between two `batches` messages (coalescing). */
  batchFlushMs?: number;
}

/** What the worker side holds: its models, the audit, the backend, and the run in progress. */
export interface WorkerContext {
  post: Post;
  deps: WorkerDeps;
  models: TransferSession;
  audit: AuditSession;
  backend: BackendName | null;
  /** What init asked for: only 'auto' lets a run move to the backend it measured fastest. */
  preference: BackendPreference;
  pickTrainingBackend: ReturnType<typeof createTrainingBackendPicker>;
  active: RunControl | null;
}
