"""The input fast path: NumPy scalars, Python numbers and 0-d arrays for scalar inputs.

The fast path skips the type's full filter; it must accept and reject exactly what the filter
does (Theano's rules: safe casts, Python floats into float32 unless downcasting is refused).
"""

from __future__ import annotations

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.compile import In, Mode
from labsym.core.type import TensorType

KINDS = [np.float64(1.5), np.float32(1.5), np.array(1.5), 1.5, 3, np.int16(3), np.True_]


@pytest.mark.parametrize("linker", ["py", "c|py"])
def test_every_scalar_kind_gives_a_0d_array_of_the_input_dtype(linker):
    x, y = T.dscalars("x", "y")
    f = labsym.function([x, y], x + y, mode=Mode(linker=linker))
    for value in KINDS:
        got = f(value, 1.0)
        assert isinstance(got, np.ndarray) and got.shape == () and got.dtype == np.float64
        assert float(got) == float(value) + 1.0


def test_fast_kinds_skip_the_full_filter(monkeypatch):
    x = T.dscalar("x")
    f = labsym.function([x], x * 2, mode="FAST_COMPILE")

    def refuse(*args, **kwargs):
        raise AssertionError("the full filter ran")

    monkeypatch.setattr(TensorType, "filter", refuse)
    for value in [np.float64(2.0), np.float32(2.0), 2.0, 2, np.int64(2)]:
        assert float(f(value)) == 4.0
    with pytest.raises(AssertionError, match="the full filter ran"):
        f(2**60)  # out of float64's exact integers: the full filter decides


@pytest.mark.parametrize(
    ("make", "value", "allow", "accepted"),
    [
        (T.fscalar, np.float64(0.1), None, False),  # unsafe NumPy downcast
        (T.fscalar, np.float64(0.1), True, True),
        (T.fscalar, 0.1, None, True),  # Theano: a Python float fits floatX inputs
        (T.fscalar, 0.1, False, False),
        (T.iscalar, 1.5, None, False),
        (T.iscalar, 3, None, True),
        (T.bscalar, 300, None, False),  # out of int8's range
        (T.dscalar, 2**60 + 1, None, True),  # past 2**53: the full filter decides
        (T.dscalar, np.int64(5), None, True),  # NumPy calls int64 -> float64 safe
        (T.iscalar, np.int64(5), None, False),
        (T.lscalar, np.int32(5), None, True),
    ],
)
def test_fast_path_accepts_and_rejects_as_the_filter_does(make, value, allow, accepted):
    x = make("x")
    f = labsym.function([x], x * 1, mode="FAST_COMPILE", allow_input_downcast=allow)
    reference = x.type.filter
    if accepted:
        expected = reference(value, allow_downcast=allow)
        got = f(value)
        assert got.dtype == x.dtype and got == expected
    else:
        with pytest.raises((TypeError, OverflowError)) as refused:
            reference(value, allow_downcast=allow)
        with pytest.raises(refused.type):
            f(value)


def test_strict_inputs_take_no_fast_path():
    x = T.dscalar("x")
    f = labsym.function([In(x, strict=True)], x * 2, mode="FAST_COMPILE")
    assert float(f(np.array(2.0))) == 4.0
    for value in [np.float64(2.0), 2.0]:
        with pytest.raises(TypeError, match="expected an ndarray of dtype float64"):
            f(value)


@pytest.mark.parametrize(
    ("dtype", "exact", "inexact"), [("float16", 2**11, 2**11 + 1), ("float32", 2**24, 2**24 + 1)]
)
def test_python_ints_convert_only_where_the_float_stores_them_exactly(dtype, exact, inexact):
    x = TensorType(dtype, ())("x")
    f = labsym.function([x], x, mode=Mode(linker="py"))
    assert f(exact) == exact and f(-exact) == -exact
    for value in (inexact, -inexact):
        with pytest.raises(TypeError, match=f"Bad input argument x .*{dtype}"):
            f(value)
        with pytest.raises(TypeError):
            x.type.filter(value)
