import { useEffect, useState } from 'react';
import { addImagesToClass, pastedFileName } from './classImages';

/** True when the focused element takes typed text, where a paste belongs to it. */
function isTextTarget(element: Element | null): boolean {
  if (!element) return false;
  if (element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) return true;
  if (element instanceof HTMLInputElement) return !['button', 'checkbox', 'radio', 'file', 'range', 'color', 'submit', 'reset'].includes(element.type);
  return (element as HTMLElement).isContentEditable === true;
}

/**
 * Listens for `paste` on the document and adds the clipboard's images to `target` (null: ignore),
 * unless the focus is in a text field. Returns what the last paste did, for a status line.
 */
export function usePasteIntoClass(target: string | null): string | null {
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    if (target === null) return;
    const onPaste = (event: ClipboardEvent) => {
      if (isTextTarget(document.activeElement) || isTextTarget(event.target as Element | null)) return;
      const items = Array.from(event.clipboardData?.items ?? []);
      const files = items
        .filter((item) => item.kind === 'file' && item.type.startsWith('image/'))
        .map((item) => item.getAsFile())
        .filter((file): file is File => file !== null);
      if (files.length === 0) {
        if (items.length > 0) setMessage('The clipboard holds no image. Copy an image (not its address) and paste again.');
        return;
      }
      event.preventDefault();
      const now = Date.now();
      const named = files.map((file, i) => ({ path: pastedFileName(file.type, i, now), blob: file }));
      setMessage(`Pasted ${files.length === 1 ? 'an image' : `${files.length} images`} into ‘${target}’.`);
      void addImagesToClass(target, named);
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [target]);
  return message;
}
