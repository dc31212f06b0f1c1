"""C kernels for the softmax family: Softmax, LogSoftmax, SoftmaxGrad, SoftmaxWithBias,
CrossentropyCategorical1Hot(+Grad), CrossentropySoftmax1Hot(+Dx), float32 and float64.

Inputs are converted to the output dtype (perform's promotion) and to C order once; the math
is in nnet_code. float16 and mixed dtypes where perform computes in another dtype (softmax of
x before the cast in CrossentropySoftmax1HotDx) stay on the Python engine.
"""

from __future__ import annotations

from labsym.backends.c.kernel import CKernel, register
from labsym.backends.c.kernels import elemwise
from labsym.backends.c.kernels.nnet_code import code_for
from labsym.core.graph import Apply
from labsym.core.ops import nnet, nnet_fused

CACHE_VERSION = (1,)
_FLOATS = ("float32", "float64")


def _kernel(node: Apply, call: str) -> CKernel | None:
    """A kernel whose body is one call `labsym_<call>_<f32|f64>(..., name)`."""
    dtype = node.outputs[0].type.dtype
    if dtype not in _FLOATS:
        return None
    suffix = "f32" if dtype == "float32" else "f64"
    name = elemwise.c_string(str(node.op)[:200]).replace("%", "%%")  # the body is %-formatted
    args, libs, _ = elemwise.build_config()
    return CKernel(
        body=f"if (labsym_{call.format(s=suffix, name=name)}) %(fail)s\n",
        support_code=elemwise.preamble() + code_for(dtype),
        libraries=libs,
        compile_args=args,
        cache_version=CACHE_VERSION,
        fp_flags=True,
    )


def _axis(op: nnet._AxisOp, ndim: int) -> int:
    """The normalised axis as an index, or -1 for every axis."""
    return -1 if op.axis is None else op.axis % max(ndim, 1)


@register(nnet.Softmax, nnet.LogSoftmax)
def render_softmax(node: Apply) -> CKernel | None:
    """exp(x - max) / sum, or x - max - log(sum(exp(x - max))), along one axis or all."""
    ndim = node.inputs[0].type.ndim
    log = int(isinstance(node.op, nnet.LogSoftmax))
    axis = _axis(node.op, ndim)
    return _kernel(node, f"softmax_call_{{s}}(%(in0)s, &%(out0)s, {ndim}, {axis}, {log}, {{name}})")


@register(nnet.SoftmaxGrad)
def render_softmax_grad(node: Apply) -> CKernel | None:
    """(dy - sum(dy * sm, axis)) * sm in the output dtype."""
    ndim = node.inputs[1].type.ndim
    axis = _axis(node.op, ndim)
    return _kernel(
        node,
        f"softmax_grad_call_{{s}}(%(in0)s, %(in1)s, &%(out0)s, {ndim}, {axis}, {{name}})",
    )


@register(nnet.SoftmaxWithBias)
def render_softmax_with_bias(node: Apply) -> CKernel | None:
    """softmax(x + b) over the rows of x."""
    return _kernel(node, "softmax_bias_call_{s}(%(in0)s, %(in1)s, &%(out0)s, {name})")


@register(nnet.CrossentropyCategorical1Hot)
def render_crossentropy_1hot(node: Apply) -> CKernel | None:
    """-log(coding[i, t_i]); targets checked as perform does (ValueError, IndexError)."""
    return _kernel(node, "ce1hot_call_{s}(%(in0)s, %(in1)s, &%(out0)s, {name})")


@register(nnet.CrossentropyCategorical1HotGrad)
def render_crossentropy_1hot_grad(node: Apply) -> CKernel | None:
    """Zeros with -g_y / coding at each row's target."""
    return _kernel(node, "ce1hot_grad_call_{s}(%(in0)s, %(in1)s, %(in2)s, &%(out0)s, {name})")


@register(nnet_fused.CrossentropySoftmax1Hot)
def render_crossentropy_softmax(node: Apply) -> CKernel | None:
    """-(x[t] - max - log(sum(exp(x - max)))) per row."""
    return _kernel(node, "ce_softmax_call_{s}(%(in0)s, %(in1)s, &%(out0)s, {name})")


@register(nnet_fused.CrossentropySoftmax1HotDx)
def render_crossentropy_softmax_dx(node: Apply) -> CKernel | None:
    """(softmax(x) - onehot) * dy[:, None]; only when dy and x share the dtype (see module)."""
    if node.inputs[0].type.dtype != node.inputs[1].type.dtype:
        return None
    return _kernel(node, "ce_softmax_dx_call_{s}(%(in0)s, %(in1)s, %(in2)s, &%(out0)s, {name})")
