"""The graph: Type, Variable, Constant, Apply, and traversals (ancestors, toposort, clone).

May import labsym.utils only; types, ops and everything else build on it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from labsym.utils import Scratchpad, user_source_location


class Type:
    """What values a Variable may hold; `filter` converts or rejects a runtime value."""

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        raise NotImplementedError

    def is_valid_value(self, value: Any) -> bool:
        try:
            self.filter(value, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def make_variable(self, name: str | None = None) -> Variable:
        return Variable(self, name=name)

    def __call__(self, name: str | None = None) -> Variable:
        return self.make_variable(name)

    def make_constant(self, value: Any, name: str | None = None) -> Constant:
        return Constant(self, self.filter(value), name=name)

    def values_eq(self, a: Any, b: Any) -> bool:
        return a == b

    def values_eq_approx(self, a: Any, b: Any) -> bool:
        return self.values_eq(a, b)


class Variable:
    """A symbolic value: its Type, the Apply that made it (owner) and where user code made it."""

    def __init__(
        self,
        type: Type,
        owner: Apply | None = None,
        index: int | None = None,
        name: str | None = None,
    ) -> None:
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Scratchpad()
        self.trace = user_source_location()

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            if len(self.owner.outputs) == 1:
                return f"{op}.0"
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self) -> str:
        return str(self)

    def clone(self) -> Variable:
        """A new owner-less Variable of the same type and name (tags are shared copies)."""
        cp = self.__class__(self.type, None, None, self.name)
        cp.tag.__dict__.update(self.tag.__dict__)
        cp.trace = self.trace
        return cp

    def get_parents(self) -> list[Apply]:
        return [self.owner] if self.owner is not None else []

    def eval(self, inputs_to_values: dict | None = None) -> Any:
        """Compile (cached per input set) and evaluate this variable: `(x + 1).eval({x: 2.})`."""
        from labsym.core.evaluation import evaluate

        return evaluate(self, inputs_to_values or {})


class Constant(Variable):
    """A Variable with a fixed value; merged with equal constants by the optimizer."""

    def __init__(self, type: Type, data: Any, name: str | None = None) -> None:
        super().__init__(type, None, None, name)
        self.data = data

    def signature(self) -> tuple:
        """Equality key for merging equal constants."""
        return (self.type, _data_key(self.data))

    def clone(self) -> Constant:
        cp = self.__class__(self.type, self.data, self.name)
        cp.tag.__dict__.update(self.tag.__dict__)
        cp.trace = self.trace
        return cp

    @property
    def value(self) -> Any:
        return self.data


def _data_key(data: Any) -> Any:
    shape = getattr(data, "shape", None)
    if shape is None:
        return data
    return (str(getattr(data, "dtype", "")), shape, data.tobytes())


class Apply:
    """One application of an Op to input Variables, producing output Variables."""

    def __init__(self, op: Any, inputs: Sequence[Variable], outputs: Sequence[Variable]) -> None:
        self.op = op
        self.inputs = list(inputs)
        self.outputs = []
        self.tag = Scratchpad()
        for i, out in enumerate(outputs):
            if out.owner is not None and (out.owner is not self or out.index != i):
                raise ValueError(f"output {i} of {op} already belongs to another Apply")
            out.owner = self
            out.index = i
            self.outputs.append(out)
        for i, inp in enumerate(self.inputs):
            if not isinstance(inp, Variable):
                raise TypeError(f"{op}: input {i} is {inp!r}, not a symbolic Variable")

    @property
    def out(self) -> Variable:
        """The default output (Theano's `node.out`)."""
        default = getattr(self.op, "default_output", None)
        if default is not None:
            return self.outputs[default]
        if len(self.outputs) != 1:
            raise AttributeError(f"{self.op} has {len(self.outputs)} outputs; pick one")
        return self.outputs[0]

    @property
    def nin(self) -> int:
        return len(self.inputs)

    @property
    def nout(self) -> int:
        return len(self.outputs)

    def clone_with_new_inputs(self, inputs: Sequence[Variable], strict: bool = True) -> Apply:
        """The same op applied to new inputs; same output types when `strict`."""
        if strict:
            node = Apply(self.op, inputs, [o.clone() for o in self.outputs])
            for old, new in zip(self.inputs, inputs):
                if old.type != new.type:
                    return self.op.make_node(*inputs)
            return node
        return self.op.make_node(*inputs)

    def __str__(self) -> str:
        return f"{self.op}({', '.join(str(i) for i in self.inputs)})"

    def __repr__(self) -> str:
        return str(self)


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """Every variable the outputs depend on, outputs first (stops at `blockers`)."""
    blocked = set(blockers)
    seen: set[int] = set()
    order: list[Variable] = []
    stack = list(outputs)[::-1]
    while stack:
        var = stack.pop()
        if id(var) in seen:
            continue
        seen.add(id(var))
        order.append(var)
        if var.owner is not None and var not in blocked:
            stack.extend(reversed(var.owner.inputs))
    return order


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The owner-less variables (inputs, shared, constants) the outputs depend on."""
    blocked = set(blockers)
    return [v for v in ancestors(outputs, blocked) if v.owner is None or v in blocked]


def io_toposort(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """Apply nodes between inputs and outputs, each after the nodes that feed it."""
    stop = set(inputs)
    order: list[Apply] = []
    done: set[Apply] = set()
    for out in outputs:
        _visit(out, stop, done, order)
    return order


def _visit(root: Variable, stop: set, done: set, order: list) -> None:
    # iterative post-order DFS: deep graphs (long chains) must not hit recursion limits
    stack: list[tuple[Apply, int]] = []
    if root in stop or root.owner is None or root.owner in done:
        return
    stack.append((root.owner, 0))
    while stack:
        node, i = stack.pop()
        if i < len(node.inputs):
            stack.append((node, i + 1))
            inp = node.inputs[i]
            if inp not in stop and inp.owner is not None and inp.owner not in done:
                done.add(inp.owner)
                stack.append((inp.owner, 0))
            continue
        done.add(node)
        order.append(node)


def theano_toposort(
    inputs: Iterable[Variable],
    outputs: Iterable[Variable],
    orderings: dict[Apply, list[Apply]] | None = None,
) -> list[Apply]:
    """The nodes in the order Theano's `io_toposort` gives a function's graph.

    debugprint numbers a compiled function's nodes by it, and the function runs them in it.
    Without `orderings`: a stack walk from the outputs that computes a node's last input
    first. With `orderings` (node -> nodes that must run before it, e.g. the readers of a
    buffer it overwrites): Theano's general sort, which releases nodes in the order a
    depth-first search reached them.
    """
    if orderings:
        return _ordered_toposort(set(inputs), list(outputs), orderings)
    computed = set(inputs)
    done: set[Apply] = set()
    order: list[Apply] = []
    todo = [out.owner for out in reversed(list(outputs)) if out.owner is not None]
    while todo:  # a stack, not recursion: long chains must not hit the recursion limit
        node = todo.pop()
        if node in done:
            continue
        waiting = [v.owner for v in node.inputs if v not in computed and v.owner is not None]
        if waiting:
            todo.append(node)
            todo.extend(waiting)  # the last input's producer is popped (computed) first
        else:
            done.add(node)
            computed.update(node.outputs)
            order.append(node)
    return order


def _ordered_toposort(
    stop: set[Variable], outputs: list[Variable], orderings: dict[Apply, list[Apply]]
) -> list[Apply]:
    """Theano's general toposort over variables and nodes, with extra node dependencies."""

    def deps(item: Any) -> list:
        if item in stop:
            return []
        if isinstance(item, Apply):
            return list(item.inputs) + list(orderings.get(item, ()))
        return [item.owner] if item.owner is not None else []

    pending: dict[Any, list] = {}
    users: dict[Any, list] = {}
    reached: list[Any] = []
    seen: set[int] = set()
    stack: list[Any] = list(outputs)
    while stack:  # depth-first, remembering who depends on whom
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        reached.append(item)
        pending[item] = deps(item)
        for dep in pending[item]:
            users.setdefault(dep, []).append(item)
        stack.extend(pending[item])
    ready = deque(item for item in reached if not pending[item])
    placed: set[Any] = set()
    order: list[Apply] = []
    while ready:
        item = ready.popleft()
        if item in placed:
            continue
        placed.add(item)
        if isinstance(item, Apply):
            order.append(item)
        for user in users.get(item, ()):
            pending[user] = [d for d in pending[user] if d is not item]
            if not pending[user]:
                ready.append(user)
    if len(placed) != len(reached):
        raise ValueError("the graph has a cycle (check the orderings given to theano_toposort)")
    return order


def destroy_orderings(clients: dict[Variable, list], nodes: Iterable[Apply]) -> dict:
    """For each node that overwrites an input: the other readers of that buffer (Theano's).

    A buffer is the variable at the root of a chain of views (view_map) and every view of it;
    its readers must run before the node that overwrites it.
    """
    rval: dict[Apply, list[Apply]] = {}
    for node in nodes:
        destroy_map = getattr(node.op, "destroy_map", None) or {}
        before: dict[Apply, None] = {}  # an ordered set
        for ins in destroy_map.values():
            for reader in _buffer_readers(node.inputs[ins[0]], clients):
                before[reader] = None
        before.pop(node, None)
        if before:
            rval[node] = list(before)
    return rval


def _buffer_readers(var: Variable, clients: dict[Variable, list]) -> list[Apply]:
    root = var
    while root.owner is not None:
        view_map = getattr(root.owner.op, "view_map", None) or {}
        if root.index not in view_map:
            break
        root = root.owner.inputs[view_map[root.index][0]]
    impact = [root]
    queue = deque([root])
    while queue:  # every view of the root, breadth first
        viewed = queue.popleft()
        for client, _ in clients.get(viewed, ()):
            if not isinstance(client, Apply):
                continue
            for out, ins in (getattr(client.op, "view_map", None) or {}).items():
                view = client.outputs[out]
                if client.inputs[ins[0]] is viewed and view not in impact:
                    impact.append(view)
                    queue.append(view)
    impact = impact[1:] + impact[:1]  # Theano lists the views, then the root
    readers: dict[Apply, None] = {}
    for v in impact:
        for client, _ in clients.get(v, ()):
            if isinstance(client, Apply):
                readers[client] = None
    return list(readers)


def clone_graph(
    inputs: Sequence[Variable],
    outputs: Sequence[Variable],
    memo: dict[Variable, Variable] | None = None,
    copy_inputs: bool = True,
) -> tuple[list[Variable], list[Variable], dict[Variable, Variable]]:
    """Copy the graph between inputs and outputs; `memo` maps originals to their copies."""
    memo = dict(memo or {})
    for inp in inputs:
        if inp not in memo:
            memo[inp] = inp.clone() if copy_inputs else inp
    for node in io_toposort(list(memo), outputs):
        new_inputs = []
        for var in node.inputs:
            if var not in memo:
                memo[var] = var.clone() if isinstance(var, Constant) or copy_inputs else var
            new_inputs.append(memo[var])
        new_node = node.clone_with_new_inputs(new_inputs)
        for old, new in zip(node.outputs, new_node.outputs):
            new.name = old.name
            new.trace = old.trace
            new.tag.__dict__.update(old.tag.__dict__)
            memo[old] = new
    for out in outputs:
        if out not in memo:
            memo[out] = out.clone() if copy_inputs else out
    return [memo[i] for i in inputs], [memo[o] for o in outputs], memo
