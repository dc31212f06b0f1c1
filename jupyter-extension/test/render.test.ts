import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

import extension from '../src/index';
import { renderInto } from '../src/render';
import { GRAPH_MIME, MIME_TYPES, REWRITES_MIME } from '../src/schema';
import { layoutGraph } from '../src/layout';
import { buildDrawnGraph, edgeTooltip } from '../src/model';
import { GraphView } from '../src/view';
import { chainDoc, HOSTILE, HOSTILE_SCRIPT, hostileDoc } from './fixtures';

function render(mime: string, data: unknown, text?: string): HTMLElement {
  const host = document.createElement('div');
  document.body.appendChild(host);
  renderInto(host, mime, { [mime]: data, 'text/plain': text ?? '' });
  return host;
}

function expectInert(host: HTMLElement): void {
  // markup in the data must stay text: no element made from it, no handler attribute anywhere
  expect(host.querySelector('img, script, iframe, object, embed, foreignObject')).toBeNull();
  for (const el of Array.from(host.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.startsWith('on')).toBe(false);
      expect(attr.value.toLowerCase()).not.toContain('javascript:');
    }
  }
  expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
}

describe('hostile strings', () => {
  it('are drawn as text in labels, title, tooltips and the text summary', () => {
    const host = render(GRAPH_MIME, hostileDoc(), HOSTILE_SCRIPT);
    expectInert(host);
    const labels = Array.from(host.querySelectorAll('.labsym-label')).map(l => l.textContent);
    expect(labels).toContain(HOSTILE);
    expect(host.querySelector('.labsym-title')!.textContent).toBe(HOSTILE_SCRIPT);
    expect(host.querySelector('.labsym-text pre')!.textContent).toBe(HOSTILE_SCRIPT);
    const view = new GraphView(hostileDoc());
    for (const id of ['a0', 'v0', 'v1']) {
      const tip = view.hoverNode(id)!;
      expect(tip.textContent).toContain(HOSTILE);
      expectInert(tip);
    }
    expect(view.hoverNode('a0')!.textContent).toContain(`${HOSTILE}:7`);
  });

  it('are text in an error note for a document this renderer refuses', () => {
    const host = render(GRAPH_MIME, { schema: 'labsym.graph', version: HOSTILE }, HOSTILE);
    expectInert(host);
    expect(host.querySelector('.labsym-error')!.textContent).toContain(HOSTILE);
  });

  it('are text in the rewrite stepper', () => {
    const doc = { schema: 'labsym.rewrites', version: 1, steps: [
      { index: 0, phase: HOSTILE, rule: HOSTILE_SCRIPT, math: HOSTILE, before: HOSTILE,
        after: HOSTILE_SCRIPT, before_graph: hostileDoc(), after_graph: null }] };
    const host = render(REWRITES_MIME, doc);
    expectInert(host);
    expect(host.querySelector('.labsym-step-rule')!.textContent).toContain(HOSTILE_SCRIPT);
    expect(host.querySelector('.labsym-step-missing')!.textContent).toContain(HOSTILE_SCRIPT);
  });

  it('never reach an HTML parser: the sources use no innerHTML-like sink', () => {
    const dir = join(__dirname, '..', 'src');
    for (const file of readdirSync(dir)) {
      const source = readFileSync(join(dir, file), 'utf8');
      expect(source).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/);
    }
  });
});

