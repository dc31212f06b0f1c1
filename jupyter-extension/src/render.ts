/**
 * Draws one output: the bundle's labsym entry as a graph or rewrite-history view, or, when the
 * document cannot be read, a note and the bundle's plain text.
 */

import { clear, html } from './dom';
import { RewritesView } from './rewrites';
import { readGraph, readRewrites, REWRITES_MIME } from './schema';
import { GraphView } from './view';

/** Draw the bundle's `mimeType` entry into `host` (a graph, a history, or an error note). */
export function renderInto(host: HTMLElement, mimeType: string, bundle: Record<string, unknown>):
  GraphView | RewritesView | null {
  clear(host);
  const text = typeof bundle['text/plain'] === 'string' ? bundle['text/plain'] : undefined;
  try {
    const view = mimeType === REWRITES_MIME
      ? new RewritesView(readRewrites(bundle[mimeType]), text)
      : new GraphView(readGraph(bundle[mimeType]), { text });
    host.appendChild(view.node);
    return view;
  } catch (error) {
    const note = host.appendChild(html('div', { class: 'labsym-error' }));
    note.appendChild(html('div', {}, `labsym cannot draw this output: ${String(error)}`));
    if (text) {
      note.appendChild(html('pre', {}, text));
    }
    return null;
  }
}
