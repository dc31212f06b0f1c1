"""Canonical forms: identities removed, add/mul chains flattened and sorted, useless ops dropped.

Declarative rules state their math in `math=`, node rules in their docstring.
May import core and optim.patterns.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Constant, Variable, io_toposort
from labsym.core.ops import math as m
from labsym.core.ops.basic import Alloc, alloc
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.reduce import Sum
from labsym.core.ops.shape import MakeVector, Reshape, Shape, Shape_i, SpecifyShape, shape_i
from labsym.core.ops.subtensor import Subtensor, getitem
from labsym.core.variable import constant
from labsym.optim.patterns import Rule

# canonical forms are re-established after every phase that may break them
PHASE = ("canonicalize", "stabilize", "specialize")

_ADD_FAMILY = ("add", "sub", "neg")
_MUL_ROOTS = ("mul", "true_div")


class _Unsafe(Exception):
    """A rebuilt chain would compute a partial result in a narrower dtype than the original."""


# ---------------------------------------------------------------------------------- fills
def remove_useless_fill(fgraph: Any, node: Apply) -> list | None:
    """second(a, b) -> b when b already has the output's shape (e.g. fill(scalar, 1) -> 1)."""
    if not (isinstance(node.op, Elemwise) and node.op.scalar_op.name == "second"):
        return None
    a, b = node.inputs
    out = node.outputs[0]
    if b.type.shape == out.type.shape and all(d is not None for d in b.type.shape):
        return [b]
    if a.type.shape == out.type.shape and b.type.shape == a.type.shape and b.ndim == 0:
        return [b]
    return None


def cut_fill_model(fgraph: Any, node: Apply) -> list | None:
    """fill(f(u, c), b) -> fill(u, b) when u alone has f's shape: the model only gives a shape."""
    if not (isinstance(node.op, Elemwise) and node.op.scalar_op.name == "second"):
        return None
    model, value = node.inputs
    inner = model.owner
    if inner is None or not isinstance(inner.op, Elemwise) or len(inner.outputs) != 1:
        return None
    for u in inner.inputs:
        if u.type.shape == model.type.shape:
            return [m.second(u, value)]
    return None


def _is_fill(var: Any) -> bool:
    node = var.owner
    return node is not None and isinstance(node.op, Elemwise) and node.op.scalar_op.name == "second"


def _covers(v: Any, a: Any) -> bool:
    """Whether v is non-broadcastable wherever a is (so v alone fixes those lengths)."""
    return v.ndim == a.ndim and all(
        ad == 1 or vd != 1 for ad, vd in zip(a.type.shape, v.type.shape, strict=True)
    )


def _within(v: Any, a: Any) -> bool:
    """Whether v is broadcastable wherever a is not (so v never widens a's shape)."""
    return v.ndim == a.ndim and all(
        ad != 1 or vd == 1 for ad, vd in zip(a.type.shape, v.type.shape, strict=True)
    )


def sink_fill(fgraph: Any, node: Apply) -> list | None:
    """f(fill(a, b), c) -> f(b, c) when c fixes the shape, else fill(a, f(b, c)) if c fits in a."""
    op = node.op
    if not isinstance(op, Elemwise) or op.scalar_op.name == "second" or op.inplace_pattern:
        return None
    for i, inp in enumerate(node.inputs):
        if not _is_fill(inp):
            continue
        a, b = inp.owner.inputs
        others = node.inputs[:i] + node.inputs[i + 1 :]
        new_inputs = node.inputs[:i] + [b] + node.inputs[i + 1 :]
        if any(_covers(v, a) and not _is_fill(v) for v in others):
            return [op(*new_inputs)]
        if all(_within(v, a) for v in others):
            return [m.second(a, op(*new_inputs))]
    return None


def _keep_shape(result: Variable, removed: list, out: Variable) -> Variable:
    """`result` filled to the shape of the removed terms where it would otherwise be narrower."""
    for term in removed:
        if not _covers(result, term) and not _covers(result, out):
            result = m.second(term, result)
    return result


