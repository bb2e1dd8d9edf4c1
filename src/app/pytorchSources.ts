/**
 * The Python half of the PyTorch project, as the build holds it: pytorch/train.py, the transfer_studio_torch
 * package and README.bundle.md as text (Vite's `?raw`, also in Vitest), the file list pytorch/bundle-files.json
 * names, and the layer classes and activations its interpreter builds (pytorch/supported-layers.json).
 */
import type { BundleFile } from '../core/pytorchBundle';

// The sources (~100 KB) load on the first export, in a chunk of their own; the two small lists are in the app.
const SOURCES = import.meta.glob(['../../pytorch/train.py', '../../pytorch/transfer_studio_torch/*.py', '../../pytorch/README.bundle.md'], {
  query: '?raw',
  import: 'default',
}) as Record<string, () => Promise<string>>;
const META = import.meta.glob(['../../pytorch/bundle-files.json', '../../pytorch/supported-layers.json'], { query: '?raw', import: 'default', eager: true });
const ROOT = '../../pytorch/';

/** pytorch/bundle-files.json: the files of the zip relative to pytorch/, and the README template and its name in the zip. */
interface BundleFileList {
  files: string[];
  readme: string;
  readmeInZip: string;
}

function parsed<T>(name: string): T | null {
  const text = META[`${ROOT}${name}`] as string | undefined;
  return text === undefined ? null : (JSON.parse(text) as T);
}

/** The interpreter's layer classes and activations; empty lists when pytorch/supported-layers.json is missing from the build. */
export const PYTORCH_SUPPORT: { classes: string[]; activations: string[] } = (() => {
  const json = parsed<{ SUPPORTED_LAYER_CLASSES?: string[]; activations?: string[] }>('supported-layers.json');
  return { classes: json?.SUPPORTED_LAYER_CLASSES ?? [], activations: json?.activations ?? [] };
})();

/**
 * The zip's README.md and Python files, in bundle-files.json's order (loaded on first use). Rejects naming the file
 * when the build lacks one it lists (or the list itself): the build is broken, not the user's input.
 */
export async function pytorchSources(): Promise<BundleFile[]> {
  const list = parsed<BundleFileList>('bundle-files.json');
  if (!list) throw new Error('This build has no pytorch/bundle-files.json, so it cannot write the PyTorch project.');
  const named = [{ source: list.readme, path: list.readmeInZip }, ...list.files.map((path) => ({ source: path, path }))];
  return Promise.all(
    named.map(async ({ source, path }) => {
      const load = SOURCES[`${ROOT}${source}`];
      if (!load) throw new Error(`This build lacks pytorch/${source}, which pytorch/bundle-files.json names.`);
      return { path, content: await load() };
    }),
  );
}
