/**
 * Turns the relative paths of a dropped folder into class labels. The layout is
 * `root/class/file`: the first segment is the folder the user dropped, the
 * second names the class. Paths come from `webkitRelativePath` (`digits/5/a.png`)
 * or from a drop walk (`/digits/5/a.png`), so a leading slash is allowed.
 */
import type { DatasetNotice, RejectedFile } from './types';

/** One file that will be read, with its class and its index in the input list. */
export type PlannedEntry = { path: string; className: string; index: number };

/**
 * Where each input path went: `entries` (to read and decode), `rejected` (with a reason),
 * or `ignored` (hidden and system files, dropped silently). `classNames` is sorted by code point.
 */
export type FolderPlan = {
  entries: PlannedEntry[];
  rejected: RejectedFile[];
  notices: DatasetNotice[];
  ignored: string[];
  classNames: string[];
};

const SYSTEM_FILE_NAMES = new Set(['thumbs.db', 'desktop.ini', 'ehthumbs.db', '__macosx']);

/** True for names the OS or a zip tool leaves behind (`.DS_Store`, `._x.png`, `Thumbs.db`, `desktop.ini`, `__MACOSX`). */
export function isHiddenOrSystemName(name: string): boolean {
  return name.startsWith('.') || SYSTEM_FILE_NAMES.has(name.toLowerCase());
}

/** Splits a relative path into its non-empty segments (`/a//b/./c` → `a`, `b`, `c`). */
export function pathSegments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '' && segment !== '.');
}

type RootGroup = { root: string; items: { index: number; path: string; segments: string[] }[]; hasSubfolders: boolean };

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * Plans a folder import: assigns each file under `root/class/…` to `class` (or, when several
 * folders of images are dropped together, each file under `folder/…` to `folder`), folds deeper
 * sub-folders into their class (one warning per sub-folder), and rejects files that are not in
 * a class folder with a reason naming them. Never throws; class names may hold any Unicode and are
 * normalised to NFC, so a composed and a decomposed 'café' are the same class.
 */
export function planFolderImport(files: readonly { path: string }[]): FolderPlan {
  const plan: FolderPlan = { entries: [], rejected: [], notices: [], ignored: [], classNames: [] };
  const roots = new Map<string, RootGroup>();

  files.forEach(({ path }, index) => {
    const segments = pathSegments(path);
    if (segments.some(isHiddenOrSystemName)) {
      plan.ignored.push(path);
      return;
    }
    if (segments.length < 2) {
      const shown = segments[0] ?? path;
      plan.rejected.push({
        path,
        reason: `'${shown}' is not inside a class folder; it was skipped. Add the folder that holds one subfolder per class instead.`,
      });
      return;
    }
    const root = segments[0];
    let group = roots.get(root);
    if (!group) {
      group = { root, items: [], hasSubfolders: false };
      roots.set(root, group);
    }
    group.items.push({ index, path, segments });
    if (segments.length >= 3) group.hasSubfolders = true;
  });

  // Sub-folders below class level, keyed by `root/class/sub`, in order of first appearance.
  const nested = new Map<string, { className: string; count: number }>();
  const classes = new Map<string, { directFiles: number; subfolders: Set<string>; folder: string }>();

  // Several folders of images dropped together (cats/, dogs/): each is a class.
  const classFoldersDropped = roots.size >= 2 && [...roots.values()].every((group) => !group.hasSubfolders);
  const addEntry = (className: string, folder: string, item: { index: number; path: string }) => {
    plan.entries.push({ path: item.path, className, index: item.index });
    let info = classes.get(className);
    if (!info) {
      info = { directFiles: 0, subfolders: new Set(), folder };
      classes.set(className, info);
    }
    return info;
  };

  for (const group of roots.values()) {
    if (classFoldersDropped) {
      const className = group.root.normalize('NFC');
      for (const item of group.items) addEntry(className, group.root, item).directFiles++;
      continue;
    }
    if (!group.hasSubfolders) {
      plan.notices.push({
        level: 'error',
        message: `'${group.root}' has no class subfolders. Make one subfolder per class (e.g. ${group.root}/cats, ${group.root}/dogs) and add the folder again, or drop several class folders together (each becomes a class).`,
      });
      for (const item of group.items) {
        plan.rejected.push({ path: item.path, reason: `'${item.segments.join('/')}' was skipped: '${group.root}' has no class subfolders.` });
      }
      continue;
    }
    for (const item of group.items) {
      const { segments } = item;
      if (segments.length === 2) {
        plan.rejected.push({
          path: item.path,
          reason: `'${segments.join('/')}' lies beside the class folders, not inside one; it was skipped. Put it in a class folder.`,
        });
        continue;
      }
      // NFC: macOS and many zips write 'café' decomposed (NFD), Windows composed; both are one class.
      const className = segments[1].normalize('NFC');
      const info = addEntry(className, `${group.root}/${className}`, item);
      if (segments.length === 3) {
        info.directFiles++;
        continue;
      }
      const subfolder = segments.slice(0, 3).join('/');
      info.subfolders.add(segments[2]);
      const seen = nested.get(subfolder);
      if (seen) seen.count++;
      else nested.set(subfolder, { className, count: 1 });
    }
  }

  for (const [subfolder, { className, count }] of nested) {
    plan.notices.push({
      level: 'warning',
      message: `'${subfolder}' is a folder inside class '${className}'; its ${plural(count, 'file')} ${count === 1 ? 'was' : 'were'} included in class '${className}'.`,
    });
  }

  // A single class made only of sub-folders usually means the user dropped the folder one level too high.
  if (classes.size === 1) {
    const [[className, info]] = classes;
    if (info.directFiles === 0 && info.subfolders.size >= 2) {
      const examples = [...info.subfolders].slice(0, 3).join(', ');
      plan.notices.push({
        level: 'warning',
        message: `'${info.folder}' holds only subfolders (${examples}), so they were merged into the single class '${className}'. If those subfolders are your classes, add the folder '${info.folder}' itself instead.`,
      });
    }
  }

  plan.classNames = [...classes.keys()].sort(compareCodePoints);
  return plan;
}

/** Orders strings by code point, the same on every machine and locale. */
export function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Dataset-level checks once files are decoded, from usable images per class: no classes,
 * a single class (errors), a class with no usable images (error), a class with one image (warning).
 * Notices about individual classes come in code-point order of their names.
 */
export function checkClasses(counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>): DatasetNotice[] {
  const entries = (counts instanceof Map ? [...counts.entries()] : Object.entries(counts)).sort(([a], [b]) => compareCodePoints(a, b));
  const notices: DatasetNotice[] = [];
  if (entries.length === 0) {
    notices.push({
      level: 'error',
      message: 'No classes found. Add a folder that holds one subfolder of images per class (e.g. animals/cats, animals/dogs).',
    });
    return notices;
  }
  if (entries.length === 1) {
    notices.push({
      level: 'error',
      message: `Only one class ('${entries[0][0]}'): training needs at least two classes. Add another class folder.`,
    });
  }
  for (const [className, count] of entries) {
    if (!(count > 0)) {
      notices.push({
        level: 'error',
        message: `Class '${className}' has no usable images. Add images to it (to its folder, or onto its card) or delete the class.`,
      });
    } else if (count < 2) {
      notices.push({
        level: 'warning',
        message: `Class '${className}' has only ${plural(count, 'image')}, so none can be kept for validation. Add more images to it.`,
      });
    }
  }
  return notices;
}