# ---------------------------------------------------------------------------------- duplicates
class _Twins:
    """The first node seen for each (op, inputs) key; a node is re-keyed when its inputs change."""

    by_graph: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.first: dict[tuple, Apply] = {}
        self.key_of: dict[Apply, tuple] = {}

    @classmethod
    def of(cls, fgraph: Any) -> _Twins:
        twins = cls.by_graph.get(fgraph)
        if twins is None:
            twins = cls.by_graph[fgraph] = cls()
            fgraph.add_listener(lambda event, client, *rest: twins.forget(client))
        return twins

    def forget(self, node: Any) -> None:
        key = self.key_of.pop(node, None)
        if key is not None and self.first.get(key) is node:
            del self.first[key]


def _input_key(var: Variable) -> Any:
    return var.signature() if isinstance(var, Constant) else id(var)


def merge_equal_node(fgraph: Any, node: Apply) -> list | None:
    """f(x, y) computed twice -> once, as the merge phase does, but inside a phase: duplicates
    that rewrites create (two sigmoid(-z)) then meet the identity-based rules of that phase."""
    twins = _Twins.of(fgraph)
    if node in twins.key_of or node.op.destroy_map:
        return None
    inputs = [_input_key(i) for i in node.inputs]
    if isinstance(node.op, Elemwise) and node.op.scalar_op.commutative:
        inputs.sort(key=repr)  # x + y and y + x share a key
    key = (node.op, tuple(inputs))
    other = twins.first.get(key)
    if other is None or other not in fgraph.apply_nodes or other.op != node.op:
        twins.first[key] = node
        twins.key_of[node] = key
        return None
    return list(other.outputs)


# ---------------------------------------------------------------------------------- chains
def _scalar_name(var: Variable) -> str | None:
    node = var.owner
    if node is None or not isinstance(node.op, Elemwise) or node.op.inplace_pattern:
        return None
    return node.op.scalar_op.name


def _only_client(fgraph: Any, var: Variable) -> Apply | None:
    """The one node reading `var`, or None when several do or it is an output."""
    clients = fgraph.clients.get(var, ())
    if len(clients) != 1 or not isinstance(clients[0][0], Apply):
        return None
    return clients[0][0]


def _is_inner(fgraph: Any, var: Variable, family: tuple[str, ...]) -> bool:
    """Whether var is flattened into the chain of its only client (which rewrites it instead)."""
    client = _only_client(fgraph, var)
    if client is None:
        return False
    return _scalar_name(client.outputs[0]) in family and client.outputs[0].dtype == var.dtype


def _signed_terms(fgraph: Any, var: Variable) -> list[tuple[int, Variable]]:
    """The (sign, term) pairs of the add/sub/neg chain rooted at var, through nodes of its dtype
    that nothing else reads."""
    terms: list[tuple[int, Variable]] = []
    stack = [(1, var, True)]
    while stack:
        sign, v, root = stack.pop()
        name = _scalar_name(v)
        if name not in _ADD_FAMILY or v.dtype != var.dtype or not (root or _only_client(fgraph, v)):
            terms.append((sign, v))
            continue
        a = v.owner.inputs
        if name == "add":
            stack += [(sign, a[1], False), (sign, a[0], False)]
        elif name == "sub":
            stack += [(-sign, a[1], False), (sign, a[0], False)]
        else:
            stack.append((-sign, a[0], False))
    return terms


def _factors(fgraph: Any, var: Variable, root: bool = True) -> tuple[int, list, list]:
    """(sign, numerator, denominator) of the mul/true_div/neg chain rooted at var."""
    sign, num, den = 1, [], []
    stack = [(True, var, root)]
    while stack:
        upper, v, is_root = stack.pop()
        name = _scalar_name(v)
        inner = name in ("mul", "true_div", "neg") and v.dtype == var.dtype
        if not inner or not (is_root or _only_client(fgraph, v)):
            (num if upper else den).append(v)
            continue
        a = v.owner.inputs
        if name == "mul":
            stack += [(upper, a[1], False), (upper, a[0], False)]
        elif name == "true_div":
            stack += [(not upper, a[1], False), (upper, a[0], False)]
        else:
            sign = -sign
            stack.append((upper, a[0], False))
    return sign, num, den


