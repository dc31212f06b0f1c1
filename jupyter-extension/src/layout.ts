/**
 * Node positions and edge routes for a drawn graph.  Small graphs use dagre (bundled, crossing
 * minimisation, routed edges); dagre's cost grows too fast past a few hundred boxes (a 2000-node
 * graph takes tens of seconds), so larger graphs use a linear-time layered layout: longest-path
 * ranks, barycenter ordering sweeps and isotonic placement, straight edges.
 */

import dagre from '@dagrejs/dagre';

import { DrawnGraph } from './model';

export interface Point {
  x: number;
  y: number;
}

/** A placed box: its centre and size. */
export interface Placed extends Point {
  width: number;
  height: number;
}

export interface Layout {
  nodes: Map<string, Placed>;
  edges: Map<string, Point[]>;
  width: number;
  height: number;
  engine: 'dagre' | 'layered';
}

export const DAGRE_LIMIT = 250; // boxes; above this the layered layout is used
const NODE_SEP = 18;
const RANK_SEP = 34;
const MARGIN = 12;

/** Lay out `graph`; `sizes` overrides a node's box (an expanded cluster's inner drawing). */
export function layoutGraph(
  graph: DrawnGraph,
  sizes: Map<string, { width: number; height: number }> = new Map(),
  engine: 'auto' | 'dagre' | 'layered' = 'auto'
): Layout {
  const size = (id: string): { width: number; height: number } =>
    sizes.get(id) ?? graph.byId.get(id)!;
  const useDagre = engine === 'dagre' || (engine === 'auto' && graph.nodes.length <= DAGRE_LIMIT);
  const layout = useDagre ? dagreLayout(graph, size) : layeredLayout(graph, size);
  routeUpdates(graph, layout);
  return normalise(layout);
}

/**
 * Updates (new value -> shared variable) point back up the graph, so they take no part in the
 * ranking; each is drawn as a curve bulging out on the right of its two ends.
 */
function routeUpdates(graph: DrawnGraph, layout: Layout): void {
  for (const edge of graph.edges) {
    if (edge.kind === 'update') {
      const a = layout.nodes.get(edge.source)!;
      const b = layout.nodes.get(edge.target)!;
      const from = { x: a.x + a.width / 2, y: a.y };
      const to = { x: b.x + b.width / 2, y: b.y };
      const bend = { x: Math.max(from.x, to.x) + 30 + Math.min(150, Math.abs(from.y - to.y) * 0.15),
        y: (from.y + to.y) / 2 };
      layout.edges.set(edge.id, [from, bend, to]);
    }
  }
}

function dagreLayout(
  graph: DrawnGraph,
  size: (id: string) => { width: number; height: number }
): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: NODE_SEP, ranksep: RANK_SEP, edgesep: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    const { width, height } = size(node.id);
    g.setNode(node.id, { width, height });
  }
  for (const edge of graph.edges) {
    if (edge.kind !== 'update') {
      g.setEdge(edge.source, edge.target, {}, edge.id);
    }
  }
  dagre.layout(g);
  const nodes = new Map<string, Placed>();
  for (const node of graph.nodes) {
    const placed = g.node(node.id);
    const { width, height } = size(node.id);
    nodes.set(node.id, { x: placed.x, y: placed.y, width, height });
  }
  const edges = new Map<string, Point[]>();
  for (const edge of graph.edges) {
    if (edge.kind !== 'update') {
      const label = g.edge({ v: edge.source, w: edge.target, name: edge.id });
      edges.set(edge.id, (label?.points ?? []).map((p: Point) => ({ x: p.x, y: p.y })));
    }
  }
  return { nodes, edges, width: 0, height: 0, engine: 'dagre' };
}

/** Ranks by longest path from the sources; a source sits one rank above its first reader. */
function ranks(graph: DrawnGraph): Map<string, number> {
  const rank = new Map<string, number>();
  const indegree = new Map<string, number>();
  const dataChildren = new Map<string, string[]>();
  for (const node of graph.nodes) {
    indegree.set(node.id, 0);
  }
  for (const edge of graph.edges) {
    if (edge.kind !== 'update') {
      indegree.set(edge.target, indegree.get(edge.target)! + 1);
      const list = dataChildren.get(edge.source) ?? [];
      list.push(edge.target);
      dataChildren.set(edge.source, list);
    }
  }
  const queue = graph.nodes.filter(n => indegree.get(n.id) === 0).map(n => n.id);
  for (const id of queue) {
    rank.set(id, 0);
  }
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head];
    for (const child of dataChildren.get(id) ?? []) {
      rank.set(child, Math.max(rank.get(child) ?? 0, rank.get(id)! + 1));
      const left = indegree.get(child)! - 1;
      indegree.set(child, left);
      if (left === 0) {
        queue.push(child);
      }
    }
  }
  for (const node of graph.nodes) {
    if (!rank.has(node.id)) {
      rank.set(node.id, 0); // on a cycle (not produced by labsym): drawn at the top
    }
  }
  // sources move down next to their first reader (constants, weights read late)
  for (const node of graph.nodes) {
    if ((graph.parents.get(node.id) ?? []).length === 0) {
      const readers = (dataChildren.get(node.id) ?? []).map(c => rank.get(c)!);
      if (readers.length) {
        rank.set(node.id, Math.max(0, Math.min(...readers) - 1));
      }
    }
  }
  return rank;
}

/**
 * Place boxes of one layer in their order, as near to `desired` as the minimum gaps allow,
 * boxes with a larger weight moving less: a weighted isotonic regression (pool adjacent
 * violators) on the positions shifted by the gaps.
 */
