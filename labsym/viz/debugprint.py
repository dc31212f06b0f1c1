"""debugprint: Theano's indented text view of a graph, one line per variable.

May import labsym.core (graph, fgraph, function, shared) and labsym.utils.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from labsym.core.fgraph import OUTPUT, FunctionGraph
from labsym.core.function import Function
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.io import In, Out
from labsym.core.shared import SharedVariable

__all__ = ["ID_MODES", "char_from_number", "debugprint"]

ID_MODES = ("CHAR", "id", "int", "")


def char_from_number(number: int) -> str:
    """`number` in base 26 with capital letters as digits: 0 -> 'A', 25 -> 'Z', 26 -> 'BA'.

    These are the short labels debugprint and min_informative_str give to nodes (Theano's).
    """
    if number < 0:
        raise ValueError(f"char_from_number needs a non-negative number, got {number}")
    text = ""
    while True:
        number, digit = divmod(number, 26)
        text = chr(ord("A") + digit) + text
        if number == 0:
            return text


@dataclass
class _Tree:
    """One output to print, with what its graph knows: toposort positions, storage, clients."""

    root: Variable
    order: dict[Apply, int] | None = None
    storage: dict[Variable, list] | None = None
    clients: dict[Variable, list] | None = None


@dataclass
class _Printer:
    """Shared state while printing several trees: ids given out and nodes already expanded."""

    ids: str
    print_type: bool
    stop_on_name: bool
    print_clients: bool
    print_location: bool
    done: dict
    used_ids: dict
    lines: list[str] = field(default_factory=list)
    outer_of: dict = field(default_factory=dict)  # a scan's inner input -> its outer input

    def id_of(self, obj: Any) -> str:
        """The id printed for `obj` (an Apply or an owner-less Variable), given on first sight."""
        if obj not in self.used_ids:
            if self.ids == "CHAR":
                self.used_ids[obj] = f"[id {char_from_number(len(self.used_ids))}]"
            elif self.ids == "int":
                self.used_ids[obj] = f"[id {len(self.used_ids)}]"
            elif self.ids == "id":
                self.used_ids[obj] = f"[id {id(obj)}]"
            else:
                self.used_ids[obj] = ""
        return self.used_ids[obj]

    def print_tree(self, tree: _Tree, depth: int) -> None:
        """Append the lines of `tree`, depth first; a node seen before is not expanded again."""
        stack = [(tree.root, "", "", depth)]
        while stack:
            var, prefix, child_prefix, levels = stack.pop()
            if levels == 0:
                continue
            node = var.owner
            if node is None:
                self.lines.append(self._leaf_line(var, prefix, tree))
                continue
            expand = node not in self.done
            self.done[node] = self.id_of(node)
            self.lines.append(self._apply_line(var, prefix, tree))
            if not expand or (self.stop_on_name and var.name is not None):
                continue
            last = len(node.inputs) - 1
            # a child's own children hang from " |" while later siblings follow, else from "  "
            for i in range(last, -1, -1):
                tail = "  " if i == last else " |"
                stack.append((node.inputs[i], child_prefix + " |", child_prefix + tail, levels - 1))

    def _apply_line(self, var: Variable, prefix: str, tree: _Tree) -> str:
        # Theano's exact layout, spaces included: "op id<type> 'name' <destroy> <view> order"
        node = var.owner
        label = str(node.op) if len(node.outputs) == 1 else f"{node.op}.{var.index}"
        node_id = self.id_of(node)  # before the clients': Theano gives ids in this order
        order = "" if tree.order is None else str(tree.order[node])
        storage = _storage_text(node.outputs[0], tree.storage)
        clients = self._clients_text(var, tree) if self.print_clients else ""
        line = (
            f"{prefix}{label} {node_id}{self._type(var)} '{var.name or ''}'   "
            f"{order}{storage}{clients}"
        )
        return self._finish(line, var)

    def _leaf_line(self, var: Variable, prefix: str, tree: _Tree) -> str:
        outer = self.outer_of.get(var)
        if outer is not None:  # Theano: "A_copy [id Y] -> [id M]", the outer input's id
            outer_id = self.id_of(outer if outer.owner is None else outer.owner)
            return self._finish(
                f"{prefix}{var} {self.id_of(var)}{self._type(var)} -> {outer_id}", var
            )
        storage = _storage_text(var, tree.storage)
        return self._finish(f"{prefix}{var} {self.id_of(var)}{self._type(var)}{storage}", var)

    def _type(self, var: Variable) -> str:
        return f" <{var.type}>" if self.print_type else ""

    def _clients_text(self, var: Variable, tree: _Tree) -> str:
        clients = (tree.clients or {}).get(var, [])
        if len(clients) <= 1:
            return ""
        shown = []
        for client, _ in clients:
            if client == OUTPUT:
                # Theano files "output" among the ids it has given, which uses up a letter
                self.used_ids.setdefault(OUTPUT, "output")
                shown.append(("output", ""))
            else:
                position = "" if tree.order is None else tree.order.get(client, "")
                shown.append((self.id_of(client), position))
        return f" clients:{shown}"

    def _finish(self, line: str, var: Variable) -> str:
        if self.print_location and var.trace is not None:
            line += f"  (created at {os.path.basename(var.trace.filename)}:{var.trace.lineno})"
        return line


def _storage_text(var: Variable, storage: dict[Variable, list] | None) -> str:
    """' [value]' for a function's storage cell (Theano's print_storage; '[None]' when empty)."""
    if storage is None:
        return ""
    return " " + " ".join(str(storage.get(var, [None])).split())  # one line, whatever the repr


def _function_storage(fn: Function) -> dict[Variable, list]:
    """The values a compiled function holds between calls: constants, shared and default inputs."""
    fgraph = fn.maker.fgraph
    cells = {var: [var.data] for var in fgraph.variables if isinstance(var, Constant)}
    for var, spec in zip(fgraph.inputs, fn.maker.inputs, strict=False):  # explicit inputs first
        with contextlib.suppress(KeyError):  # an input without a default value holds nothing
            cells[var] = [fn[spec.variable]]
    for var in fgraph.inputs:
        if isinstance(var, SharedVariable):
            cells[var] = [var.container.value]
    return cells


def _graph_trees(fgraph: FunctionGraph, storage: dict | None) -> list[_Tree]:
    order = {node: i for i, node in enumerate(fgraph.toposort())}
    return [_Tree(out, order, storage, fgraph.clients) for out in fgraph.outputs]


def _trees(obj: Any, print_storage: bool) -> list[_Tree]:
    items = obj if isinstance(obj, (list, tuple, set)) else [obj]
    trees: list[_Tree] = []
    for item in items:
        if isinstance(item, Variable):
            trees.append(_Tree(item))
        elif isinstance(item, Apply):
            trees.extend(_Tree(out) for out in item.outputs)
        elif isinstance(item, Function):
            storage = _function_storage(item) if print_storage else None
            trees.extend(_graph_trees(item.maker.fgraph, storage))
        elif isinstance(item, FunctionGraph):
            trees.extend(_graph_trees(item, None))
        elif isinstance(item, (In, Out)):  # Theano prints the variable they wrap
            trees.append(_Tree(item.variable))
        else:
            raise TypeError(
                f"debugprint cannot print {type(item).__name__} {item!r:.60}; expected a Variable, "
                "an Apply, a compiled Function, a FunctionGraph or a list of them"
            )
    return trees


def _print_inner_graphs(printer: _Printer, depth: int) -> None:
    """Theano's "Inner graphs of the scan ops:" section: each scan's (and OpFromGraph's) graph,
    under the node's own debugprint line."""
    shown: set[Apply] = set()
    pending = [n for n in printer.done if isinstance(getattr(n.op, "fgraph", None), FunctionGraph)]
    if pending:
        printer.lines += ["", "Inner graphs of the scan ops:"]
    while pending:
        node = pending.pop(0)
        if node in shown:
            continue
        shown.add(node)
        printer.lines += ["", printer._apply_line(node.outputs[0], "", _Tree(node.outputs[0]))]
        printer.outer_of = _scan_inputs_map(node)
        start = len(printer.lines)
        before = set(printer.done)
        for tree in _graph_trees(node.op.fgraph, None):
            printer.print_tree(_Tree(tree.root), depth)
        printer.lines[start:] = [" >" + line for line in printer.lines[start:]]
        pending += [
            n
            for n in printer.done
            if n not in before and isinstance(getattr(n.op, "fgraph", None), FunctionGraph)
        ]


def _scan_inputs_map(node: Apply) -> dict:
    """A scan node's inner inputs -> the outer inputs they stand for (sequence, initial state,
    shared or non-sequence); empty for other ops with an inner graph."""
    info = getattr(node.op, "info", None)
    if not (hasattr(info, "outer_groups") and hasattr(info, "inner_groups")):
        return {}
    seqs, inits, shared, nonseqs = info.outer_groups(node.inputs[1:])
    in_seqs, in_taps, in_shared, in_nonseqs = info.inner_groups(node.op.fgraph.inputs)
    pairs = list(zip(in_seqs, seqs)) + list(zip(in_shared, shared)) + list(zip(in_nonseqs, nonseqs))
    pairs += [(inner, init) for taps, init in zip(in_taps, inits) for inner in taps]
    return dict(pairs)


def debugprint(
    obj: Any,
    depth: int = -1,
    print_type: bool = False,
    file: Any = None,
    ids: str = "CHAR",
    stop_on_name: bool = False,
    done: dict | None = None,
    print_storage: bool = False,
    print_clients: bool = False,
    used_ids: dict | None = None,
    print_location: bool = False,
) -> Any:
    """Print a graph as an indented tree, one line per variable (Theano's format).

    The text answers "what computes this, from what": each line is an op (with its id, name and,
    for compiled functions, its position in the execution order) or an input.

    Parameters
    ----------
    obj : Variable, Apply, Function, FunctionGraph, or a list of them
    depth : levels to print (-1: all)
    print_type : add each variable's type after its id
    file : None prints to stdout; 'str' returns the text; a file-like object is written and returned
    ids : 'CHAR' (A, B, ..., Z, BA), 'int' (0, 1, ...), 'id' (Python ids) or '' (none)
    stop_on_name : do not expand below named variables
    done, used_ids : dicts shared between calls so ids and "already printed" carry over
    print_storage : for a Function, show the values it holds (constants, shared, defaults)
    print_clients : for a Function or FunctionGraph, list the clients of multi-client nodes
    print_location : append the file:line of user code that created each variable

    Examples
    --------
    >>> x, y = dscalars('x', 'y'); z = x + y; z.name = 'z'
    >>> debugprint(2. * z)  # lines of ops end with three spaces (then the order, if any)
    Elemwise{mul,no_inplace} [id A] ''
     |TensorConstant{2.0} [id B]
     |Elemwise{add,no_inplace} [id C] 'z'
       |x [id D]
       |y [id E]
    """
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise TypeError(f"debugprint: depth must be an int (-1 for all levels), got {depth!r}")
    if ids not in ID_MODES:
        raise ValueError(f"debugprint: ids must be one of {ID_MODES}, got {ids!r}")
    printer = _Printer(
        ids,
        print_type,
        stop_on_name,
        print_clients,
        print_location,
        {} if done is None else done,
        {} if used_ids is None else used_ids,
    )
    for tree in _trees(obj, print_storage):
        printer.print_tree(tree, depth)
    _print_inner_graphs(printer, depth)
    text = "".join(line + "\n" for line in printer.lines)
    if file == "str":
        return text
    stream = sys.stdout if file is None else file
    stream.write(text)
    if file is None:
        stream.flush()
        return None
    return file