def _cancel(num: list, den: list) -> tuple[list, list, list]:
    """Numerator and denominator without the factors they share (x*y/x -> y), and those."""
    num, den, gone = list(num), list(den), []
    for d in list(den):
        for i, n in enumerate(num):
            if n is d and not isinstance(n, Constant):
                del num[i]
                den.remove(d)
                gone.append(d)
                break
    return num, den, gone


_PLACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _places(fgraph: Any) -> dict:
    """Each variable's place in the schedule (inputs first), cached until the graph changes.

    Sorting chain terms by it is deterministic (no ids) and keeps the order the user wrote
    wherever a term is first reached through its chain, so only chains sharing terms move.
    """
    places = _PLACES.get(fgraph)
    if places is None:
        places = _PLACES[fgraph] = {}
        fgraph.add_listener(lambda *event: places.clear())
    if not places:
        places.update((v, i) for i, v in enumerate(fgraph.inputs))
        for k, node in enumerate(
            io_toposort(fgraph.inputs, fgraph.outputs), start=len(fgraph.inputs)
        ):
            places.update((out, k) for out in node.outputs)
    return places


def _sorted(fgraph: Any, terms: list, dtype: str) -> list:
    """Terms in canonical order; one of the output's dtype first so partial results keep it."""
    if len(terms) < 2:
        return list(terms)
    places = _places(fgraph)
    return sorted(terms, key=lambda t: (t.dtype != dtype, places.get(t, len(places))))


def _chain(name: str, terms: list, dtype: str) -> Variable | None:
    """terms combined left to right by `name` (None for no terms)."""
    if not terms:
        return None
    if len(terms) > 1 and terms[0].dtype != dtype:
        raise _Unsafe  # e.g. int8 * int8 inside a float64 chain would overflow
    out = terms[0]
    for term in terms[1:]:
        out = m.elemwise_op(name)(out, term)
    return out


def _same_graph(new: Variable, old: Variable, fgraph: Any) -> bool:
    """Whether a freshly built expression is the existing one (so the rule changes nothing).

    Iterative, so chains of thousands of terms don't hit the recursion limit.
    """
    stack = [(new, old)]
    seen: set[tuple[int, int]] = set()
    while stack:
        a_var, b_var = stack.pop()
        if a_var is b_var or (id(a_var), id(b_var)) in seen:
            continue
        seen.add((id(a_var), id(b_var)))
        if isinstance(a_var, Constant) and isinstance(b_var, Constant):
            if a_var.signature() != b_var.signature():
                return False
            continue
        if a_var in fgraph.variables or a_var.owner is None or b_var.owner is None:
            return False
        a, b = a_var.owner, b_var.owner
        if a.op != b.op or a_var.index != b_var.index or len(a.inputs) != len(b.inputs):
            return False
        stack.extend(zip(a.inputs, b.inputs))
    return True


def _const(value: np.ndarray, dtype: str) -> Variable:
    return constant(np.asarray(value, dtype=dtype), dtype=dtype)


def _signed_sum(pos: list, neg: list, total: np.ndarray | None, dtype: str, ndim: int) -> Variable:
    """c + (P - N), the constant outermost; a negative constant is subtracted: (P - N) - |c|."""
    p, n = _chain("add", pos, dtype), _chain("add", neg, dtype)
    # a lone narrower term is cast first: -b of a bool b, or -x of an int8 -128, would be wrong
    p, n = (None if v is None else m.cast(v, dtype) for v in (p, n))
    if total is not None and np.isrealobj(total) and np.all(total < 0):
        c = _const(-total, dtype)
        if p is None:
            return m.neg(m.add(c, n)) if n is not None else _const(total, dtype)
        return m.sub(m.sub(p, n) if n is not None else p, c)
    core = m.sub(p, n) if p is not None and n is not None else p
    if total is None:
        if core is None:
            return m.neg(n) if n is not None else _const(np.zeros((1,) * ndim), dtype)
        return core
    c = _const(total, dtype)
    if core is None:
        return m.sub(c, n) if n is not None else c
    return m.add(c, core)


def _constant_sum(consts: list, dtype: str) -> np.ndarray | None:
    if not consts:
        return None
    total = np.zeros((), dtype=dtype)
    with np.errstate(all="ignore"):
        for sign, c in consts:
            ufunc = np.add if sign > 0 else np.subtract
            total = ufunc(total, np.asarray(c.data), dtype=dtype)
    return total


