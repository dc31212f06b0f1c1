/**
 * GraphView: one graph_json document drawn as an interactive SVG.  Hover a box or an edge for
 * its op, types, shapes and source line; click a box to highlight its ancestors and
 * descendants; search by name or op; expand scan / OpFromGraph inner graphs; drag to pan,
 * ctrl+wheel (or wheel after a click inside) to zoom.  All text goes in through dom.ts.
 */

import { clear, html, keyValueTable, svg } from './dom';
import { categoryLegend, diffLegend, heatColour, maxPercent, profileLegend } from './legend';
import { Layout, layoutGraph, Point } from './layout';
import {
  buildDrawnGraph,
  DrawnEdge,
  DrawnGraph,
  edgeTooltip,
  nodeTooltip,
  reachable,
  searchText,
  shorten
} from './model';
import { GraphBody, GraphDoc } from './schema';

export type DiffMark = 'added' | 'removed' | 'kept';

export interface ViewOptions {
  /** the bundle's text/plain, shown folded under the graph */
  text?: string;
  /** rewrite steps: graph_json id -> whether the rewrite added or removed it */
  diff?: Map<string, DiffMark>;
  /** a heading in place of the document's title */
  heading?: string;
  engine?: 'auto' | 'dagre' | 'layered';
}

const PAD = 10;
const HEADER = 22;
const MIN_HEIGHT = 200; // room for a node's tooltip
const MAX_HEIGHT = 560;
const MIN_OVERVIEW_SCALE = 0.2; // below this the first view shows an output, not everything
const READABLE_SCALE = 0.7;
let instances = 0;

/** A drawn body's offset inside the body that contains it (absolute positions for centring). */
interface Frame {
  offset: Point;
  parent: Frame | null;
}

interface NodeRecord {
  element: SVGGElement;
  graph: DrawnGraph;
  frame: Frame;
  centre: Point;
  text: string;
}

interface Transform {
  x: number;
  y: number;
  k: number;
}

export class GraphView {
  readonly node: HTMLDivElement;
  layoutMs = 0;
  private readonly doc: GraphDoc;
  private readonly options: ViewOptions;
  private readonly canvas: HTMLDivElement;
  private readonly svgRoot: SVGSVGElement;
  private readonly viewport: SVGGElement;
  private readonly tooltip: HTMLDivElement;
  private readonly status: HTMLSpanElement;
  private readonly countLabel: HTMLSpanElement;
  private readonly markerId: string;
  private readonly expanded = new Set<string>();
  private readonly most: number;
  private nodes = new Map<string, NodeRecord>();
  private edges = new Map<string, { element: SVGGElement; edge: DrawnEdge }>();
  private size = { width: 0, height: 0 };
  private transform: Transform = { x: 0, y: 0, k: 1 };
  private marked: Element[] = [];
  private matches: string[] = [];
  private current = -1;
  private drag: { x: number; y: number; start: Transform; moved: boolean } | null = null;
  private active = false;
  private touched = false;
  private lastQuery = '';
  private observer: ResizeObserver | null = null;
  private hovered = '';
  private hiddenHits: string[] = [];

