import { version } from '../../package.json';
import type { StudioClient } from '../client/studioClient';
import { buildExportFiles, buildExportMetadata, exportFileName, zipExportFiles, type ExportContext } from '../core/exportModelFiles';
import { isRunActive, modelSourceLabel } from '../store/selectors';
import type { StudioState, StudioStore } from '../store/store';
import { downloadBlob } from './download';

/** The studio as metadata.json names it. */
export const STUDIO = { name: 'Transfer Studio', version } as const;

/** Why Export is unavailable now, or null when it can run: it needs a run that has ended since the model was loaded. */
export function exportBlocker(state: Pick<StudioState, 'model' | 'runStatus' | 'runOutcome' | 'runSettings'>): string | null {
  if (!state.model) return 'Load a model first.';
  if (isRunActive(state)) return 'Export is possible when the run has ended.';
  if (state.runStatus === 'failed') return 'The last run failed; train again, then export.';
  if (state.runStatus !== 'done' || !state.runOutcome || !state.runSettings) return 'Train first: the export holds the model of the last finished run.';
  return null;
}

/** What metadata.json takes from the store: names, the settings the last run was started with, and its metrics. */
export function exportContext(state: StudioState, exportedAt: Date): ExportContext {
  const blocker = exportBlocker(state);
  if (blocker) throw new Error(blocker);
  const model = state.model!;
  const run = state.runSettings!;
  return {
    studio: STUDIO,
    exportedAt,
    classNames: run.classNames,
    inputShape: model.inputShape,
    preprocessing: run.preprocessing,
    sourceModel: { name: model.name, label: modelSourceLabel(state), sourceHash: model.sourceHash, provenance: model.provenance },
    head: run.head,
    config: state.runSetup?.config ?? run.config,
    backend: state.runSetup?.backend ?? state.backend,
    dataset: run.dataset,
    outcome: state.runOutcome!,
    epochs: state.epochs,
    // What the worker applied and received, not the UI's settings: these are what the run did.
    appliedPlan: state.runSetup?.appliedPlan,
    changes: state.trainableChanges,
    batchNormOverrides: state.runSetup?.batchNormOverrides ?? {},
  };
}

/**
 * Exports the last trained model: the worker serialises it, this thread adds
 * metadata.json from the store, zips model.json + weights.bin +
 * metadata.json, and downloads `<model name>-transfer.zip` through `save`.
 * Resolves with the file name; rejects with a sentence saying what to do.
 */
export async function exportZip(
  client: Pick<StudioClient, 'exportModel'>,
  store: StudioStore,
  save: (blob: Blob, fileName: string) => void = downloadBlob,
): Promise<string> {
  const blocker = exportBlocker(store.getState());
  if (blocker) throw new Error(blocker);
  const artifacts = await client.exportModel();
  const now = new Date();
  const state = store.getState();
  const metadata = buildExportMetadata(artifacts.modelTopology, { ...exportContext(state, now), identicalToSource: artifacts.identicalToSource });
  const zip = zipExportFiles(buildExportFiles(artifacts, metadata), now);
  const fileName = exportFileName(state.model!.name);
  save(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), fileName);
  return fileName;
}
