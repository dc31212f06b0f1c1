"""Argmax/Argmin/MaxAndArgmax perform: NumPy's values; MaxAndArgmax builds its Argmax once."""

import pickle

import numpy as np
import pytest

from labsym.core.ops import reduce as red
from labsym.core.type import TensorType


def test_max_and_argmax_perform_builds_no_argmax_per_call(monkeypatch):
    op = red.MaxAndArgmax((1,))
    node = op.make_node(TensorType("float64", (None, None))())
    x = np.random.default_rng(0).standard_normal((4, 5))
    op.perform(node, [x], [[None], [None]])  # the first call may build it
    made = []
    original = red.Argmax.__init__

    def counting(self, *args, **kwargs):
        made.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(red.Argmax, "__init__", counting)
    for _ in range(3):
        storage = [[None], [None]]
        op.perform(node, [x], storage)
        np.testing.assert_array_equal(storage[0][0], np.max(x, axis=1))
        np.testing.assert_array_equal(storage[1][0], np.argmax(x, axis=1))
    assert made == []


@pytest.mark.parametrize("axis", [None, (0,), (2,), (0, 2), (1, 2)])
def test_index_matches_numpy_over_flattened_axes(axis):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, (3, 4, 5)).astype("float32")[:, ::-1]
    x[1, 2, 3] = np.nan
    node = red.MaxAndArgmax(axis).make_node(TensorType("float32", (None, None, None))())
    storage = [[None], [None]]
    node.op.perform(node, [x], storage)
    kept = [d for d in range(3) if axis is not None and d not in axis]
    moved = np.moveaxis(x, kept, list(range(len(kept)))) if axis else x.reshape(-1)
    flat = moved.reshape(moved.shape[: len(kept)] + (-1,)) if axis else moved
    np.testing.assert_array_equal(storage[1][0], np.argmax(flat, axis=-1))
    np.testing.assert_array_equal(storage[0][0], np.max(x, axis=axis))
    for cls, search in ((red.Argmax, np.argmax), (red.Argmin, np.argmin)):
        out = cls(axis).make_node(node.inputs[0])
        got = out.op.numpy_callable(out)(x)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, search(flat, axis=-1))
    clone = pickle.loads(pickle.dumps(node.op))
    assert clone == node.op
    storage2 = [[None], [None]]
    clone.perform(node, [x], storage2)
    np.testing.assert_array_equal(storage2[1][0], storage[1][0])