def _times(k: int, term: Variable, dtype: str) -> Variable:
    return term if abs(k) == 1 else m.mul(_const(abs(k), dtype), term)


def canonical_add_chain(fgraph: Any, node: Apply) -> list | None:
    """Flatten add/sub/neg chains: constants summed, x + y - x -> y, x + x -> 2 * x; a chain of
    three or more added terms is rebuilt left-deep in a canonical order, so (a+b)+c and
    (c+a)+b merge. Mixed-sign chains with nothing to simplify are left to the local rules."""
    out = node.outputs[0]
    if out.dtype == "bool" or node.op.inplace_pattern or _is_inner(fgraph, out, _ADD_FAMILY):
        return None
    signed = _signed_terms(fgraph, out)
    consts = [(s, t) for s, t in signed if isinstance(t, Constant)]
    coefs: dict[Variable, int] = {}
    for s, t in signed:
        if not isinstance(t, Constant):
            coefs[t] = coefs.get(t, 0) + s
    if not coefs:
        return None  # constant folding's job
    total = _constant_sum(consts, out.dtype)
    removed = [t for t, k in coefs.items() if k == 0]
    if total is not None and not np.any(total):
        removed += [c for _, c in consts]
        total = None
    reduced = bool(removed) or len(consts) > 1 or any(abs(k) > 1 for k in coefs.values())
    if not reduced and (len(signed) < 3 or any(s < 0 for s, _ in signed)):
        return None
    try:
        pos = [
            _times(coefs[t], t, out.dtype)
            for t in _sorted(fgraph, [t for t, k in coefs.items() if k > 0], out.dtype)
        ]
        neg = [
            _times(coefs[t], t, out.dtype)
            for t in _sorted(fgraph, [t for t, k in coefs.items() if k < 0], out.dtype)
        ]
        result = _signed_sum(pos, neg, total, out.dtype, out.ndim)
    except _Unsafe:
        return None
    result = _keep_shape(result, removed, out)
    return None if _same_graph(result, out, fgraph) else [result]


def _constant_product(num: list, den: list, dtype: str) -> np.ndarray | None:
    if not num and not den:
        return None
    total = np.ones((), dtype=dtype)
    with np.errstate(all="ignore"):
        for c in num:
            total = np.multiply(total, np.asarray(c.data), dtype=dtype)
        for c in den:
            total = np.true_divide(total, np.asarray(c.data), dtype=dtype)
    return total


def _product(fgraph: Any, num: list, den: list, dtype: str) -> Variable | None:
    """N / D of sorted factors (1 / D without a numerator, None without either)."""
    n = _chain("mul", _sorted(fgraph, num, dtype), dtype)
    d = _chain("mul", _sorted(fgraph, den, dtype), dtype)
    if d is None:
        return n
    return m.true_div(n if n is not None else _const(np.ones((1,) * d.ndim), dtype), d)


def canonical_mul_chain(fgraph: Any, node: Apply) -> list | None:
    """Flatten mul/true_div/neg chains: constants multiplied, x * y / x -> y, x / x -> 1,
    0 * x -> 0 (as Theano, even where x is inf or nan); a chain of three or more multiplied
    factors is rebuilt left-deep in a canonical order. Unsimplifiable divisions are left alone."""
    out = node.outputs[0]
    if out.dtype == "bool" or node.op.inplace_pattern or _is_inner(fgraph, out, _MUL_ROOTS):
        return None
    sign, num, den = _factors(fgraph, out)
    num_c = [c for c in num if isinstance(c, Constant)]
    den_c = [c for c in den if isinstance(c, Constant)]
    num_t = [t for t in num if not isinstance(t, Constant)]
    den_t = [t for t in den if not isinstance(t, Constant)]
    if not num_t and not den_t:
        return None  # constant folding's job
    num_t, den_t, removed = _cancel(num_t, den_t)
    units = [c for c in num_c + den_c if c.data.size == 1 and c.data.flat[0] in (0, 1, -1)]
    reduced = bool(removed) or len(num_c) + len(den_c) > 1 or bool(units)
    if not reduced and (den or len(num) < 3):
        return None
    total = _constant_product(num_c, den_c, out.dtype)
    simple = total is not None and total.size == 1 and total.flat[0] in (0, 1, -1)
    zero = simple and total.flat[0] == 0
    if simple:
        removed += num_c + den_c
        if zero:
            removed += num_t + den_t
            num_t, den_t = [], []
        sign *= -1 if total.flat[0] == -1 else 1
        total = None if total.flat[0] else total
    try:
        core = _product(fgraph, num_t, den_t, out.dtype)
    except _Unsafe:
        return None
    if total is not None:
        c = _const(total, out.dtype)
        core = c if core is None else m.mul(c, core)
    elif core is None:
        core = _const(np.ones((1,) * out.ndim), out.dtype)
    result = m.neg(m.cast(core, out.dtype)) if sign < 0 else core
    if zero:
        result = _keep_shape(result, removed, out)
    elif not _covers(result, out):
        return None  # x * y / x with y narrower than x: a fill would be needed (div_self's job)
    return None if _same_graph(result, out, fgraph) else [result]


