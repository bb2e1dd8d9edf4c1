/**
 * The Python half of the PyTorch project, as the build holds it: pytorch/train.py, the transfer_studio_torch
 * package and README.bundle.md as text (Vite's `?raw`, also in Vitest), the file list pytorch/bundle-files.json
 * names, and the layer classes and activations its interpreter builds (pytorch/supported-layers.json).
 */
import type { BundleFile } from '../core/pytorchBundle';

const PYTHON = import.meta.glob(['../../pytorch/train.py', '../../pytorch/transfer_studio_torch/*.py'], { query: '?raw', import: 'default', eager: true });
const META = import.meta.glob(['../../pytorch/bundle-files.json', '../../pytorch/supported-layers.json', '../../pytorch/README.bundle.md'], {
  query: '?raw',
  import: 'default',
  eager: true,
});
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
 * The zip's Python files and README.md, in bundle-files.json's order. Throws naming the file when the build lacks one
 * it lists (or the list itself): the build is broken, not the user's input.
 */
export function pytorchSources(): BundleFile[] {
  const list = parsed<BundleFileList>('bundle-files.json');
  if (!list) throw new Error('This build has no pytorch/bundle-files.json, so it cannot write the PyTorch project.');
  const readme = META[`${ROOT}${list.readme}`] as string | undefined;
  if (readme === undefined) throw new Error(`This build lacks pytorch/${list.readme}, which pytorch/bundle-files.json names.`);
  const files: BundleFile[] = [{ path: list.readmeInZip, content: readme }];
  for (const path of list.files) {
    const text = PYTHON[`${ROOT}${path}`] as string | undefined;
    if (text === undefined) throw new Error(`This build lacks pytorch/${path}, which pytorch/bundle-files.json names.`);
    files.push({ path, content: text });
  }
  return files;
}
