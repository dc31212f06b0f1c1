"""Fused Composite nodes write into a dead input, as Theano's inplace_elemwise_optimizer did.

`Elemwise{Composite{...}}[(0, 1)]`: the inplace phase gives a Composite the same treatment as an
Elemwise (an input computed in this call, dead after the node, with the output's dtype and
unbroadcast shape). Checked: printing, values equal to the non-inplace graph (NumPy engine and
C kernels; shapes, strides, dtypes, broadcasting), the buffer really reused, graph inputs and
shared values never destroyed, a failed call leaving shared values untouched, and the kernels
staying correct when another input overlaps the destroyed one.
"""

from __future__ import annotations

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.module import c_compiler, compile_nodes
from labsym.compile import Mode, function
from labsym.core.ops.composite import Composite
from labsym.optim.destroy import DestroyHandler, destroyed_inputs

HAS_CC = c_compiler() is not None
LINKERS = ["py", pytest.param("c|py", marks=pytest.mark.skipif(not HAS_CC, reason="no cc"))]
RNG = np.random.default_rng(3)


def modes(linker: str) -> tuple[Mode, Mode]:
    """FAST_RUN on `linker`, and the same without the inplace phase (the reference)."""
    return (
        Mode(linker=linker, optimizer="fast_run"),
        Mode(linker=linker, optimizer="fast_run", excluding=("inplace",)),
    )


def inplace_composites(f) -> list:
    return [
        n for n in f.maker.fgraph.toposort() if isinstance(n.op, Composite) and destroyed_inputs(n)
    ]


class Keep(labsym.Op):
    """Returns a fresh copy of its input and remembers it: a test hook to see buffer reuse."""

    __props__ = ()

    def __init__(self) -> None:
        self.made: list[np.ndarray] = []

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return labsym.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        out = np.array(inputs[0], copy=True)
        self.made.append(out)
        output_storage[0][0] = out


def test_the_mlp_step_composite_writes_into_the_dot_and_prints_as_theano():
    x = T.dmatrix("x")
    W = labsym.shared(RNG.standard_normal((3, 4)), "W")
    h = T.tanh(T.dot(x, W))
    cost = ((T.dot(h, W.T) - x) ** 2).sum()
    f = function([x], cost, updates=[(W, W - 0.1 * T.grad(cost, W))], mode=modes("py")[0])
    names = [str(n.op) for n in inplace_composites(f)]
    assert "Elemwise{Composite{(i1 * (1.0 - (i0 * i0)))}}[(0, 1)]" in names, names
    assert DestroyHandler(f.maker.fgraph).violations() == []
    (node,) = [n for n in inplace_composites(f) if "1.0 - " in str(n.op)]
    assert node.op.destroy_map == {0: [1]} and str(node.inputs[1].owner.op) == "dot"
    assert node.op.without_inplace().destroy_map == {}
    assert node.op != node.op.without_inplace()  # inplace_pattern is a prop


@pytest.mark.parametrize("linker", LINKERS)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("shape", [(5, 3), (1, 7), (4, 1), (0, 3)])
def test_values_equal_the_non_inplace_graph(linker, dtype, shape):
    ttype = T.TensorType(dtype, (None, None))
    x, y = ttype("x"), ttype("y")
    row = T.TensorType(dtype, (1, None))("row")
    # buffers computed in the call, each dead after its one reader
    m1, m2, m3 = (T.concatenate(pair, axis=0) for pair in ([x, y], [y, x], [x, x]))
    outs = [
        (m1 * 3 - row) * 2 + 1,  # into m1: row is broadcast, so never the target
        abs(m2[::-1, ::-1] - 2) * 2 + row,  # into a view with negative strides
        (T.concatenate([x, y], axis=1).T * 2 + 1) * 3,  # into a transposed view
    ]
    if dtype != "int32":
        outs.append(T.tanh(m3) * (1 - T.concatenate([y, y], axis=0) ** 2))
    inplace, reference = (function([x, y, row], outs, mode=mode) for mode in modes(linker))
    assert len(inplace_composites(inplace)) == len(outs)
    assert inplace_composites(reference) == []
    cast = np.dtype(dtype).type
    a = (RNG.standard_normal((shape[0], 2 * shape[1])) * 4).astype(dtype)[:, ::2]  # strided
    b = np.asfortranarray((RNG.standard_normal(shape) * 4).astype(dtype))
    r = (RNG.standard_normal((1, shape[1])) * 4).astype(dtype)
    originals = [a.copy(), b.copy(), r.copy()]
    for got, want in zip(inplace(a, b, r), reference(a, b, r), strict=True):
        assert got.dtype == want.dtype == cast(0).dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for arg, original in zip((a, b, r), originals, strict=True):
        np.testing.assert_array_equal(arg, original)  # graph inputs never destroyed


