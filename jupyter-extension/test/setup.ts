// jsdom lacks DragEvent, which @lumino/dragdrop (imported by @lumino/widgets) subclasses
if (typeof (globalThis as { DragEvent?: unknown }).DragEvent === 'undefined') {
  (globalThis as { DragEvent?: unknown }).DragEvent = class extends MouseEvent {};
}
