/**
 * The JSON documents labsym's kernel side writes (docs/graph-json.md), as types, and the checks
 * that decide whether this renderer can read a document.  Every string in them is data.
 */

export const GRAPH_MIME = 'application/vnd.labsym.graph+json';
export const REWRITES_MIME = 'application/vnd.labsym.rewrites+json';
/** The mime types this extension renders; package.json's `labsym.mimeTypes` lists the same. */
export const MIME_TYPES = [GRAPH_MIME, REWRITES_MIME];
export const GRAPH_VERSION = 1;
export const REWRITES_VERSION = 1;

export type Dims = Array<number | null> | null;

export interface VariableNode {
  id: string;
  kind: 'variable';
  name: string | null;
  type: string;
  dtype: string | null;
  shape: Dims;
  shape_from: 'type' | 'test_value' | null;
  role: string;
  source: string | null;
  value?: string;
}

export interface ApplyNode {
  id: string;
  kind: 'apply';
  op: string;
  op_class: string;
  category: string;
  inplace: boolean;
  destroys: number[];
  views: number[];
  index: number;
  source: string | null;
  time_s?: number;
  percent?: number;
  calls?: number;
}

export type GraphNode = VariableNode | ApplyNode;

export interface GraphEdge {
  source: string;
  target: string;
  position: number | null;
  kind: 'data' | 'update' | string;
}

export interface GraphBody {
  nodes: GraphNode[];
  edges: GraphEdge[];
  inputs: string[];
  outputs: string[];
  updates: Array<[string, string]>;
  clusters: Cluster[];
}

export interface Cluster extends GraphBody {
  id: string;
  apply: string;
  kind: string;
  title: string;
  name: string | null;
}

export interface Profile {
  name: string;
  call_count: number;
  call_time_s: number;
  node_time_s: number;
  compile_time_s: number;
}

export interface GraphDoc extends GraphBody {
  schema: 'labsym.graph';
  version: number;
  title: string | null;
  profile: Profile | null;
}

export interface RewriteStep {
  index: number;
  phase: string;
  rule: string;
  math: string;
  before: string;
  after: string;
  before_graph: GraphDoc | null;
  after_graph: GraphDoc | null;
}

export interface RewritesDoc {
  schema: 'labsym.rewrites';
  version: number;
  steps: RewriteStep[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkBody(body: Record<string, unknown>, where: string): void {
  for (const key of ['nodes', 'edges']) {
    if (!Array.isArray(body[key])) {
      throw new Error(`${where}: "${key}" is not a list`);
    }
  }
  for (const node of body.nodes as unknown[]) {
    if (!isObject(node) || typeof node.id !== 'string') {
      throw new Error(`${where}: a node without a string id`);
    }
  }
  for (const edge of body.edges as unknown[]) {
    if (!isObject(edge) || typeof edge.source !== 'string' || typeof edge.target !== 'string') {
      throw new Error(`${where}: an edge without string source and target`);
    }
  }
  const clusters = body.clusters ?? [];
  if (!Array.isArray(clusters)) {
    throw new Error(`${where}: "clusters" is not a list`);
  }
  for (const cluster of clusters) {
    if (!isObject(cluster) || typeof cluster.apply !== 'string') {
      throw new Error(`${where}: a cluster without an apply id`);
    }
    checkBody(cluster, `${where} cluster`);
  }
}

/** The document as a GraphDoc; throws an Error saying why when this renderer cannot read it. */
export function readGraph(data: unknown): GraphDoc {
  if (!isObject(data) || data.schema !== 'labsym.graph') {
    throw new Error('not a labsym.graph document');
  }
  if (typeof data.version !== 'number' || data.version > GRAPH_VERSION) {
    throw new Error(
      `labsym.graph version ${String(data.version)} is newer than this renderer ` +
        `(version ${GRAPH_VERSION}); upgrade the labsym-jupyter extension`
    );
  }
  checkBody(data, 'graph');
  // a copy: the output model's data is not ours to change
  return { ...data, clusters: data.clusters ?? [] } as unknown as GraphDoc;
}

/** The document as a RewritesDoc (its graphs checked); throws an Error saying why not. */
export function readRewrites(data: unknown): RewritesDoc {
  if (!isObject(data) || data.schema !== 'labsym.rewrites') {
    throw new Error('not a labsym.rewrites document');
  }
  if (typeof data.version !== 'number' || data.version > REWRITES_VERSION) {
    throw new Error(
      `labsym.rewrites version ${String(data.version)} is newer than this renderer ` +
        `(version ${REWRITES_VERSION}); upgrade the labsym-jupyter extension`
    );
  }
  if (!Array.isArray(data.steps)) {
    throw new Error('labsym.rewrites: "steps" is not a list');
  }
  const graph = (value: unknown): GraphDoc | null =>
    value === null || value === undefined ? null : readGraph(value);
  const steps = data.steps.map(step => {
    if (!isObject(step)) {
      throw new Error('labsym.rewrites: a step is not an object');
    }
    return { ...step, before_graph: graph(step.before_graph), after_graph: graph(step.after_graph) };
  });
  return { ...data, steps } as unknown as RewritesDoc;
}