describe('graph view', () => {
  it('draws one box per apply node and per non-intermediate variable', () => {
    const host = render(GRAPH_MIME, hostileDoc());
    const ids = Array.from(host.querySelectorAll('g.labsym-node')).map(
      n => n.getAttribute('data-node-id'));
    // v2 (made by a0, read by a1) is drawn as the edge a0 -> a1
    expect(ids.sort()).toEqual(['a0', 'a1', 'v0', 'v1', 'v3']);
    expect(host.querySelectorAll('g.labsym-node[data-kind=apply]').length).toBe(2);
    const folded = host.querySelector('g.labsym-edge[data-variable-id=v2]')!;
    expect(folded.getAttribute('data-source')).toBe('a0');
    expect(folded.getAttribute('data-target')).toBe('a1');
  });

  it('tooltips give op, types, shapes (static or from a test value) and the source line', () => {
    const view = new GraphView(hostileDoc());
    const rows = (el: HTMLElement): Record<string, string> => Object.fromEntries(
      Array.from(el.querySelectorAll('tr')).map(tr => [tr.children[0].textContent!.trim(),
        tr.children[1].textContent!]));
    const apply = rows(view.hoverNode('a1')!);
    expect(apply.op).toBe('Elemwise{exp,no_inplace}');
    expect(apply['output 0']).toBe(`${HOSTILE}: TensorType(float64, vector)`);
    expect(apply.shape).toBe('(3,) (sizes from the test value)');
    expect(apply.source).toBe('demo.py:4');
    const input = rows(view.hoverNode('v0')!);
    expect([input.variable, input.role, input.dtype, input.shape]).toEqual(
      [HOSTILE, 'input', 'float64', '(?,)']);
    const folded = buildDrawnGraph(hostileDoc()).edges.find(e => e.variable?.id === 'v2')!;
    expect(Object.fromEntries(edgeTooltip(folded))).toEqual({ variable: HOSTILE_SCRIPT,
      dtype: 'float64', shape: '(?,)', type: 'TensorType(float64, vector)', input: '0' });
  });

  it('highlights ancestors and descendants of the clicked node', () => {
    const view = new GraphView(chainDoc(5));
    view.select('a2');
    const cls = (id: string): string =>
      view.node.querySelector(`g.labsym-node[data-node-id="${id}"]`)!.getAttribute('class')!;
    expect(cls('a2')).toContain('labsym-selected');
    expect(cls('a0')).toContain('labsym-ancestor');
    expect(cls('v0')).toContain('labsym-ancestor');
    expect(cls('a4')).toContain('labsym-descendant');
    expect(cls('a3')).not.toContain('labsym-ancestor');
    view.select(null);
    expect(cls('a0')).not.toContain('labsym-ancestor');
  });

  it('clicking a box selects it, clicking it again clears; buttons and Enter move the view', () => {
    const view = new GraphView(chainDoc(6));
    const box = view.node.querySelector('g.labsym-node[data-node-id="a3"] .labsym-shape')!;
    box.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    expect(view.node.getAttribute('data-selected')).toBe('a3');
    expect(view.node.classList.contains('labsym-has-selection')).toBe(true);
    expect(view.node.querySelectorAll('g.labsym-edge.labsym-path').length).toBeGreaterThan(0);
    box.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    expect(view.node.hasAttribute('data-selected')).toBe(false);
    const viewport = view.node.querySelector('g.labsym-viewport')!;
    const before = viewport.getAttribute('transform');
    view.node.querySelector<HTMLButtonElement>('button.labsym-zoom-in')!.click();
    expect(viewport.getAttribute('transform')).not.toBe(before);
    const search = view.node.querySelector<HTMLInputElement>('input.labsym-search')!;
    search.value = 'add';
    search.dispatchEvent(new Event('input'));
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(view.node.querySelector('.labsym-search-count')!.textContent).toBe('1 of 4');
    expect(view.node.querySelector('g.labsym-current')!.getAttribute('data-node-id')).toBe('a1');
  });

  it('search marks the nodes whose op or name matches', () => {
    const view = new GraphView(chainDoc(6));
    view.search('MUL');
    const hits = Array.from(view.node.querySelectorAll('g.labsym-match')).map(
      n => n.getAttribute('data-node-id'));
    expect(hits).toEqual(['a0', 'a3']);
    expect(view.node.querySelector('.labsym-search-count')!.textContent).toBe('2 found');
  });

  it('lays out 2000 apply nodes with the linear-time layered engine', () => {
    const graph = buildDrawnGraph(chainDoc(2000));
    const started = performance.now();
    const layout = layoutGraph(graph);
    // dagre takes tens of seconds here, the layered layout tens of milliseconds (slack for a
    // loaded CI machine)
    expect(performance.now() - started).toBeLessThan(3000);
    expect(layout.engine).toBe('layered');
    // a chain: each apply node one rank below the previous, straight above each other
    const at = (id: string): { x: number; y: number } => layout.nodes.get(id)!;
    for (let i = 1; i < 2000; i++) {
      expect(at(`a${i}`).y).toBeGreaterThan(at(`a${i - 1}`).y);
      expect(at(`a${i}`).x).toBeCloseTo(at('a0').x, 0);
    }
    const view = new GraphView(chainDoc(2000));
    expect(view.node.getAttribute('data-engine')).toBe('layered');
    expect(view.node.querySelectorAll('g.labsym-node[data-kind=apply]').length).toBe(2000);
  }, 60000); // jsdom builds the 6000-element DOM slowly on a busy machine

  it('keeps boxes of one rank apart', () => {
    for (const engine of ['dagre', 'layered'] as const) {
      const layout = layoutGraph(buildDrawnGraph(chainDoc(40)), new Map(), engine);
      const boxes = [...layout.nodes.values()];
      for (const a of boxes) {
        for (const b of boxes) {
          if (a !== b && Math.abs(a.y - b.y) < (a.height + b.height) / 2) {
            expect(Math.abs(a.x - b.x), engine).toBeGreaterThanOrEqual((a.width + b.width) / 2);
          }
        }
      }
    }
  });
});

describe('extension', () => {
  it('is a safe json renderer ranked ahead of HTML and SVG for both mime types', () => {
    expect(extension.dataType).toBe('json');
    expect(extension.rendererFactory.safe).toBe(true);
    expect(extension.rank).toBeLessThan(50);
    expect(extension.rendererFactory.mimeTypes).toEqual([GRAPH_MIME, REWRITES_MIME]);
  });

  it('handles the mime types package.json declares (the Python tests read that list)', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    expect(pkg.labsym.mimeTypes).toEqual(MIME_TYPES);
  });
});

describe('documents', () => {
  it('are read without being changed (the output model owns them), even when frozen', () => {
    const freeze = <T>(value: T): T => {
      if (value && typeof value === 'object') {
        Object.values(value).forEach(freeze);
        Object.freeze(value);
      }
      return value;
    };
    const doc = hostileDoc() as unknown as Record<string, unknown>;
    delete doc.clusters;
    const steps = { schema: 'labsym.rewrites', version: 1, steps: [{ index: 0, phase: 'p',
      rule: 'r', math: '', before: 'b', after: 'a', before_graph: doc, after_graph: null }] };
    const frozen = freeze(JSON.parse(JSON.stringify(steps)));
    const host = render(REWRITES_MIME, frozen);
    expect(host.querySelector('.labsym-error')).toBeNull();
    expect(host.querySelectorAll('g.labsym-node[data-kind=apply]').length).toBe(2);
    expect(JSON.stringify(frozen)).toBe(JSON.stringify(steps));
  });

  it('of a newer schema version are refused with a note, not misread', () => {
    const host = render(GRAPH_MIME, { ...hostileDoc(), version: 2 }, 'plain text');
    expect(host.querySelector('.labsym-error')!.textContent).toContain('version 2 is newer');
    expect(host.querySelector('.labsym-error pre')!.textContent).toBe('plain text');
    expect(host.querySelector('.labsym-graph')).toBeNull();
  });
});
