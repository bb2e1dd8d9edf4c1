/** A file found in a drop or a folder pick, with its path relative to what was dropped. */
export interface DroppedFile {
  path: string;
  blob: Blob;
}

function readAllEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries returns at most ~100 entries per call: call until it returns none.
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: DroppedFile[], emptyFolders: string[]): Promise<void> {
  const path = entry.fullPath.replace(/^\//, '');
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path, blob: file });
    return;
  }
  if (entry.isDirectory) {
    const children = await readAllEntries((entry as FileSystemDirectoryEntry).createReader());
    if (children.length === 0) emptyFolders.push(path);
    for (const child of children) await walk(child, out, emptyFolders);
  }
}

/**
 * Every file under the dropped items, walking folders recursively; also the
 * folders that turned out empty (a folder picker never reports those).
 */
export async function filesFromDrop(transfer: DataTransfer): Promise<{ files: DroppedFile[]; emptyFolders: string[] }> {
  const entries = Array.from(transfer.items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((entry): entry is FileSystemEntry => entry != null);
  const files: DroppedFile[] = [];
  const emptyFolders: string[] = [];
  if (entries.length === 0) {
    for (const file of Array.from(transfer.files)) files.push({ path: file.name, blob: file });
    return { files, emptyFolders };
  }
  for (const entry of entries) await walk(entry, files, emptyFolders);
  return { files, emptyFolders };
}

/** The files of an `<input webkitdirectory>` pick, keyed by their relative paths. */
export function filesFromPicker(list: FileList): DroppedFile[] {
  return Array.from(list, (file) => ({ path: file.webkitRelativePath || file.name, blob: file }));
}
