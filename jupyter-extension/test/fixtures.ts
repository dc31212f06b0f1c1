/** Small graph_json documents for the tests, built the way labsym's graph_json lays them out. */

import { GraphDoc, GraphNode } from '../src/schema';

export const HOSTILE = '<img src=x onerror=alert(1)>';
export const HOSTILE_SCRIPT = '<script>window.__pwned = 1</script>';

function variable(id: string, extra: Partial<GraphNode> = {}): GraphNode {
  return { id, kind: 'variable', name: null, type: 'TensorType(float64, vector)',
    dtype: 'float64', shape: [null], shape_from: 'type', role: 'intermediate',
    source: 'demo.py:4', ...extra } as GraphNode;
}

function apply(id: string, op: string, index: number, extra: Partial<GraphNode> = {}): GraphNode {
  return { id, kind: 'apply', op, op_class: 'Elemwise', category: 'elemwise', inplace: false,
    destroys: [], views: [], index, source: 'demo.py:4', ...extra } as GraphNode;
}

/** `y = exp(x * 2)` with every user string replaced by markup. */
export function hostileDoc(): GraphDoc {
  return {
    schema: 'labsym.graph', version: 1, title: HOSTILE_SCRIPT,
    nodes: [
      variable('v0', { name: HOSTILE, role: 'input', source: `${HOSTILE}:1` }),
      variable('v1', { name: null, role: 'constant', value: HOSTILE_SCRIPT, dtype: 'int8',
        type: HOSTILE, shape: [] }),
      apply('a0', HOSTILE, 0, { op_class: HOSTILE_SCRIPT, source: `${HOSTILE}:7` }),
      variable('v2', { name: HOSTILE_SCRIPT }),
      apply('a1', 'Elemwise{exp,no_inplace}', 1),
      variable('v3', { role: 'output', name: HOSTILE, shape: [3], shape_from: 'test_value' })
    ],
    edges: [
      { source: 'v0', target: 'a0', position: 0, kind: 'data' },
      { source: 'v1', target: 'a0', position: 1, kind: 'data' },
      { source: 'a0', target: 'v2', position: 0, kind: 'data' },
      { source: 'v2', target: 'a1', position: 0, kind: 'data' },
      { source: 'a1', target: 'v3', position: 0, kind: 'data' }
    ],
    inputs: ['v0', 'v1'], outputs: ['v3'], updates: [], clusters: [], profile: null
  };
}

/** A chain of `n` apply nodes (each reading the previous output and one input): a big graph. */
export function chainDoc(n: number): GraphDoc {
  const nodes: GraphNode[] = [variable('v0', { name: 'x', role: 'input' })];
  const edges: GraphDoc['edges'] = [];
  let last = 'v0';
  let v = 1;
  for (let i = 0; i < n; i++) {
    const w = `v${v++}`;
    nodes.push(variable(w, { name: `w${i}`, role: 'input' }));
    nodes.push(apply(`a${i}`, i % 3 ? 'Elemwise{add,no_inplace}' : 'Elemwise{mul,no_inplace}', i));
    const out = `v${v++}`;
    nodes.push(variable(out, { role: i === n - 1 ? 'output' : 'intermediate' }));
    edges.push({ source: last, target: `a${i}`, position: 0, kind: 'data' });
    edges.push({ source: w, target: `a${i}`, position: 1, kind: 'data' });
    edges.push({ source: `a${i}`, target: out, position: 0, kind: 'data' });
    last = out;
  }
  return { schema: 'labsym.graph', version: 1, title: null, nodes, edges,
    inputs: nodes.filter(n => n.kind === 'variable' && n.role === 'input').map(n => n.id),
    outputs: [last], updates: [], clusters: [], profile: null };
}