@pytest.mark.parametrize("linker", LINKERS)
def test_the_dead_intermediate_buffer_is_reused(linker):
    x, y = T.dmatrices("x", "y")
    keep = Keep()
    out = T.tanh(keep(x)) * (y + 1.0)
    f = function([x, y], out, mode=modes(linker)[0])
    (node,) = inplace_composites(f)
    assert node.inputs[destroyed_inputs(node)[0]].owner.op is keep
    a, b = RNG.standard_normal((2, 6, 4))
    got = f(a, b[:, ::-1])
    np.testing.assert_allclose(got, np.tanh(a) * (b[:, ::-1] + 1.0))
    assert got is keep.made[-1] or np.shares_memory(got, keep.made[-1])
    g = function([x, y], out, mode=modes(linker)[1])
    assert not np.shares_memory(g(a, b), keep.made[-1])


@pytest.mark.parametrize("linker", LINKERS)
def test_inputs_and_shared_values_are_never_destroyed(linker):
    x = T.dmatrix("x")
    W = labsym.shared(RNG.standard_normal((3, 3)), "W")
    w0 = W.get_value()
    f = function(
        [x],
        [T.tanh(x) * 2 + 1, T.exp(W) * 2 - x],
        updates=[(W, W * 0.5 + 1)],
        mode=modes(linker)[0],
    )
    assert inplace_composites(f) == []  # every Composite input is a graph input or shared
    a = RNG.standard_normal((3, 3))
    a0 = a.copy()
    first, second = f(a)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_allclose(first, np.tanh(a0) * 2 + 1)
    np.testing.assert_allclose(second, np.exp(w0) * 2 - a0)
    np.testing.assert_allclose(W.get_value(), w0 * 0.5 + 1)


@pytest.mark.parametrize("linker", LINKERS)
def test_a_failed_call_leaves_shared_values_untouched(linker):
    x, z = T.dmatrices("x", "z")
    W = labsym.shared(RNG.standard_normal((3, 4)), "W")
    w0 = W.get_value()
    c = T.tanh(T.dot(x, W)) * 2 + 1  # written into the dot's buffer
    f = function(
        [x, z], (c + z).sum(), updates=[(W, W - 0.1 * T.dot(x.T, c))], mode=modes(linker)[0]
    )
    assert inplace_composites(f)
    with pytest.raises(ValueError):
        f(RNG.standard_normal((2, 3)), np.ones((5, 4)))  # z's shape does not match
    np.testing.assert_array_equal(W.get_value(), w0)
    a = RNG.standard_normal((2, 3))
    f(a, np.ones((2, 4)))
    want_c = np.tanh(a @ w0) * 2 + 1
    np.testing.assert_allclose(W.get_value(), w0 - 0.1 * a.T @ want_c)


