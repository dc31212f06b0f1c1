"""FunctionGraph: a private copy of a graph between chosen inputs and outputs, with clients.

Rewrites edit it through `replace`, which checks types. Features (shape inference, destroy
tracking) are explicit fields set by whoever needs them, not attribute forwarding.
May import core.graph and core.aliasing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from labsym.core.aliasing import alias_map, alias_root
from labsym.core.exceptions import MissingInputError
from labsym.core.graph import (
    Apply,
    Constant,
    Variable,
    clone_graph,
    destroy_orderings,
    theano_toposort,
)

OUTPUT = "output"  # client marker: (OUTPUT, i) means "fgraph.outputs[i]"


class InconsistencyError(ValueError):
    """A replacement would break the graph (wrong type, or a cycle)."""


class FunctionGraph:
    """The graph a function computes: inputs, outputs, apply nodes and each variable's clients."""

    def __init__(
        self,
        inputs: Sequence[Variable],
        outputs: Sequence[Variable],
        clone: bool = True,
        memo: dict[Variable, Variable] | None = None,
    ) -> None:
        if clone:
            inputs, outputs, memo = clone_graph(inputs, outputs, memo)
        self.memo: dict[Variable, Variable] = dict(memo or {})
        self.inputs: list[Variable] = list(inputs)
        self.outputs: list[Variable] = []
        self.apply_nodes: set[Apply] = set()
        self.variables: set[Variable] = set()
        self.clients: dict[Variable, list[tuple[Any, int]]] = {}
        self.shape_feature: Any = None
        self.destroy_handler: Any = None
        # inputs no op may overwrite (set by check_user_inplace when the user's graph has
        # destructive ops): replace() refuses a rewrite that would make one destroyed
        self.protected: set[Variable] = set()
        self.history: list[Any] | None = None
        self._listeners: list[Callable[..., None]] = []
        for inp in self.inputs:
            if inp.owner is not None:
                raise ValueError(
                    f"FunctionGraph input {inp} is computed by {inp.owner}; inputs must be roots"
                )
            self._add_variable(inp)
        for i, out in enumerate(outputs):
            self._import(out)
            self.outputs.append(out)
            self.clients[out].append((OUTPUT, i))

    # ------------------------------------------------------------------ structure
    def _add_variable(self, var: Variable) -> None:
        if var not in self.variables:
            self.variables.add(var)
            self.clients.setdefault(var, [])

    def _import(self, var: Variable) -> list[Apply]:
        """Add `var` and the nodes computing it that are not in the graph yet; returns those."""
        added = self._new_nodes(var)
        for node in added:
            for i, inp in enumerate(node.inputs):
                if inp not in self.variables:
                    if (
                        inp.owner is None
                        and not isinstance(inp, Constant)
                        and inp not in self.inputs
                    ):
                        raise MissingInputError(
                            f"the graph needs {inp} (created at {inp.trace}), which is not an "
                            "input; pass it in the inputs list or give it a value with givens"
                        )
                    self._add_variable(inp)
                self.clients[inp].append((node, i))
            self.apply_nodes.add(node)
            for out in node.outputs:
                self._add_variable(out)
        if var.owner is None and var not in self.variables:
            if not isinstance(var, Constant) and var not in self.inputs:
                raise MissingInputError(f"output {var} is not computed from the inputs")
            self._add_variable(var)
        return added

    def _new_nodes(self, var: Variable) -> list[Apply]:
        """The nodes computing `var` that are not in the graph, each after those feeding it
        (io_toposort stopping at the graph's variables, without copying them: O(new nodes))."""
        order: list[Apply] = []
        if var in self.variables or var.owner is None:
            return order
        done = {var.owner}
        stack = [(var.owner, 0)]
        while stack:
            node, i = stack.pop()
            if i == len(node.inputs):
                order.append(node)
                continue
            stack.append((node, i + 1))
            owner = node.inputs[i].owner
            if node.inputs[i] not in self.variables and owner is not None and owner not in done:
                done.add(owner)
                stack.append((owner, 0))
        return order

    def _prune(self, var: Variable) -> None:
        """Remove the node computing `var` (recursively) once nothing uses its outputs."""
        stack = [var]
        while stack:
            v = stack.pop()
            node = v.owner
            if node is None or node not in self.apply_nodes:
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.variables.discard(o)
                self.clients.pop(o, None)
            for i, inp in enumerate(node.inputs):
                clients = self.clients.get(inp)
                if clients is not None and (node, i) in clients:
                    clients.remove((node, i))
                    if not clients and inp.owner is not None:
                        stack.append(inp)

    # ------------------------------------------------------------------ editing
    def change_input(
        self, client: Any, index: int, new: Variable, reason: str | None = None
    ) -> None:
        """Make `client` (an Apply or OUTPUT) read `new` at input `index`."""
        if client == OUTPUT:
            old = self.outputs[index]
            self.outputs[index] = new
        else:
            old = client.inputs[index]
            client.inputs[index] = new
        self._import(new)
        self.clients[new].append((client, index))
        self.clients[old].remove((client, index))
        for listener in self._listeners:
            listener("change_input", client, index, old, new, reason)
        if not self.clients[old]:
            self._prune(old)

    def replace(self, var: Variable, new: Variable, reason: str | None = None) -> None:
        """Make every client of `var` use `new` instead; types must be compatible."""
        self._replace(var, new, reason)

    def _replace(self, var: Variable, new: Variable, reason: str | None) -> list[tuple[Any, int]]:
        """replace(); returns the (client, index) inputs it changed, for an undo."""
        if var is new:
            return []
        if var not in self.variables:
            raise InconsistencyError(f"{var} is not in this graph")
        if var.type != new.type:
            compatible = getattr(var.type, "is_super", None)
            if compatible is None or not compatible(new.type):
                raise InconsistencyError(
                    f"cannot replace {var} ({var.type}) by {new} ({new.type})"
                    + (f" in rewrite {reason}" if reason else "")
                )
        changed = list(self.clients[var])
        added = self._import(new) if changed else []
        for client, index in changed:
            self.change_input(client, index, new, reason)
        if self.protected:
            victim = self._destroyed_protected_from([*added, *(c for c, _ in changed)])
            if victim is not None:  # as Theano's DestroyHandler validate: undo and refuse
                self._undo(var, changed, reason)
                raise InconsistencyError(
                    f"replacing {var} by {new} would let an op overwrite {victim}"
                    + (f" (rewrite {reason})" if reason else "")
                )
        return changed

    def _undo(self, var: Variable, changed: list[tuple[Any, int]], reason: str | None) -> None:
        for client, index in changed:
            self.change_input(client, index, var, reason)

    def replace_all(
        self, pairs: Iterable[tuple[Variable, Variable]], reason: str | None = None
    ) -> None:
        """Each replacement in turn, all or nothing: when one is refused (InconsistencyError),
        those before it are undone before the error propagates. A variable an earlier
        replacement removed from the graph is skipped."""
        done: list[tuple[Variable, list[tuple[Any, int]]]] = []
        try:
            for var, new in pairs:
                if var in self.variables:
                    done.append((var, self._replace(var, new, reason)))
        except InconsistencyError:
            for var, changed in reversed(done):
                self._undo(var, changed, reason)
            raise

    def add_listener(self, listener: Callable[..., None]) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[..., None]) -> None:
        self._listeners.remove(listener)

    # ------------------------------------------------------------------ queries
    def destroyed_protected(self) -> Variable | None:
        """A protected input or a constant that some node overwrites (directly or through a
        view), or None."""
        for node in self.apply_nodes:
            victim = self._destroyed_by(node)
            if victim is not None:
                return victim
        return None

    def _destroyed_by(self, node: Apply) -> Variable | None:
        for ins in (getattr(node.op, "destroy_map", None) or {}).values():
            root = alias_root(node.inputs[ins[0]])
            if root in self.protected or isinstance(root, Constant):
                return root
        return None

    def _destroyed_protected_from(self, changed: Iterable[Any]) -> Variable | None:
        """destroyed_protected() after a replacement that added nodes and changed inputs of
        clients (`changed`: both). Only such a node, or one whose overwritten input aliases
        back through one of them, can have a new victim: the walk goes forward from them
        through the outputs that alias an input, so it costs what the change touches."""
        stack = [c for c in changed if isinstance(c, Apply)]
        seen: set[Apply] = set()
        while stack:
            node = stack.pop()
            if node in seen or node not in self.apply_nodes:
                continue
            seen.add(node)
            victim = self._destroyed_by(node)
            if victim is not None:
                return victim
            for out in alias_map(node):
                stack.extend(c for c, _ in self.clients.get(node.outputs[out], ()))
        return None

    def toposort(self) -> list[Apply]:
        """Apply nodes in Theano's order: each after those it reads and, for a node that
        overwrites a buffer, after the buffer's other readers."""
        orderings = destroy_orderings(self.clients, self.apply_nodes)
        return theano_toposort(self.inputs, self.outputs, orderings)

    def __str__(self) -> str:
        return f"FunctionGraph({', '.join(str(n) for n in self.toposort())})"

    def __repr__(self) -> str:
        return str(self)

    def clone(self) -> FunctionGraph:
        """A deep copy (new variables and nodes) of this graph."""
        return FunctionGraph(self.inputs, self.outputs, clone=True)


def check_user_inplace(
    fgraph: FunctionGraph, accept_inplace: bool, protected: Iterable[Variable]
) -> None:
    """Refuse user graphs that overwrite a caller's array, as Theano's std_fgraph + Supervisor.

    Theano compiled a graph holding a destructive (destroy_map) op only with
    `accept_inplace=True`, and even then no op may overwrite an input that is not
    `In(x, mutable=True)` (nor a view of one): that is the caller's NumPy array.
    """
    destroyers = [n for n in fgraph.toposort() if getattr(n.op, "destroy_map", None)]
    if not destroyers:
        return
    if not accept_inplace:
        raise TypeError(
            "Graph must not contain inplace operations", destroyers[0], destroyers[0].op
        )
    fgraph.protected = set(protected)
    victim = fgraph.destroyed_protected()
    if isinstance(victim, Constant):
        raise InconsistencyError("Attempting to destroy indestructible variables", victim)
    if victim is not None:
        raise InconsistencyError(
            "Trying to destroy a protected Variable.",
            victim,
            f"an op overwrites input {victim}; declare it In({victim}, mutable=True) "
            "to let the function overwrite the array you pass",
        )