export function placeLayer(widths: number[], desired: number[], weights?: number[]): number[] {
  const n = widths.length;
  const offset: number[] = new Array(n).fill(0);
  for (let i = 1; i < n; i++) {
    offset[i] = offset[i - 1] + (widths[i - 1] + widths[i]) / 2 + NODE_SEP;
  }
  const value: number[] = [];
  const weight: number[] = [];
  const count: number[] = [];
  for (let i = 0; i < n; i++) {
    value.push(desired[i] - offset[i]);
    weight.push(weights ? weights[i] : 1);
    count.push(1);
    while (value.length > 1 && value[value.length - 2] > value[value.length - 1]) {
      const v = value.pop()!;
      const w = weight.pop()!;
      const c = count.pop()!;
      const k = value.length - 1;
      value[k] = (value[k] * weight[k] + v * w) / (weight[k] + w);
      weight[k] += w;
      count[k] += c;
    }
  }
  const out: number[] = [];
  value.forEach((v, b) => {
    for (let j = 0; j < count[b]; j++) {
      out.push(v + offset[out.length]);
    }
  });
  return out;
}

function layeredLayout(
  graph: DrawnGraph,
  size: (id: string) => { width: number; height: number }
): Layout {
  const rank = ranks(graph);
  const layers: string[][] = [];
  for (const node of graph.nodes) {
    const r = rank.get(node.id)!;
    (layers[r] = layers[r] ?? []).push(node.id);
  }
  const x = new Map<string, number>();
  // each box moves toward the mean of its neighbours on the side being swept from; a box with
  // none there (an input in a downward sweep) gives way, so chains of ops stay straight
  const sweep = (layer: string[], near: Map<string, string[]>, far: Map<string, string[]>):
    string[] => {
    const desired = new Map<string, number>();
    const weight = new Map<string, number>();
    // neighbours that are themselves loose on that side (inputs, in a downward sweep) count
    // only when there are no others
    const anchored = (n: string): boolean => (near.get(n) ?? []).length > 0;
    for (const id of layer) {
      const first = near.get(id) ?? [];
      const list = first.length ? first : far.get(id) ?? [];
      const firm = list.filter(anchored);
      const used = firm.length ? firm : list;
      desired.set(id, used.length ? used.reduce((s, n) => s + x.get(n)!, 0) / used.length
        : x.get(id)!);
      weight.set(id, first.length ? 1 : 0.05);
    }
    const order = [...layer].sort((a, b) => desired.get(a)! - desired.get(b)!);
    const placed = placeLayer(order.map(id => size(id).width), order.map(id => desired.get(id)!),
      order.map(id => weight.get(id)!));
    order.forEach((id, i) => x.set(id, placed[i]));
    return order;
  };
  for (let r = 0; r < layers.length; r++) {
    layers[r] = layers[r] ?? [];
    const widths = layers[r].map(id => size(id).width);
    const flat = placeLayer(widths, widths.map(() => 0));
    const shift = flat.length ? (flat[0] + flat[flat.length - 1]) / 2 : 0;
    layers[r].forEach((id, i) => x.set(id, flat[i] - shift));
  }
  for (let iteration = 0; iteration < 4; iteration++) {
    for (let r = layers.length - 2; r >= 0; r--) {
      layers[r] = sweep(layers[r], graph.children, graph.parents);
    }
    for (let r = 0; r < layers.length; r++) {
      layers[r] = sweep(layers[r], graph.parents, graph.children);
    }
  }
  const nodes = new Map<string, Placed>();
  let y = 0;
  for (const layer of layers) {
    const height = Math.max(0, ...layer.map(id => size(id).height));
    for (const id of layer) {
      const { width, height: h } = size(id);
      nodes.set(id, { x: x.get(id)!, y: y + height / 2, width, height: h });
    }
    y += height + RANK_SEP;
  }
  const edges = new Map<string, Point[]>();
  for (const edge of graph.edges) {
    if (edge.kind !== 'update') {
      const a = nodes.get(edge.source)!;
      const b = nodes.get(edge.target)!;
      edges.set(edge.id, [{ x: a.x, y: a.y + a.height / 2 }, { x: b.x, y: b.y - b.height / 2 }]);
    }
  }
  return { nodes, edges, width: 0, height: 0, engine: 'layered' };
}

/** Shift everything so the drawing starts at (MARGIN, MARGIN); set its width and height. */
function normalise(layout: Layout): Layout {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of layout.nodes.values()) {
    minX = Math.min(minX, p.x - p.width / 2);
    maxX = Math.max(maxX, p.x + p.width / 2);
    minY = Math.min(minY, p.y - p.height / 2);
    maxY = Math.max(maxY, p.y + p.height / 2);
  }
  for (const points of layout.edges.values()) {
    for (const p of points) {
      minX = Math.min(minX, p.x);
      maxX = Math.max(maxX, p.x);
      minY = Math.min(minY, p.y);
      maxY = Math.max(maxY, p.y);
    }
  }
  if (!isFinite(minX)) {
    return { ...layout, width: 2 * MARGIN, height: 2 * MARGIN };
  }
  const dx = MARGIN - minX;
  const dy = MARGIN - minY;
  for (const p of layout.nodes.values()) {
    p.x += dx;
    p.y += dy;
  }
  for (const points of layout.edges.values()) {
    for (const p of points) {
      p.x += dx;
      p.y += dy;
    }
  }
  return { ...layout, width: maxX - minX + 2 * MARGIN, height: maxY - minY + 2 * MARGIN };
}
