/**
 * How long an object URL outlives the click that started its download.
 * Revoking at once can cancel the download in some browsers; FileSaver.js
 * waits 40 s for the same reason.
 */
const REVOKE_AFTER_MS = 40_000;

/**
 * Saves `blob` as `fileName` through a temporary `<a download>` and an object
 * URL. Main thread only: a worker has no document (TFJS-FACTS #15).
 */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  try {
    link.click();
  } finally {
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  }
}
