/**
 * What a rewrite step changed: the nodes of its before graph that are gone from its after graph
 * (removed) and the new ones (added).  The two documents number their ids independently, so
 * nodes are matched by structure: a leaf by its name, type and value, an apply node by its op
 * and the structure of its inputs, an output by its apply node and position.
 */

import { GraphDoc } from './schema';
import { DiffMark } from './view';

/** Structure keys of every node of `doc`, interned in `table` so both graphs share numbers. */
function signatures(doc: GraphDoc, table: Map<string, number>): Map<string, number> {
  const intern = (key: string): number => {
    let n = table.get(key);
    if (n === undefined) {
      n = table.size;
      table.set(key, n);
    }
    return n;
  };
  const inputsOf = new Map<string, Array<[number, string]>>();
  const ownerOf = new Map<string, [string, number]>();
  const kinds = new Map(doc.nodes.map(n => [n.id, n]));
  for (const edge of doc.edges) {
    if (edge.kind === 'update') {
      continue;
    }
    if (kinds.get(edge.target)?.kind === 'apply') {
      const list = inputsOf.get(edge.target) ?? [];
      list.push([edge.position ?? list.length, edge.source]);
      inputsOf.set(edge.target, list);
    } else {
      ownerOf.set(edge.target, [edge.source, edge.position ?? 0]);
    }
  }
  const sig = new Map<string, number>();
  // graph_json lists every apply node after its inputs and before its outputs
  for (const node of doc.nodes) {
    if (node.kind === 'apply') {
      const ins = (inputsOf.get(node.id) ?? []).sort((a, b) => a[0] - b[0])
        .map(([, id]) => sig.get(id) ?? -1);
      sig.set(node.id, intern(`A\u0000${node.op}\u0000${ins.join(',')}`));
    } else {
      const owner = ownerOf.get(node.id);
      const key = owner && sig.has(owner[0])
        ? `O\u0000${sig.get(owner[0])}\u0000${owner[1]}`
        : `L\u0000${node.name ?? ''}\u0000${node.type}\u0000${node.value ?? ''}\u0000${node.role}`;
      sig.set(node.id, intern(key));
    }
  }
  return sig;
}

/** graph_json id -> added / removed / kept, for the nodes of both graphs of a step. */
export function diffGraphs(before: GraphDoc | null, after: GraphDoc | null): Map<string, DiffMark> {
  const table = new Map<string, number>();
  const a = before ? signatures(before, table) : new Map<string, number>();
  const b = after ? signatures(after, table) : new Map<string, number>();
  const inA = new Set(a.values());
  const inB = new Set(b.values());
  const marks = new Map<string, DiffMark>();
  for (const [id, s] of a) {
    marks.set(`before:${id}`, inB.has(s) ? 'kept' : 'removed');
  }
  for (const [id, s] of b) {
    marks.set(`after:${id}`, inA.has(s) ? 'kept' : 'added');
  }
  return marks;
}

/** The marks of one side (`before` or `after`) keyed by that document's own ids. */
export function side(marks: Map<string, DiffMark>, which: 'before' | 'after'): Map<string, DiffMark> {
  const prefix = `${which}:`;
  const out = new Map<string, DiffMark>();
  for (const [key, mark] of marks) {
    if (key.startsWith(prefix)) {
      out.set(key.slice(prefix.length), mark);
    }
  }
  return out;
}
