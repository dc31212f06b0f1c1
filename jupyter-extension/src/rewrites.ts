/**
 * RewritesView: a rewrite history (`application/vnd.labsym.rewrites+json`) as a stepper.  Each
 * step shows its phase, rule and math, and its before and after subgraphs side by side, with
 * the nodes the rewrite removed and added coloured.
 */

import { clear, html } from './dom';
import { diffGraphs, side } from './diff';
import { RewritesDoc } from './schema';
import { GraphView } from './view';

export class RewritesView {
  readonly node: HTMLDivElement;
  /** the before and after views of the step on show (null where a graph was not kept) */
  views: Array<GraphView | null> = [];
  private readonly doc: RewritesDoc;
  private readonly slider: HTMLInputElement;
  private readonly position: HTMLSpanElement;
  private readonly info: HTMLDivElement;
  private readonly panes: HTMLDivElement;
  private index = 0;

  constructor(doc: RewritesDoc, text?: string) {
    this.doc = doc;
    this.node = html('div', { class: 'labsym-rewrites', 'data-step-count':
      String(doc.steps.length) });
    const bar = this.node.appendChild(html('div', { class: 'labsym-toolbar' }));
    bar.appendChild(html('span', { class: 'labsym-title' }, `${doc.steps.length} rewrites`));
    const prev = bar.appendChild(html('button', { class: 'labsym-step-prev', type: 'button',
      title: 'previous rewrite' }, '\u25c0'));
    this.slider = bar.appendChild(html('input', { class: 'labsym-step-slider', type: 'range',
      min: 0, max: Math.max(0, doc.steps.length - 1), value: 0, step: 1,
      'aria-label': 'rewrite step' }));
    const next = bar.appendChild(html('button', { class: 'labsym-step-next', type: 'button',
      title: 'next rewrite' }, '\u25b6'));
    this.position = bar.appendChild(html('span', { class: 'labsym-step-position' }));
    this.info = this.node.appendChild(html('div', { class: 'labsym-step-info' }));
    this.panes = this.node.appendChild(html('div', { class: 'labsym-step-panes' }));
    if (text) {
      const details = this.node.appendChild(html('details', { class: 'labsym-text' }));
      details.appendChild(html('summary', {}, 'text'));
      details.appendChild(html('pre', {}, text));
    }
    prev.addEventListener('click', () => this.show(this.index - 1));
    next.addEventListener('click', () => this.show(this.index + 1));
    this.slider.addEventListener('input', () => this.show(Number(this.slider.value)));
    this.show(0);
  }

  /** Release the graph views of the step on show. */
  dispose(): void {
    this.views.forEach(view => view?.dispose());
    this.views = [];
  }

  /** Show step `index` (clamped to the history). */
  show(index: number): void {
    const steps = this.doc.steps;
    clear(this.info);
    clear(this.panes);
    this.dispose();
    if (!steps.length) {
      this.position.textContent = '';
      this.info.appendChild(html('span', {}, 'no rewrites recorded'));
      return;
    }
    this.index = Math.min(steps.length - 1, Math.max(0, index));
    this.slider.value = String(this.index);
    this.node.setAttribute('data-step', String(this.index));
    const step = steps[this.index];
    this.position.textContent = `step ${this.index + 1} of ${steps.length}`;
    const row = (cls: string, key: string, value: string): void => {
      const line = this.info.appendChild(html('div', { class: cls }));
      line.appendChild(html('span', { class: 'labsym-step-key' }, key));
      line.appendChild(html('code', {}, value));
    };
    row('labsym-step-rule', 'rule', `${step.rule} (${step.phase})`);
    if (step.math) {
      row('labsym-step-math', 'math', step.math);
    }
    row('labsym-step-before', 'before', step.before);
    row('labsym-step-after', 'after', step.after);
    const marks = diffGraphs(step.before_graph, step.after_graph);
    for (const which of ['before', 'after'] as const) {
      const pane = this.panes.appendChild(html('div', { class: 'labsym-step-pane',
        'data-side': which }));
      const graph = which === 'before' ? step.before_graph : step.after_graph;
      if (!graph) {
        pane.appendChild(html('div', { class: 'labsym-step-missing' },
          `${which}: ${which === 'before' ? step.before : step.after}`));
        this.views.push(null);
        continue;
      }
      const view = new GraphView(graph, { heading: which, diff: side(marks, which) });
      pane.appendChild(view.node);
      this.views.push(view);
    }
  }
}