# ---------------------------------------------------------------------------------- useless ops
def _int_value(var: Variable) -> int | None:
    if isinstance(var, Constant) and np.ndim(var.data) == 0 and dtypes.is_integer(var.dtype):
        return int(var.data)
    return None


def _is_length_of(entry: Variable, x: Variable, axis: int) -> bool:
    """Whether the int scalar `entry` is known to equal x.shape[axis]."""
    value = _int_value(entry)
    if value is not None:
        return value == x.type.shape[axis]
    node = entry.owner
    if node is None:
        return False
    if isinstance(node.op, Shape_i):
        return node.op.i == axis and node.inputs[0] is x
    if isinstance(node.op, Subtensor) and node.op.idx_list == ("int64",):
        source = node.inputs[0].owner
        index = _int_value(node.inputs[1])
        return (
            source is not None
            and isinstance(source.op, Shape)
            and source.inputs[0] is x
            and index is not None
            and index % x.ndim == axis
        )
    return False


def _shape_entries(vec: Variable, n: int) -> list | None:
    """The n entries of an int shape vector, as variables, when it is a constant or MakeVector."""
    if isinstance(vec, Constant) and np.shape(vec.data) == (n,):
        return [constant(int(v), dtype="int64") for v in vec.data]
    node = vec.owner
    if node is not None and isinstance(node.op, MakeVector) and len(node.inputs) == n:
        return list(node.inputs)
    return None


def remove_useless_reshape(fgraph: Any, node: Apply) -> list | None:
    """reshape(x, x.shape) -> x, and any reshape to lengths known to be x's own."""
    x, vec = node.inputs
    if node.op.ndim != x.ndim:
        return None
    source = vec.owner
    if source is not None and isinstance(source.op, Shape) and source.inputs[0] is x:
        return [x]
    entries = _shape_entries(vec, x.ndim)
    if entries is None:
        return None
    if x.ndim == 1 and _int_value(entries[0]) == -1:
        return [x]
    return [x] if all(_is_length_of(e, x, k) for k, e in enumerate(entries)) else None


def remove_useless_alloc(fgraph: Any, node: Apply) -> list | None:
    """alloc(v, *shape) -> v when v already has that shape."""
    value, *lengths = node.inputs
    if value.ndim != len(lengths) or value.dtype != node.outputs[0].dtype:
        return None
    return [value] if all(_is_length_of(n, value, k) for k, n in enumerate(lengths)) else None


def remove_useless_specify_shape(fgraph: Any, node: Apply) -> list | None:
    """specify_shape(x, shape) -> x for the lengths x's type (or its own shape) already says."""
    x, *lengths = node.inputs
    pairs = zip(node.op.axes, lengths, strict=True)
    kept = [(a, n) for a, n in pairs if not _is_length_of(n, x, a)]
    if len(kept) == len(lengths):
        return None
    if not kept:
        return [x]
    return [SpecifyShape([a for a, _ in kept])(x, *[n for _, n in kept])]


def _cast_target(node: Apply) -> str | None:
    op = node.op
    if isinstance(op, Elemwise) and not op.inplace_pattern and op.scalar_op.output == "fixed":
        return op.scalar_op.params[0]
    return None