  constructor(doc: GraphDoc, options: ViewOptions = {}) {
    this.doc = doc;
    this.options = options;
    this.most = maxPercent(doc);
    this.markerId = `labsym-arrow-${++instances}`;
    this.node = html('div', { class: 'labsym-graph' });
    const toolbar = this.node.appendChild(html('div', { class: 'labsym-toolbar' }));
    const heading = options.heading ?? doc.title ?? 'labsym graph';
    toolbar.appendChild(html('span', { class: 'labsym-title' }, heading));
    const search = toolbar.appendChild(html('input', {
      class: 'labsym-search', type: 'search', placeholder: 'find by name or op',
      'aria-label': 'find nodes by name or op'
    }));
    this.countLabel = toolbar.appendChild(html('span', { class: 'labsym-search-count' }));
    const button = (cls: string, label: string, title: string, act: () => void): void => {
      const b = toolbar.appendChild(html('button', { class: cls, type: 'button', title }, label));
      b.addEventListener('click', act);
    };
    button('labsym-zoom-out', '\u2212', 'zoom out', () => this.zoomBy(1 / 1.25));
    button('labsym-zoom-in', '+', 'zoom in', () => this.zoomBy(1.25));
    button('labsym-fit', 'fit', 'fit the graph to the view', () => this.fit());
    if (hasClusters(doc)) {
      button('labsym-expand-all', 'expand all', 'expand every scan / OpFromGraph inner graph',
        () => this.expandAll(true));
      button('labsym-collapse-all', 'collapse all', 'collapse every inner graph',
        () => this.expandAll(false));
    }
    this.status = toolbar.appendChild(html('span', { class: 'labsym-status' }));
    this.canvas = this.node.appendChild(html('div', { class: 'labsym-canvas' }));
    this.svgRoot = this.canvas.appendChild(svg('svg', { class: 'labsym-svg' }));
    const defs = this.svgRoot.appendChild(svg('defs'));
    const marker = defs.appendChild(svg('marker', {
      id: this.markerId, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7,
      markerHeight: 7, orient: 'auto-start-reverse'
    }));
    marker.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'labsym-arrow' }));
    this.viewport = this.svgRoot.appendChild(svg('g', { class: 'labsym-viewport' }));
    this.tooltip = this.canvas.appendChild(html('div', { class: 'labsym-tooltip' }));
    this.tooltip.hidden = true;
    if (options.diff) {
      this.node.appendChild(diffLegend());
    } else if (doc.profile && this.most > 0) {
      this.node.appendChild(profileLegend(doc));
    } else {
      this.node.appendChild(categoryLegend(doc));
    }
    if (options.text) {
      const details = this.node.appendChild(html('details', { class: 'labsym-text' }));
      details.appendChild(html('summary', {}, 'text'));
      details.appendChild(html('pre', {}, options.text));
    }
    search.addEventListener('input', () => this.search(search.value));
    search.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        this.nextMatch(event.shiftKey ? -1 : 1);
      }
    });
    this.listen();
    this.draw();
    if (typeof ResizeObserver !== 'undefined') {
      // the first real size comes once the output is attached: fit then, unless the user moved
      this.observer = new ResizeObserver(() => {
        if (!this.touched && this.canvas.clientWidth > 0) {
          this.overview();
        }
      });
      this.observer.observe(this.canvas);
    }
  }

  /** Stop watching the view's size (the output is being replaced or closed). */
  dispose(): void {
    this.observer?.disconnect();
    this.observer = null;
  }

  /** Drawn boxes by graph_json id (tests and the rewrite view read them). */
  get drawnIds(): string[] {
    return [...this.nodes.keys()];
  }

  /** Lay out and draw the document (again, after a cluster is expanded or collapsed). */
  draw(): void {
    const started = now();
    clear(this.viewport);
    this.tooltip.hidden = true;
    this.hovered = '';
    this.nodes = new Map();
    this.edges = new Map();
    this.marked = [];
    const top: Frame = { offset: { x: 0, y: 0 }, parent: null };
    const drawn = this.drawBody(this.doc, top);
    this.viewport.appendChild(drawn.group);
    this.size = { width: drawn.width, height: drawn.height };
    this.layoutMs = Math.round(now() - started);
    const nApply = this.doc.nodes.filter(n => n.kind === 'apply').length;
    this.status.textContent = `${nApply} apply nodes \u00b7 ${drawn.engine} layout ` +
      `${this.layoutMs} ms`;
    this.node.setAttribute('data-node-count', String(this.nodes.size));
    this.node.setAttribute('data-apply-count', String(nApply));
    this.node.setAttribute('data-engine', drawn.engine);
    this.node.setAttribute('data-layout-ms', String(this.layoutMs));
    const height = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, drawn.height + 16));
    this.canvas.style.height = `${Math.round(height)}px`;
    this.search(this.lastQuery);
    this.overview();
  }

  private drawBody(body: GraphBody, frame: Frame): {
    group: SVGGElement; width: number; height: number; engine: string;
  } {
    const graph = buildDrawnGraph(body);
    const sizes = new Map<string, { width: number; height: number }>();
    const inner = new Map<string, { group: SVGGElement; frame: Frame }>();
    for (const node of graph.nodes) {
      if (node.cluster && this.expanded.has(node.id)) {
        const innerFrame: Frame = { offset: { x: 0, y: 0 }, parent: frame };
        const drawn = this.drawBody(node.cluster, innerFrame);
        const title = shorten(`${node.label}`, 60);
        sizes.set(node.id, {
          width: Math.max(drawn.width, title.length * 6.8 + 40) + 2 * PAD,
          height: drawn.height + HEADER + PAD
        });
        inner.set(node.id, { group: drawn.group, frame: innerFrame });
      }
    }
    const layout = layoutGraph(graph, sizes, this.options.engine);
    const group = svg('g', { class: 'labsym-body' });
    const edgeGroup = group.appendChild(svg('g', { class: 'labsym-edges' }));
    const nodeGroup = group.appendChild(svg('g', { class: 'labsym-nodes' }));
    for (const edge of graph.edges) {
      edgeGroup.appendChild(this.drawEdge(edge, layout));
    }
    for (const node of graph.nodes) {
      const placed = layout.nodes.get(node.id)!;
      const left = placed.x - placed.width / 2;
      const top = placed.y - placed.height / 2;
      const g = svg('g', { class: 'labsym-node', 'data-node-id': node.id,
        'data-kind': node.node.kind, transform: `translate(${left},${top})` });
      const classes = g.classList;
      if (node.node.kind === 'apply') {
        classes.add('labsym-apply', `labsym-cat-${node.node.category}`);
        g.setAttribute('data-category', node.node.category);
      } else {
        classes.add('labsym-variable', `labsym-role-${node.node.role}`);
        g.setAttribute('data-role', node.node.role);
      }
      const opened = inner.get(node.id);
      const shape = g.appendChild(svg('rect', {
        class: opened ? 'labsym-shape labsym-cluster-box' : 'labsym-shape',
        width: placed.width, height: placed.height,
        rx: node.node.kind === 'apply' && !opened ? placed.height / 2 : 3
      }));
      this.paint(g, shape, node.node);
      if (opened) {
        classes.add('labsym-expanded');
        g.setAttribute('data-cluster-id', node.cluster!.id);
        g.appendChild(svg('text', { class: 'labsym-label labsym-cluster-title', x: 22, y: 15 },
          shorten(node.cluster!.name ?? node.cluster!.title, 60)));
        opened.frame.offset = { x: left + PAD, y: top + HEADER };
        opened.group.setAttribute('transform', `translate(${PAD},${HEADER})`);
        g.appendChild(opened.group);
      } else {
        g.appendChild(svg('text', { class: 'labsym-label', x: placed.width / 2,
          y: placed.height / 2 + 4, 'text-anchor': 'middle' }, node.label));
      }
      if (node.cluster) {
        classes.add('labsym-has-inner');
        g.appendChild(svg('text', { class: 'labsym-toggle', x: 8, y: opened ? 15 : 17,
          'data-node-id': node.id }, opened ? '\u2212' : '+'));
      }
      nodeGroup.appendChild(g);
      this.nodes.set(node.id, { element: g, graph, frame, centre: { x: placed.x, y: placed.y },
        text: searchText(node.node) });
    }
    return { group, width: layout.width, height: layout.height, engine: layout.engine };
  }

  private paint(g: SVGGElement, shape: SVGRectElement, node: GraphBody['nodes'][number]): void {
    const mark = this.options.diff?.get(node.id);
    if (mark) {
      g.classList.add(`labsym-diff-${mark}`);
      g.setAttribute('data-diff', mark);
    } else if (node.kind === 'apply' && typeof node.percent === 'number' && this.most > 0) {
      shape.style.fill = heatColour(node.percent / this.most);
      g.classList.add('labsym-heat');
      g.setAttribute('data-percent', node.percent.toFixed(2));
    }
  }

  private drawEdge(edge: DrawnEdge, layout: Layout): SVGGElement {
    const points = layout.edges.get(edge.id) ?? [];
    const d = pathOf(points);
    const g = svg('g', { class: `labsym-edge labsym-edge-${edge.kind}`, 'data-edge-id': edge.id,
      'data-source': edge.source, 'data-target': edge.target });
    if (edge.variable) {
      g.setAttribute('data-variable-id', edge.variable.id);
      const mark = this.options.diff?.get(edge.variable.id);
      if (mark) {
        g.classList.add(`labsym-diff-${mark}`);
      }
    }
    g.appendChild(svg('path', { class: 'labsym-edge-line', d,
      'marker-end': `url(#${this.markerId})` }));
    g.appendChild(svg('path', { class: 'labsym-edge-hit', d }));
    this.edges.set(edge.id, { element: g, edge });
    return g;
  }

  /** Expand or collapse one scan / OpFromGraph node's inner graph. */
  toggle(id: string): void {
    if (this.expanded.has(id)) {
      this.expanded.delete(id);
    } else {
      this.expanded.add(id);
    }
    this.draw();
  }

  private expandAll(open: boolean): void {
    this.expanded.clear();
    if (open) {
      const visit = (body: GraphBody): void => {
        for (const cluster of body.clusters ?? []) {
          this.expanded.add(cluster.apply);
          visit(cluster);
        }
      };
      visit(this.doc);
    }
    this.draw();
  }

  /** Highlight `id`, its ancestors and its descendants (null clears). */
  select(id: string | null): void {
    for (const element of this.marked) {
      element.classList.remove('labsym-selected', 'labsym-ancestor', 'labsym-descendant',
        'labsym-path');
    }
    this.marked = [];
    const record = id === null ? undefined : this.nodes.get(id);
    this.node.classList.toggle('labsym-has-selection', record !== undefined);
    if (!record || id === null) {
      this.node.removeAttribute('data-selected');
      return;
    }
    const up = reachable(id, record.graph.parents);
    const down = reachable(id, record.graph.children);
    const mark = (nodeId: string, cls: string): void => {
      const element = this.nodes.get(nodeId)?.element;
      if (element) {
        element.classList.add(cls);
        this.marked.push(element);
      }
    };
    mark(id, 'labsym-selected');
    up.forEach(n => mark(n, 'labsym-ancestor'));
    down.forEach(n => mark(n, 'labsym-descendant'));
    for (const { element, edge } of this.edges.values()) {
      const upward = (up.has(edge.source) || edge.source === id) &&
        (up.has(edge.target) || edge.target === id);
      const downward = (down.has(edge.source) || edge.source === id) &&
        (down.has(edge.target) || edge.target === id);
      if (upward || downward) {
        element.classList.add('labsym-path');
        this.marked.push(element);
      }
    }
    this.node.setAttribute('data-selected', id);
    this.status.textContent = `${shorten(record.text.split('\n')[1] ?? id, 40)}: ` +
      `${up.size} ancestors, ${down.size} descendants`;
  }

  /** Mark the boxes whose name, op or id contains `query` (case-insensitive). */
  search(query: string): void {
    this.lastQuery = query;
    const q = query.trim().toLowerCase();
    this.matches = [];
    this.current = -1;
    for (const [id, record] of this.nodes) {
      const hit = q !== '' && record.text.includes(q);
      record.element.classList.toggle('labsym-match', hit);
      record.element.classList.remove('labsym-current');
      if (hit) {
        this.matches.push(id);
      }
    }
    this.node.classList.toggle('labsym-searching', q !== '');
    this.hiddenHits = q === '' ? [] : this.collapsedHits(q);
    const n = this.hiddenHits.length;
    const more = n ? ` (+ matches in ${n} collapsed inner graph${n === 1 ? '' : 's'}: Enter ` +
      'expands)' : '';
    this.countLabel.textContent = q === '' ? '' : `${this.matches.length} found${more}`;
  }

  /** The collapsed scan / OpFromGraph nodes whose inner graphs hold a node matching `q`. */
  private collapsedHits(q: string): string[] {
    const hits: string[] = [];
    const holds = (body: GraphBody): boolean =>
      body.nodes.some(n => searchText(n).includes(q)) || (body.clusters ?? []).some(holds);
    const visit = (body: GraphBody): void => {
      for (const cluster of body.clusters ?? []) {
        if (!this.nodes.has(cluster.apply)) {
          continue; // inside a collapsed parent: that parent is the hit
        }
        if (this.expanded.has(cluster.apply)) {
          visit(cluster);
        } else if (holds(cluster)) {
          hits.push(cluster.apply);
        }
      }
    };
    visit(this.doc);
    return hits;
  }

  private nextMatch(step: number): void {
    if (this.hiddenHits.length) {
      // open the inner graphs that hold matches; draw() searches again
      this.hiddenHits.forEach(id => this.expanded.add(id));
      this.draw();
    }
    if (!this.matches.length) {
      return;
    }
    if (this.current >= 0) {
      this.nodes.get(this.matches[this.current])?.element.classList.remove('labsym-current');
    }
    this.current = (this.current + step + this.matches.length) % this.matches.length;
    const id = this.matches[this.current];
    this.nodes.get(id)?.element.classList.add('labsym-current');
    this.countLabel.textContent = `${this.current + 1} of ${this.matches.length}`;
    this.centreOn(id);
  }

  /**
   * The first view of a drawing: all of it, unless that would shrink the boxes past reading
   * (deep or wide graphs); then the graph's first output at a readable scale.
   */
  overview(): void {
    const { width, height } = this.viewSize();
    const k = Math.min(width / this.size.width, height / this.size.height);
    const output = this.doc.outputs.find(id => this.nodes.has(id));
    if (k >= MIN_OVERVIEW_SCALE || output === undefined) {
      this.fit();
    } else {
      this.centreAt(output, READABLE_SCALE, 0.85); // the graph flows down into its output
    }
  }

  /** Pan (and zoom in to at least 1:1) so the box `id` is in the middle of the view. */
  centreOn(id: string): void {
    this.touched = true;
    this.centreAt(id, Math.max(this.transform.k, 1));
  }

  /** Put box `id` at scale `k` across the middle, `down` (0..1) of the way down the view. */
  private centreAt(id: string, k: number, down = 0.5): void {
    const record = this.nodes.get(id);
    if (!record) {
      return;
    }
    let { x, y } = record.centre;
    for (let frame: Frame | null = record.frame; frame; frame = frame.parent) {
      x += frame.offset.x;
      y += frame.offset.y;
    }
    const { width, height } = this.viewSize();
    this.setTransform({ x: width / 2 - x * k, y: height * down - y * k, k });
  }

  /** Scale and centre the whole drawing in the view. */
  fit(): void {
    const { width, height } = this.viewSize();
    const k = Math.min(width / this.size.width, height / this.size.height, 1.25);
    this.setTransform({ x: (width - this.size.width * k) / 2,
      y: (height - this.size.height * k) / 2, k });
  }

  private zoomBy(factor: number, at?: Point): void {
    const { width, height } = this.viewSize();
    const p = at ?? { x: width / 2, y: height / 2 };
    const t = this.transform;
    const k = Math.min(8, Math.max(0.02, t.k * factor));
    this.touched = true;
    this.setTransform({ x: p.x - ((p.x - t.x) * k) / t.k, y: p.y - ((p.y - t.y) * k) / t.k, k });
  }

  private setTransform(t: Transform): void {
    this.transform = t;
    this.viewport.setAttribute('transform', `translate(${t.x.toFixed(2)},${t.y.toFixed(2)}) ` +
      `scale(${t.k.toFixed(4)})`);
  }

  private viewSize(): { width: number; height: number } {
    // jsdom and hidden outputs have no layout: assume a typical output area
    return { width: this.canvas.clientWidth || 800,
      height: this.canvas.clientHeight || parseFloat(this.canvas.style.height) || 400 };
  }

  private listen(): void {
    const root = this.svgRoot;
    root.addEventListener('pointermove', event => this.hover(event));
    root.addEventListener('pointerleave', () => {
      this.tooltip.hidden = true;
      this.active = false;
    });
    root.addEventListener('pointerdown', event => {
      this.drag = { x: event.clientX, y: event.clientY, start: { ...this.transform },
        moved: false };
    });
    root.addEventListener('pointerup', () => {
      setTimeout(() => (this.drag = null), 0);
    });
    root.addEventListener('click', event => this.click(event));
    root.addEventListener('dblclick', () => this.fit());
    root.addEventListener('wheel', event => {
      if (!(event.ctrlKey || event.metaKey || this.active)) {
        return; // plain wheel scrolls the notebook until the graph is clicked
      }
      event.preventDefault();
      const box = root.getBoundingClientRect();
      this.zoomBy(Math.exp(-event.deltaY * 0.0015),
        { x: event.clientX - box.left, y: event.clientY - box.top });
    }, { passive: false });
  }

  private hover(event: PointerEvent): void {
    const drag = this.drag;
    if (drag && event.buttons & 1) {
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (drag.moved || Math.abs(dx) + Math.abs(dy) > 3) {
        drag.moved = true;
        this.touched = true;
        this.tooltip.hidden = true;
        this.setTransform({ x: drag.start.x + dx, y: drag.start.y + dy, k: drag.start.k });
      }
      return;
    }
    const target = event.target as Element | null;
    const nodeEl = target?.closest?.('g.labsym-node');
    const edgeEl = nodeEl ? null : target?.closest?.('g.labsym-edge');
    const key = nodeEl ? `node:${nodeEl.getAttribute('data-node-id')}`
      : edgeEl ? `edge:${edgeEl.getAttribute('data-edge-id')}` : '';
    if (key !== '' && key === this.hovered && !this.tooltip.hidden) {
      this.placeTooltip(event); // same item: the rows are already there
      return;
    }
    let rows: Array<[string, string]> | null = null;
    let kind = '';
    if (nodeEl) {
      const record = this.nodes.get(nodeEl.getAttribute('data-node-id') ?? '');
      const node = record?.graph.byId.get(nodeEl.getAttribute('data-node-id') ?? '')?.node;
      rows = node && record ? nodeTooltip(node, record.graph) : null;
      kind = 'node';
    } else if (edgeEl) {
      const edge = this.edges.get(edgeEl.getAttribute('data-edge-id') ?? '')?.edge;
      rows = edge ? edgeTooltip(edge) : null;
      kind = 'edge';
    }
    this.hovered = rows ? key : '';
    if (!rows) {
      this.tooltip.hidden = true;
      return;
    }
    this.showTooltip(rows, kind, event);
  }

  private showTooltip(rows: Array<[string, string]>, kind: string, event: MouseEvent): void {
    clear(this.tooltip);
    this.tooltip.appendChild(keyValueTable(rows, 'labsym-tooltip-table'));
    this.tooltip.setAttribute('data-kind', kind);
    this.tooltip.hidden = false;
    this.placeTooltip(event);
  }

  /**
   * Beside the pointer, flipped to its other side where it would leave the canvas (which clips
   * it), and never above or left of the canvas.
   */
  private placeTooltip(event: MouseEvent): void {
    const box = this.canvas.getBoundingClientRect();
    const { width, height } = this.viewSize();
    const px = event.clientX - box.left;
    const py = event.clientY - box.top;
    const w = this.tooltip.offsetWidth;
    const h = this.tooltip.offsetHeight;
    const x = px + 14 + w <= width ? px + 14 : px - 14 - w;
    const y = py + 14 + h <= height ? py + 14 : py - 14 - h;
    this.tooltip.style.left = `${Math.max(0, Math.min(x, width - w))}px`;
    this.tooltip.style.top = `${Math.max(0, Math.min(y, height - h))}px`;
  }

  private click(event: MouseEvent): void {
    this.active = true;
    if (this.drag?.moved) {
      return;
    }
    const target = event.target as Element | null;
    const toggle = target?.closest?.('.labsym-toggle');
    if (toggle) {
      this.toggle(toggle.getAttribute('data-node-id') ?? '');
      return;
    }
    const nodeEl = target?.closest?.('g.labsym-node');
    const id = nodeEl?.getAttribute('data-node-id') ?? null;
    const innermost = id !== null && this.nodes.get(id)?.element === nodeEl ? id : null;
    this.select(innermost === this.node.getAttribute('data-selected') ? null : innermost);
  }

  /** Hover as a test or the browser test would: show the tooltip of box `id`. */
  hoverNode(id: string): HTMLElement | null {
    const record = this.nodes.get(id);
    const node = record?.graph.byId.get(id)?.node;
    if (!record || !node) {
      return null;
    }
    this.showTooltip(nodeTooltip(node, record.graph), 'node',
      { clientX: 0, clientY: 0 } as MouseEvent);
    return this.tooltip;
  }
}

function hasClusters(doc: GraphDoc): boolean {
  return (doc.clusters ?? []).length > 0;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** An SVG path through `points`: a smooth curve through dagre's bends, an S-curve otherwise. */
export function pathOf(points: Point[]): string {
  if (points.length < 2) {
    return '';
  }
  const f = (p: Point): string => `${p.x.toFixed(1)},${p.y.toFixed(1)}`;
  if (points.length === 2) {
    const [a, b] = points;
    const dy = (b.y - a.y) / 2;
    return `M${f(a)} C${f({ x: a.x, y: a.y + dy })} ${f({ x: b.x, y: b.y - dy })} ${f(b)}`;
  }
  let d = `M${f(points[0])}`;
  for (let i = 1; i < points.length - 1; i++) {
    const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
    d += ` Q${f(points[i])} ${i === points.length - 2 ? f(points[i + 1]) : f(mid)}`;
  }
  return d;
}
