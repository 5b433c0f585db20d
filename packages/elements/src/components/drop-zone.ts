/** Drag-and-drop handlers shared by the elements that accept files (marks the zone with `data-over`). */

export function onDragOver(e: DragEvent): void {
  e.preventDefault();
  (e.currentTarget as HTMLElement).dataset.over = '';
}

export function onDragLeave(e: DragEvent): void {
  delete (e.currentTarget as HTMLElement).dataset.over;
}

/** A drop handler that passes the dropped files on. */
export function onDropFiles(accept: (files: File[]) => void): (e: DragEvent) => void {
  return (e) => {
    e.preventDefault();
    delete (e.currentTarget as HTMLElement).dataset.over;
    accept([...(e.dataTransfer?.files ?? [])]);
  };
}