def _holds_exactly(source: str, target: str) -> bool:
    """Whether every value of dtype `source` survives a round trip through `target`."""
    if source == "bool" or not dtypes.can_cast_safely(source, target):
        return source == "bool"
    if dtypes.is_integer(source) and np.dtype(target).kind in "fc":
        bits = np.iinfo(source).bits - (np.dtype(source).kind == "i")
        return bits <= np.finfo(target).nmant + 1
    return True


def remove_useless_cast(fgraph: Any, node: Apply) -> list | None:
    """cast(x, x.dtype) -> x; cast(cast(x, wider), t) -> cast(x, t) when `wider` holds x exactly."""
    target = _cast_target(node)
    if target is None:
        return None
    x = node.inputs[0]
    if x.dtype == target:
        return [x]
    inner = x.owner
    if inner is not None and _cast_target(inner) is not None:
        source = inner.inputs[0]
        if _holds_exactly(source.dtype, x.dtype):
            return [m.cast(source, target)]
    return None


def merge_dimshuffles(fgraph: Any, node: Apply) -> list | None:
    """dimshuffle(dimshuffle(x, p), q) -> dimshuffle(x, p o q); identity dimshuffle -> x."""
    op = node.op
    if not isinstance(op, DimShuffle):
        return None
    x = node.inputs[0]
    if op.new_order == tuple(range(op.input_ndim)):
        return [x]
    inner = x.owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    composed = tuple("x" if o == "x" else inner.op.new_order[o] for o in op.new_order)
    return [DimShuffle(inner.op.input_ndim, composed)(inner.inputs[0])]


# ---------------------------------------------------------------------------------- reductions
def sum_over_length_one_axes(fgraph: Any, node: Apply) -> list | None:
    """sum(x, axes) -> x without those axes, when every summed axis has static length 1."""
    op = node.op
    if type(op) is not Sum or node.outputs[0].dtype != node.inputs[0].dtype:
        return None
    x = node.inputs[0]
    axes = range(x.ndim) if op.axis is None else op.axis
    if any(x.type.shape[a] != 1 for a in axes):
        return None
    kept = [a for a in range(x.ndim) if a not in set(axes)]
    return [DimShuffle(x.ndim, kept)(x)]


def _filled_value(var: Variable) -> tuple[Variable, list] | None:
    """(scalar v, lengths) when var is alloc(v, *lengths) or fill(model, v) of a one-element v."""
    node = var.owner
    if node is None:
        return None
    if isinstance(node.op, Alloc):
        value, lengths = node.inputs[0], list(node.inputs[1:])
    elif _is_fill(var) and not node.op.inplace_pattern:
        model, value = node.inputs
        lengths = [d if d is not None else shape_i(model, k) for k, d in enumerate(var.type.shape)]
    else:
        return None
    if any(d != 1 for d in value.type.shape):
        return None
    return (DimShuffle(value.ndim, ())(value) if value.ndim else value), lengths


def sum_of_filled(fgraph: Any, node: Apply) -> list | None:
    """sum(alloc(v, *shape), axes) -> alloc(v * prod(shape[axes]), *other lengths); the same for
    fill(model, v). Theano's local_sum_alloc (exact up to rounding of the float sum)."""
    if type(node.op) is not Sum:
        return None
    found = _filled_value(node.inputs[0])
    if found is None:
        return None
    value, lengths = found
    axes = set(range(len(lengths)) if node.op.axis is None else node.op.axis)
    dtype = node.outputs[0].dtype
    static, symbolic = 1, []
    for k in sorted(axes):
        known = lengths[k] if isinstance(lengths[k], int) else _int_value(lengths[k])
        if known is None:
            symbolic.append(lengths[k])
        else:
            static *= known
    count = _const(static, dtype)
    if symbolic:
        product = _chain("mul", symbolic, "int64")
        count = m.cast(product, dtype) if static == 1 else m.mul(m.cast(product, dtype), count)
    total = m.mul(m.cast(value, dtype), count)
    kept = [n for k, n in enumerate(lengths) if k not in axes]
    return [alloc(total, *kept) if kept else total]


