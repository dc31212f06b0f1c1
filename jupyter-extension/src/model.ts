/**
 * The drawn graph of one graph_json body: which nodes get a box, which edges connect them, and
 * the text of labels and tooltips.  An intermediate variable (made by one apply node, read by
 * others, not an output and not in an update) is drawn as the edges that carry it, the way a
 * reader thinks of `dot(x, W) + b`; every other variable and every apply node gets a box.
 */

import { ApplyNode, Cluster, Dims, GraphBody, GraphNode, VariableNode } from './schema';

export interface DrawnNode {
  id: string;
  node: GraphNode;
  label: string;
  width: number;
  height: number;
  /** the inner graph of a scan / OpFromGraph apply node */
  cluster: Cluster | null;
}

export interface DrawnEdge {
  id: string;
  source: string;
  target: string;
  /** the variable whose value flows along this edge */
  variable: VariableNode | null;
  kind: string;
  /** input position at the target apply node, or null */
  position: number | null;
}

export interface DrawnGraph {
  nodes: DrawnNode[];
  edges: DrawnEdge[];
  byId: Map<string, DrawnNode>;
  parents: Map<string, string[]>;
  children: Map<string, string[]>;
  /** every graph_json variable of this body, drawn or folded into edges */
  variables: Map<string, VariableNode>;
  /** apply id -> the variables it outputs, in output order */
  outputsOf: Map<string, VariableNode[]>;
}

const CHAR_WIDTH = 6.8; // px per character of the 11px label font (estimated: no text measuring)
const MAX_LABEL = 34;
export const NODE_HEIGHT = 26;

/** `text` cut to `limit` characters with an ellipsis. */
export function shorten(text: string, limit = MAX_LABEL): string {
  return text.length <= limit ? text : text.slice(0, limit - 1) + '\u2026';
}

/** A shape list as `(3, ?)`; `n/a` for non-tensor types. */
export function shapeText(dims: Dims): string {
  if (dims === null || dims === undefined) {
    return 'n/a';
  }
  const parts = dims.map(d => (d === null ? '?' : String(d)));
  return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
}

function variableLabel(v: VariableNode): string {
  if (v.name) {
    return v.name;
  }
  if (v.role === 'constant' && v.value !== undefined) {
    return v.value;
  }
  return v.dtype ? `${v.dtype} ${shapeText(v.shape)}` : v.type;
}

/** The label drawn in a node's box. */
export function nodeLabel(node: GraphNode): string {
  return shorten(node.kind === 'apply' ? node.op : variableLabel(node));
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) {
    list.push(value);
  } else {
    map.set(key, [value]);
  }
}

/** The boxes and edges to draw for one graph body (a document or a cluster's inner graph). */
export function buildDrawnGraph(body: GraphBody): DrawnGraph {
  const variables = new Map<string, VariableNode>();
  const owner = new Map<string, string>();
  const readers = new Map<string, number>();
  const outputsOf = new Map<string, VariableNode[]>();
  const pinned = new Set<string>(body.outputs ?? []);
  for (const node of body.nodes) {
    if (node.kind === 'variable') {
      variables.set(node.id, node);
    }
  }
  for (const edge of body.edges) {
    if (edge.kind === 'update') {
      pinned.add(edge.source);
      pinned.add(edge.target);
    } else if (variables.has(edge.target)) {
      owner.set(edge.target, edge.source);
      const outs = outputsOf.get(edge.source) ?? [];
      outs[edge.position ?? outs.length] = variables.get(edge.target)!;
      outputsOf.set(edge.source, outs);
    } else if (variables.has(edge.source)) {
      readers.set(edge.source, (readers.get(edge.source) ?? 0) + 1);
    }
  }
  const folded = (id: string): boolean =>
    owner.has(id) && (readers.get(id) ?? 0) > 0 && !pinned.has(id);

  const clusters = new Map<string, Cluster>();
  for (const cluster of body.clusters ?? []) {
    clusters.set(cluster.apply, cluster);
  }
  const nodes: DrawnNode[] = [];
  const byId = new Map<string, DrawnNode>();
  for (const node of body.nodes) {
    if (node.kind === 'variable' && folded(node.id)) {
      continue;
    }
    const label = nodeLabel(node);
    const drawn: DrawnNode = {
      id: node.id,
      node,
      label,
      width: Math.max(44, Math.ceil(label.length * CHAR_WIDTH) + 22),
      height: NODE_HEIGHT,
      cluster: node.kind === 'apply' ? clusters.get(node.id) ?? null : null
    };
    nodes.push(drawn);
    byId.set(node.id, drawn);
  }

  const edges: DrawnEdge[] = [];
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  const add = (source: string, target: string, variable: VariableNode | null, kind: string,
    position: number | null): void => {
    if (!byId.has(source) || !byId.has(target)) {
      return;
    }
    edges.push({ id: `${source}>${target}#${edges.length}`, source, target, variable, kind,
      position });
    push(children, source, target);
    push(parents, target, source);
  };
  for (const edge of body.edges) {
    const sourceVar = variables.get(edge.source);
    const targetVar = variables.get(edge.target);
    if (edge.kind === 'update') {
      add(edge.source, edge.target, sourceVar ?? null, 'update', null);
    } else if (sourceVar) {
      // variable -> apply: starts at the variable's box, or at its owner when it is folded
      const from = folded(sourceVar.id) ? owner.get(sourceVar.id)! : sourceVar.id;
      add(from, edge.target, sourceVar, 'data', edge.position);
    } else if (targetVar && !folded(targetVar.id)) {
      add(edge.source, edge.target, targetVar, 'data', edge.position);
    }
  }
  return { nodes, edges, byId, parents, children, variables, outputsOf };
}

