/**
 * *Import model* of a train.py result folder (out/: model.json + weights.bin + metadata.json), issue 14. A
 * metadata.json with `trainedWith.framework === 'pytorch'` marks a run of one of the studio's PyTorch exports:
 * - when the loaded model is the one the export was made from (the recipe's sourceHash), it stays loaded, the run joins
 *   *Compare runs* as a PyTorch run, and out/weights.bin is audited by weight name against that model as loaded;
 * - otherwise out/ is loaded as the model (a trained tfjs model like any other), its run starts the new history, and the
 *   audit says which model to load to compare against.
 */
import type { StudioClient } from '../client/studioClient';
import type { WeightSpec } from '../core/exportModelFiles';
import {
  auditPytorchRun,
  isPytorchRunMetadata,
  pytorchRunRecord,
  readPytorchRun,
  weightBytesProblem,
  type NamedWeightBytes,
  type PytorchRun,
} from '../core/pytorchRun';
import { transferLayers } from '../store/selectors';
import type { StudioStore } from '../store/store';

/** What the picked files hold when they are a PyTorch result. */
interface PickedRun {
  run: PytorchRun;
  weights: NamedWeightBytes;
}

const byName = (files: readonly File[], name: string) => files.find((f) => f.name.toLowerCase() === name.toLowerCase());

/** The result's weights: model.json's manifest and its weight files concatenated in manifest order; a named error otherwise. */
async function resultWeights(files: readonly File[]): Promise<NamedWeightBytes> {
  const modelFile = files.find((f) => f.name.toLowerCase().endsWith('.json') && f.name.toLowerCase() !== 'metadata.json');
  if (!modelFile) throw new Error('The PyTorch result has no model.json: pick out/model.json, out/weights.bin and out/metadata.json together.');
  let json: { weightsManifest?: { paths: string[]; weights: WeightSpec[] }[] };
  try {
    json = JSON.parse(await modelFile.text()) as typeof json;
  } catch (error) {
    throw new Error(`'${modelFile.name}' of the PyTorch result is not valid JSON (${(error as Error).message}). Copy out/ again.`, { cause: error });
  }
  const groups = json.weightsManifest ?? [];
  const buffers: Uint8Array[] = [];
  for (const path of groups.flatMap((g) => g.paths)) {
    const file = byName(files, path.split('/').pop()!);
    if (!file) throw new Error(`'${modelFile.name}' names the weight file '${path}', which was not picked. Pick it with model.json and metadata.json.`);
    buffers.push(new Uint8Array(await file.arrayBuffer()));
  }
  const data = new Uint8Array(buffers.reduce((sum, b) => sum + b.length, 0));
  let offset = 0;
  for (const buffer of buffers) {
    data.set(buffer, offset);
    offset += buffer.length;
  }
  const weights = { weightSpecs: groups.flatMap((g) => g.weights), weightData: data.buffer };
  const problem = weightBytesProblem(weights, groups.flatMap((g) => g.paths).join("', '") || 'weights.bin');
  if (problem) throw new Error(problem);
  return weights;
}

/** The PyTorch run among the picked files, or null when they are not one (no metadata.json, or not trained with PyTorch). */
async function pickedRun(files: readonly File[]): Promise<PickedRun | null> {
  const metadataFile = byName(files, 'metadata.json');
  if (!metadataFile) return null;
  let json: unknown;
  try {
    json = JSON.parse(await metadataFile.text());
  } catch {
    return null; // the model loader reports what is wrong with the files
  }
  if (!isPytorchRunMetadata(json)) return null;
  const read = readPytorchRun(json, metadataFile.name);
  if (!read.ok) throw new Error(read.reason);
  return { run: read.run, weights: await resultWeights(files) };
}

/** Adds `run` to Compare runs as the next run and records its audit (or why there is none). */
function recordRun(store: StudioStore, picked: PickedRun, audit: ReturnType<typeof auditPytorchRun> | null, note: string): void {
  const state = store.getState();
  const runId = Math.max(state.runId, ...state.runs.map((r) => r.runId)) + 1;
  const record = pytorchRunRecord(picked.run, runId, transferLayers(state));
  state.runsRestored([...state.runs, record]);
  state.pytorchRunImported({ runId, name: record.name, torch: picked.run.torch, processes: picked.run.processes, audit, note });
}

/**
 * Handles the picked files when they are a PyTorch result and answers true; false when they are not one (the
 * caller imports them as a model). A bad result is shown as the model error, keeping the current model.
 * `loadAsModel` imports the files as a model (app/studio.ts's path) and resolves true when it loaded.
 */
export async function importPytorchRun(
  files: readonly File[],
  client: Pick<StudioClient, 'readSourceWeights'>,
  store: StudioStore,
  loadAsModel: () => Promise<boolean>,
): Promise<boolean> {
  let picked: PickedRun | null;
  try {
    picked = await pickedRun(files);
  } catch (error) {
    store.getState().modelFailed((error as Error).message);
    return true;
  }
  if (!picked) return false;
  const loaded = store.getState().model;
  if (loaded && picked.run.sourceHash !== null && loaded.sourceHash === picked.run.sourceHash) {
    let audit: ReturnType<typeof auditPytorchRun>;
    try {
      audit = auditPytorchRun(picked.run, (await client.readSourceWeights()).weights, picked.weights);
    } catch (error) {
      store.getState().modelFailed(`The PyTorch run could not be audited against '${loaded.name}': ${(error as Error).message}`);
      return true;
    }
    const note = `out/weights.bin compared by weight name with '${loaded.name}' as loaded, the model the PyTorch project was exported from. The loaded model stays; import model.json and weights.bin without metadata.json to load the PyTorch weights as the model.`;
    recordRun(store, picked, audit, note);
    return true;
  }
  if (!(await loadAsModel())) return true;
  const note = `The loaded model is not the one the PyTorch project was exported from ('${picked.run.modelName}'${picked.run.sourceHash ? `, SHA-256 ${picked.run.sourceHash.slice(0, 12)}…` : ''}), so its frozen layers cannot be compared. Load that model, then import out/ again.`;
  recordRun(store, picked, null, note);
  return true;
}