# ---------------------------------------------------------------------------------- indexing
FULL = slice(None)


def _constant_entries(node: Apply) -> list | None:
    """A Subtensor's index as ints and slices of ints, when every index input is a constant."""
    values = iter(node.inputs[1:])
    entries: list = []

    def value(marker: Any) -> int | None:
        return None if marker is None else _int_value(next(values))

    for entry in node.op.idx_list:
        if isinstance(entry, slice):
            parts = [value(p) for p in (entry.start, entry.stop, entry.step)]
            if any(
                v is None and p is not None
                for v, p in zip(parts, (entry.start, entry.stop, entry.step), strict=True)
            ):
                return None
            entries.append(slice(*parts))
        elif entry is None:
            return None  # a new axis: left alone
        else:
            index = value(entry)
            if index is None:
                return None
            entries.append(index)
    return entries


def _is_full(entry: Any, length: int | None) -> bool:
    if not isinstance(entry, slice) or entry.step not in (None, 1) or entry.start not in (None, 0):
        return False
    return entry.stop is None or (length is not None and entry.stop >= length)


def _compose(inner: slice, outer: Any, length: int | None) -> Any:
    """One index equal to indexing by `inner` then `outer` on an axis; None when unknown."""
    if 0 in (inner.step, getattr(outer, "step", None)):
        return None  # a zero step is an error left to run time
    if _is_full(inner, length):
        return outer
    if isinstance(outer, slice) and _is_full(outer, None):
        return inner
    if length is not None:
        chosen = range(length)[inner]
        if not isinstance(outer, slice):
            return chosen[outer] if -len(chosen) <= outer < len(chosen) else None
        r = chosen[outer]
        return slice(r.start, r.stop if r.stop >= 0 else None, r.step)
    a, b, s1 = inner.start or 0, inner.stop, inner.step or 1
    if a < 0 or (b is not None and b < 0) or s1 < 1:
        return None
    if not isinstance(outer, slice):
        return a + s1 * outer if outer >= 0 and b is None else None
    c, d, s2 = outer.start or 0, outer.stop, outer.step or 1
    if c < 0 or (d is not None and d < 0) or s2 < 1:
        return None
    stops = [s for s in (b, None if d is None else a + s1 * d) if s is not None]
    return slice(
        a + s1 * c or None, min(stops) if stops else None, s1 * s2 if s1 * s2 != 1 else None
    )


def merge_subtensors(fgraph: Any, node: Apply) -> list | None:
    """x[a:b][c:d] -> x[a+c:min(b, a+d)] (constant indices), and x[:] -> x."""
    if type(node.op) is not Subtensor:
        return None
    outer = _constant_entries(node)
    if outer is None:
        return None
    source = node.inputs[0]
    inner = source.owner
    if inner is None or type(inner.op) is not Subtensor:
        if all(_is_full(e, source.type.shape[k]) for k, e in enumerate(outer)):
            return [source]
        return None
    entries = _constant_entries(inner)
    if entries is None:
        return None
    x = inner.inputs[0]
    pending = iter(outer)
    merged = []
    for axis, entry in enumerate(entries + [FULL] * (x.ndim - len(entries))):
        if not isinstance(entry, slice):
            merged.append(entry)
            continue
        composed = _compose(entry, next(pending, FULL), x.type.shape[axis])
        if composed is None:
            return None
        merged.append(composed)
    while merged and _is_full(merged[-1], x.type.shape[len(merged) - 1]):
        merged.pop()
    return [getitem(x, tuple(merged)) if merged else x]


