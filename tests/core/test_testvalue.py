"""compute_test_value: shape errors raise while the graph is built, at the user's line."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.config import config
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.testvalue import TestValueError


def test_mismatch_raises_at_build_time_with_op_shapes_and_line():
    with config.change_flags(compute_test_value="raise"):
        x = C["vector"]()
        x.tag.test_value = np.ones((2,))
        y = C["vector"]()
        y.tag.test_value = np.ones((3,))
        with pytest.raises(TestValueError) as info:
            x + y  # noqa: B018 - the graph-building line under test
    text = str(info.value)
    assert "Input dimension mis-match" in text
    assert "Elemwise{add,no_inplace}" in text
    assert "test value shape (2,)" in text and "test value shape (3,)" in text
    assert "x + y  # noqa" in text


def test_values_propagate_and_missing_values_follow_the_mode():
    with config.change_flags(compute_test_value="raise"):
        x = C["dmatrix"]("x")
        x.tag.test_value = np.random.rand(5, 10)
        y = (x * 2).T
        assert y.tag.test_value.shape == (10, 5)
        z = C["dmatrix"]("z")
        with pytest.raises(AttributeError, match="has no test value"):
            x + z  # noqa: B018
    with config.change_flags(compute_test_value="warn"), pytest.warns(UserWarning, match="test"):
        x + z  # noqa: B018
    with config.change_flags(compute_test_value="ignore"):
        assert not hasattr((x + z).tag, "test_value")


def test_off_by_default():
    assert config.compute_test_value == "off"
    x = C["dvector"]("x")
    x.tag.test_value = np.ones(2)
    assert not hasattr((x + 1).tag, "test_value")


def test_warn_float64_flag():
    import warnings

    with config.change_flags(warn_float64="raise"):
        with pytest.raises(TypeError, match="float64 variable 'x' was created"):
            C["dvector"]("x")
        C["fvector"]("fine")
        f32 = C["fvector"]("f")
        with pytest.raises(TypeError, match="float64"):
            f32 * np.float64(2.0) + C["dscalar"]()  # noqa: B018
    with config.change_flags(warn_float64="warn"), pytest.warns(UserWarning, match="float64"):
        C["dmatrix"]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        C["dmatrix"]()  # default: ignore
