"""Convolution by im2col/col2im kernels and a GEMM step: Conv2d and both gradients against
perform on the emulator (borders, strides, dilation, flip, strided inputs); PTX via NVRTC."""

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.core.ops import conv as C
from labsym.core.type import TensorType
from labsym.core.variable import constant

from .conftest import assert_matches, ptx_entries, reference, requires_nvrtc, run_all

PARAMS = [
    dict(),
    dict(border_mode="full", filter_flip=False),
    dict(border_mode="half", subsample=(2, 1)),
    dict(border_mode=(1, 2), subsample=(2, 3), filter_dilation=(2, 1)),
]
X_SHAPE, W_SHAPE = (2, 3, 7, 8), (4, 3, 3, 2)


def _t(dtype):
    return TensorType(dtype, (None,) * 4)()


def _size(v):
    return constant(np.int64(v))


def _cases(dtype, rng):
    cases = []
    for params in PARAMS:
        x = rng.normal(size=X_SHAPE).astype(dtype)
        w = rng.normal(size=W_SHAPE).astype(dtype)
        fwd = C.Conv2d(**params).make_node(_t(dtype), _t(dtype))
        (out,) = reference(fwd, [x, w])
        gz = rng.normal(size=out.shape).astype(dtype)
        gi = C.Conv2dGradInputs(**params).make_node(_t(dtype), _t(dtype), _size(7), _size(8))
        gw = C.Conv2dGradWeights(**params).make_node(_t(dtype), _t(dtype), _size(3), _size(2))
        for flip in (False, True):  # C-contiguous, then negatively strided views
            v = (lambda a: a[::-1, :, ::-1]) if flip else (lambda a: a)
            cases.append((fwd, [v(x), v(w)]))
            cases.append((gi, [v(w), v(gz), 7, 8], {2: 7, 3: 8}))
            cases.append((gw, [v(x), v(gz), 3, 2], {2: 3, 3: 2}))
    return cases


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_convolutions_match_perform(runtime, dtype):
    rng = np.random.default_rng(0)
    cases = _cases(dtype, rng)
    for case, (got,) in zip(cases, run_all(runtime, cases)):
        node, arrays = case[0], case[1]
        values = [a if np.ndim(a) else np.int64(a) for a in arrays]
        (want,) = reference(node, values)
        assert_matches(got, want, rtol=1e-4 if dtype == "float32" else 1e-10, context=str(node.op))


def test_the_plan_is_im2col_then_one_gemm():
    node = C.Conv2d().make_node(_t("float32"), _t("float32"))
    plan = kernels.plan(
        node,
        [
            kernels.ArrayMeta.contiguous(X_SHAPE, "float32"),
            kernels.ArrayMeta.contiguous(W_SHAPE, "float32"),
        ],
    )
    gemms = [s for s in plan.launches if isinstance(s, kernels.GemmCall)]
    assert len(gemms) == 1 and (gemms[0].m, gemms[0].n, gemms[0].k) == (2 * 5 * 7, 4, 18)
    assert len(plan.workspace) == 3


def test_shape_errors():
    node = C.Conv2d().make_node(_t("float64"), _t("float64"))
    metas = [
        kernels.ArrayMeta.contiguous((1, 2, 5, 5), "float64"),
        kernels.ArrayMeta.contiguous((1, 3, 2, 2), "float64"),
    ]
    with pytest.raises(ValueError, match="channels"):
        kernels.plan(node, metas)
    with pytest.raises(ValueError, match="does not fit"):
        kernels.plan(node, [metas[0], kernels.ArrayMeta.contiguous((1, 2, 6, 2), "float64")])
    gi = C.Conv2dGradInputs().make_node(_t("float64"), _t("float64"), _size(5), _size(5))
    bad_gz = kernels.ArrayMeta.contiguous((1, 1, 3, 3), "float64")
    with pytest.raises(ValueError, match="output gradient"):
        kernels.plan(
            gi,
            [kernels.ArrayMeta.contiguous((1, 2, 2, 2), "float64"), bad_gz, None, None],
            {2: 5, 3: 5},
        )


def test_conv_kernels_compile_to_ptx():
    requires_nvrtc()
    kernel_list = []
    for case in _cases("float32", np.random.default_rng(1)):
        metas = [kernels.ArrayMeta.of(np.asarray(a)) for a in case[1]]
        kernel_list += kernels.plan(case[0], metas, case[2] if len(case) > 2 else None).kernels
    assert ptx_entries(kernel_list) == {k.name for k in kernel_list}