/** Every node reachable from `start` along `next` (not counting `start` itself). */
export function reachable(start: string, next: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length) {
    for (const id of next.get(stack.pop()!) ?? []) {
      if (!seen.has(id)) {
        seen.add(id);
        stack.push(id);
      }
    }
  }
  seen.delete(start);
  return seen;
}

/** A variable's shape, saying when unknown static sizes were filled in from a known value. */
function shapeWithOrigin(v: VariableNode): string {
  return shapeText(v.shape) + (v.shape_from === 'test_value' ? ' (sizes from the test value)' : '');
}

function variableLines(v: VariableNode, lines: Array<[string, string]>): void {
  lines.push(['type', v.type]);
  if (v.dtype !== null) {
    lines.push(['dtype', v.dtype]);
  }
  if (v.shape !== null) {
    lines.push(['shape', shapeWithOrigin(v)]);
  }
}

/** The tooltip of a node: [key, value] rows, all plain text. */
export function nodeTooltip(node: GraphNode, graph: DrawnGraph): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  if (node.kind === 'apply') {
    applyLines(node, graph, lines);
  } else {
    lines.push(['variable', node.name ?? '(unnamed)']);
    lines.push(['role', node.role]);
    variableLines(node, lines);
    if (node.value !== undefined) {
      lines.push(['value', node.value]);
    }
  }
  lines.push(['source', node.source ?? 'unknown']);
  lines.push(['id', node.id]);
  return lines;
}

function applyLines(node: ApplyNode, graph: DrawnGraph, lines: Array<[string, string]>): void {
  lines.push(['op', node.op]);
  lines.push(['class', `${node.op_class} (${node.category})`]);
  if (node.inplace) {
    lines.push(['inplace', `overwrites input ${node.destroys.join(', ')}`]);
  }
  (graph.outputsOf.get(node.id) ?? []).forEach((out, i) => {
    if (out) {
      const name = out.name ? `${out.name}: ` : '';
      lines.push([`output ${i}`, `${name}${out.type}`]);
      if (out.shape !== null) {
        lines.push(['  shape', shapeWithOrigin(out)]);
      }
    }
  });
  if (node.percent !== undefined) {
    lines.push(['time', `${(node.time_s ?? 0).toPrecision(3)} s, ${node.percent.toFixed(1)}%, ` +
      `${node.calls ?? 0} calls`]);
  }
}

/** The tooltip of an edge: the variable it carries. */
export function edgeTooltip(edge: DrawnEdge): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  const v = edge.variable;
  if (v) {
    lines.push(['variable', v.name ?? '(unnamed)']);
    lines.push(['dtype', v.dtype ?? 'n/a']);
    lines.push(['shape', shapeWithOrigin(v)]);
    lines.push(['type', v.type]);
  }
  if (edge.kind === 'update') {
    lines.push(['update', 'stored into the shared variable after each call']);
  } else if (edge.position !== null) {
    lines.push(['input', String(edge.position)]);
  }
  return lines;
}

/** The lowercase text the search box matches a node against. */
export function searchText(node: GraphNode): string {
  const parts = node.kind === 'apply'
    ? [node.op, node.op_class, node.category]
    : [node.name ?? '', node.type, node.value ?? ''];
  return [node.id, ...parts].join('\n').toLowerCase();
}