_PATTERNS = [  # (name, pattern, replacement, math)
    ("mul_by_one", ("mul", "x", 1), "x", "x * 1 -> x"),
    ("add_zero", ("add", "x", 0), "x", "x + 0 -> x"),
    ("sub_zero", ("sub", "x", 0), "x", "x - 0 -> x"),
    ("div_by_one", ("true_div", "x", 1), "x", "x / 1 -> x"),
    ("double_neg", ("neg", ("neg", "x")), "x", "--x -> x"),
    ("div_self", ("true_div", "x", "x"), ("second", "x", 1), "x / x -> 1"),
    ("sub_self", ("sub", "x", "x"), ("second", "x", 0), "x - x -> 0"),
    ("add_sub_cancel", ("sub", ("add", "x", "y"), "x"), "y", "x + y - x -> y"),
    ("mul_div_cancel", ("true_div", ("mul", "x", "y"), "x"), "y", "x * y / x -> y"),
    ("pow_two", ("pow", "x", 2), ("sqr", "x"), "x ** 2 -> sqr(x)"),
    ("pow_one", ("pow", "x", 1), "x", "x ** 1 -> x"),
    ("neg_of_sub", ("neg", ("sub", "x", "y")), ("sub", "y", "x"), "-(x - y) -> y - x"),
    ("sub_neg", ("sub", "x", ("neg", "y")), ("add", "x", "y"), "x - -y -> x + y"),
    # signs float outwards so that pairs cancel: -x * y -> -(x * y), then --z -> z
    ("neg_out_of_mul", ("mul", ("neg", "x"), "y"), ("neg", ("mul", "x", "y")), "-x * y -> -(x*y)"),
    ("neg_out_of_div_num", ("true_div", ("neg", "x"), "y"), ("neg", ("true_div", "x", "y")),
     "-x / y -> -(x / y)"),
    ("neg_out_of_div_den", ("true_div", "x", ("neg", "y")), ("neg", ("true_div", "x", "y")),
     "x / -y -> -(x / y)"),
    ("add_neg", ("add", "x", ("neg", "y")), ("sub", "x", "y"), "x + -y -> x - y"),
    ("neg_sub_first", ("sub", ("neg", "x"), "y"), ("neg", ("add", "x", "y")), "-x - y -> -(x + y)"),
]  # fmt: skip

_NODE_RULES = [  # (name, node rule, ops it fires on, math)
    ("canonical_mul_chain", canonical_mul_chain, _MUL_ROOTS, "c*x*d/x -> c*d; 0*x -> 0; sorted"),
    ("canonical_add_chain", canonical_add_chain, _ADD_FAMILY, "c+x+d-x -> c+d; x+x -> 2*x; sorted"),
    ("merge_equal_node", merge_equal_node, (Elemwise, DimShuffle), "f(x), f(x) -> one f(x)"),
    ("useless_fill", remove_useless_fill, ("second",), "fill(a, b) -> b of the output's shape"),
    ("cut_fill_model", cut_fill_model, ("second",), "fill(f(u, c), b) -> fill(u, b)"),
    ("merge_dimshuffles", merge_dimshuffles, (DimShuffle,), "dimshuffle(dimshuffle(x)) -> one"),
    ("sink_fill", sink_fill, (Elemwise,), "f(fill(a, b), c) -> f(b, c) or fill(a, f(b, c))"),
    ("useless_cast", remove_useless_cast, (Elemwise,), "cast(x, x.dtype) -> x"),
    ("useless_reshape", remove_useless_reshape, (Reshape,), "reshape(x, x.shape) -> x"),
    ("useless_alloc", remove_useless_alloc, (Alloc,), "alloc(x, *x.shape) -> x"),
    ("useless_specify_shape", remove_useless_specify_shape, (SpecifyShape,),
     "specify_shape(x, s) -> x where x's type says s"),
    ("sum_over_length_one_axes", sum_over_length_one_axes, (Sum,), "sum(x) over length 1 -> x"),
    ("sum_of_filled", sum_of_filled, (Sum,), "sum(alloc(v, *shape)) -> v * prod(shape)"),
    ("merge_subtensors", merge_subtensors, (Subtensor,), "x[a:b][c:d] -> x[a+c:min(b, a+d)]"),
]  # fmt: skip

RULES = [
    *(Rule(name, PHASE, pattern, out, math=math) for name, pattern, out, math in _PATTERNS),
    # -x of a bool fails and -x of an int8 -128 wraps: only floats take the shortcut
    Rule("mul_minus_one", PHASE, ("mul", "x", -1), ("neg", "x"), math="x * -1 -> -x",
         constraint=lambda b: b["x"].dtype.startswith(("float", "complex"))),
    *(Rule(name, PHASE, node_rule=f, tracks=ops, math=math) for name, f, ops, math in _NODE_RULES),
]  # fmt: skip