def _inplace_node(dtype: str = "float64"):
    """Composite{(i0 * 2) + i1}[(0, 0)] over two matrices, and the same without inplace."""
    t = T.TensorType(dtype, (None, None))
    a, b = t("a"), t("b")
    op = Composite.from_graph([a, b], [a * 2 + b])
    inplace = Composite(op.n_inputs, op.program, op.outputs, {0: 0})
    assert str(inplace) == "Elemwise{Composite{((i0 * 2) + i1)}}[(0, 0)]"
    return inplace.make_node(a, b), op.make_node(a, b)


def test_perform_writes_into_the_input_and_handles_overlap_and_read_only_arrays():
    node, plain = _inplace_node()
    run = node.op.numpy_callable(node)
    a = RNG.standard_normal((4, 5))
    b = RNG.standard_normal((4, 5))
    want = a * 2 + b
    target = a.copy()
    assert run(target, b) is target
    np.testing.assert_allclose(target, want)
    buf = RNG.standard_normal((6, 6))
    x, y = buf[:4, :5], buf[2:, 1:][::-1]  # partially overlapping views of one buffer
    want = x * 2 + y
    storage = [[None]]
    node.op.perform(node, [x, y], storage)
    np.testing.assert_allclose(storage[0][0], want)
    frozen = a.copy()
    frozen.flags.writeable = False
    np.testing.assert_allclose(run(frozen, b), a * 2 + b)  # a new array; the input is kept
    np.testing.assert_array_equal(frozen, a)
    scalar_node = Composite(*node.op._props()[:3], {0: 0}).make_node(T.dscalar(), T.dscalar())
    zero_d = np.array(1.5)
    assert scalar_node.op.numpy_callable(scalar_node)(zero_d, np.array(2.0)) is zero_d
    assert float(zero_d) == 5.0


@pytest.mark.skipif(not HAS_CC, reason="no C compiler")
def test_the_c_kernel_writes_into_the_input_for_any_strides_and_copes_with_overlap():
    (node, plain), (node32, _) = _inplace_node(), _inplace_node("float32")
    inplace_c, plain_c, inplace32_c = compile_nodes([node, plain, node32])
    base = RNG.standard_normal((8, 10))
    for view in (np.s_[:, :], np.s_[::2, ::-3], np.s_[::-1, 1:]):
        a = base.copy()[view]
        b = RNG.standard_normal(a.shape)
        want = a * 2 + b
        out = inplace_c(a, b)
        assert out is a
        np.testing.assert_allclose(out, want)
        np.testing.assert_allclose(plain_c(want.copy(), b), want * 2 + b)
    a32 = np.asfortranarray(RNG.standard_normal((5, 3)).astype("float32"))
    want32 = a32 * 2 + a32
    assert inplace32_c(a32, a32) is a32  # the same array on both inputs: element by element
    np.testing.assert_allclose(a32, want32, rtol=1e-6)
    for second in (lambda m: m[::-1], lambda m: m.T, lambda m: m[:, :1]):
        buf = RNG.standard_normal((6, 6))
        x = buf[:]
        y = second(buf)
        want = x * 2 + y
        untouched = y.copy()
        got = inplace_c(x, np.broadcast_to(y, x.shape) if y.shape != x.shape else y)
        np.testing.assert_allclose(got, want)
        assert got is not x  # overlapping inputs: the kernel allocated its output
        np.testing.assert_array_equal(y, untouched)


@pytest.mark.parametrize("linker", LINKERS)
def test_an_input_read_through_another_view_is_not_destroyed(linker):
    x, y = T.dmatrices("x", "y")
    m = T.concatenate([x, y], axis=0)
    out = (m * 2 + m[::-1]) * 3  # m and a reversed view of it meet in one Composite
    f = function([x, y], out, mode=modes(linker)[0])
    assert [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Composite)]
    assert inplace_composites(f) == []
    a, b = RNG.standard_normal((2, 3, 4))
    want = np.concatenate([a, b])
    np.testing.assert_allclose(f(a, b), (want * 2 + want[::-1]) * 3)
