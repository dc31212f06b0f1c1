"""Theano's `theano.scalar` API: scalar types, dtype rules, the table's ops, a ScalarOp base class.

A scalar here is a 0-d tensor (labsym has one tensor type). User subclasses of ScalarOp run
through `T.Elemwise` by speaking the scalar-table protocol of core/scalar.py, so fusion, the
optimizer and Elemwise treat them like built-in records. May import config and core.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.config import config
from labsym.core import dtypes
from labsym.core import scalar as table
from labsym.core.autodiff import NullGrad
from labsym.core.graph import Constant, Variable, clone_graph
from labsym.core.ops.elemwise import Elemwise
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable
from labsym.core.variable import constant as tensor_constant


# ---------------------------------------------------------------------- scalar types
class _ScalarTypeMeta(type):
    """`isinstance(t, Scalar)` holds for every 0-d tensor type: those are labsym's scalars."""

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, TensorType) and obj.ndim == 0


class Scalar(metaclass=_ScalarTypeMeta):
    """Theano's scalar type `Scalar(dtype)`: here the 0-d TensorType of that dtype."""

    def __new__(cls, dtype: Any) -> TensorType:  # type: ignore[misc]
        canonical = dtypes.canonical_dtype(dtype)
        return TensorType(canonical, (), name=canonical)

    @staticmethod
    def upcast(*types: TensorType) -> str:
        """The dtype NumPy's promotion gives to values of these scalar types."""
        return upcast(*(t.dtype for t in types))


def get_scalar_type(dtype: Any) -> TensorType:
    """The scalar type of `dtype` (Theano's cached `Scalar(dtype)`)."""
    return Scalar(dtype)


def upcast(dtype: str, *more: str) -> str:
    """The dtype of an operation mixing these dtypes: `upcast('int8', 'float32') == 'float32'`."""
    return dtypes.upcast(dtype, *more)


def as_scalar(x: Any, name: str | None = None) -> Variable:
    """`x` as a scalar (0-d) variable; numbers become constants, n-d tensors are refused."""
    if hasattr(x, "outputs") and hasattr(x, "op"):  # an Apply: its single output
        if len(x.outputs) != 1:
            raise ValueError(f"as_scalar: {x} has {len(x.outputs)} outputs; pick one")
        x = x.outputs[0]
    if isinstance(x, Variable):
        if isinstance(x.type, TensorType) and x.type.ndim == 0:
            return x
        raise TypeError(f"as_scalar: {x} has type {x.type}, not a scalar (0-d) type")
    var = as_tensor_variable(x, name=name)
    if var.ndim != 0:
        raise TypeError(f"Cannot convert {x!r} to Scalar: it has {var.ndim} dimensions")
    return var


def constant(x: Any, name: str | None = None, dtype: Any = None) -> Variable:
    """A scalar constant: `constant(2.5)`; refuses arrays of more than 0 dimensions."""
    var = tensor_constant(x, name=name, dtype=dtype)
    if var.ndim != 0:
        raise TypeError(f"scalar constant: {x!r} has {var.ndim} dimensions, expected 0")
    return var


# ---------------------------------------------------------------------- output type rules
_TO_FLOAT = {
    "bool": "float32",
    "int8": "float32",
    "int16": "float32",
    "uint8": "float32",
    "uint16": "float32",
    "int32": "float64",
    "int64": "float64",
    "uint32": "float64",
    "uint64": "float64",
}


def upcast_out(*types: TensorType) -> tuple[TensorType]:
    """One output of the inputs' common type."""
    return (Scalar(Scalar.upcast(*types)),)


def upcast_out_nobool(*types: TensorType) -> tuple[TensorType]:
    """upcast_out, refusing a bool result."""
    out = upcast_out(*types)
    if out[0].dtype == "bool":
        raise TypeError("bool output not supported")
    return out


def upcast_out_no_complex(*types: TensorType) -> tuple[TensorType]:
    """upcast_out, refusing complex inputs."""
    _refuse_complex(types)
    return upcast_out(*types)


def upgrade_to_float(*types: TensorType) -> tuple[TensorType]:
    """One float output: ints become float32 (8/16 bits) or float64 (32/64 bits), as Theano."""
    return (Scalar(upcast(*(_TO_FLOAT.get(t.dtype, t.dtype) for t in types))),)


def upgrade_to_float64(*types: TensorType) -> tuple[TensorType]:
    """One float64 output, whatever the inputs (as SciPy computes)."""
    return (float64,)


def upgrade_to_float_no_complex(*types: TensorType) -> tuple[TensorType]:
    """upgrade_to_float, refusing complex inputs."""
    _refuse_complex(types)
    return upgrade_to_float(*types)


def same_out(type: TensorType) -> tuple[TensorType]:  # noqa: A002 - Theano's argument name
    """One output of the input's type."""
    return (type,)


def same_out_nocomplex(type: TensorType) -> tuple[TensorType]:  # noqa: A002
    """same_out, refusing a complex input."""
    _refuse_complex((type,))
    return (type,)


def same_out_float_only(type: TensorType) -> tuple[TensorType]:  # noqa: A002
    """same_out, refusing a non-float input."""
    if type not in float_types:
        raise TypeError("only float type are supported")
    return (type,)


def int_out(*types: TensorType) -> tuple[TensorType]:
    """One int64 output."""
    return (int64,)


def float_out(*types: TensorType) -> tuple[TensorType]:
    """One float64 output."""
    return (float64,)


def _refuse_complex(types: Sequence[TensorType]) -> None:
    if any(t in complex_types for t in types):
        raise TypeError("complex argument not supported")


class transfer_type:  # noqa: N801 - Theano's name
    """Output types picked from the inputs': an index, a dtype string, or None for the upcast."""

    def __init__(self, *transfer: int | str | None) -> None:
        if not all(x is None or isinstance(x, (int, str)) for x in transfer):
            raise TypeError(f"transfer_type: entries must be int, str or None, got {transfer}")
        self.transfer = transfer

    def __call__(self, *types: TensorType) -> list[TensorType]:
        common = upcast_out(*types)[0]
        picked = []
        for i in self.transfer:
            if i is None:
                picked.append(common)
            elif isinstance(i, str):
                picked.append(Scalar(i))
            else:
                picked.append(types[i])
        return picked

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.transfer == self.transfer  # type: ignore

    def __hash__(self) -> int:
        return hash((transfer_type, self.transfer))

    def __str__(self) -> str:
        return f"transfer_type{{{self.transfer}}}"


class specific_out:  # noqa: N801 - Theano's name
    """Fixed output types: `specific_out(float32)`."""

    def __init__(self, *spec: TensorType) -> None:
        self.spec = spec

    def __call__(self, *types: TensorType) -> tuple[TensorType, ...]:
        return self.spec

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.spec == self.spec  # type: ignore

    def __hash__(self) -> int:
        return hash((specific_out, self.spec))


# ---------------------------------------------------------------------- user scalar ops
class _ScalarOpMeta(type):
    """`isinstance(op, ScalarOp)` holds for the table's records too, as for Theano's ops."""

    def __instancecheck__(cls, obj: object) -> bool:
        if cls is ScalarOp:
            return isinstance(obj, table.ScalarOp)
        return super().__instancecheck__(obj)


class ScalarOp(table.ScalarOp, metaclass=_ScalarOpMeta):
    """Base of Theano-style scalar ops: define `impl` on numbers and `grad` on scalar variables.

    `T.Elemwise(MyOp(upgrade_to_float, name='my_op'))` broadcasts it over arrays. The op is a
    scalar-table record (Elemwise, fusion and the optimizer read it like a built-in one), so a
    Theano subclass's own `impl`/`grad` are kept as `scalar_impl`/`scalar_grad` and `impl`/`grad`
    become the record's array-level adapters.
    """

    nin = -1
    nout = 1
    # the record fields (see core/scalar.py) with the defaults of a user op
    c: str | None = None
    cuda: str | None = None
    identity: Any = None
    commutative = False
    associative = False
    params: tuple = ()
    accepts_bool = True
    dtype_from = 0
    output = "custom"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Theano's signatures: impl(self, *numbers) and grad(self, inputs, output_gradients)
        for theano_name, kept_as in (("impl", "scalar_impl"), ("grad", "scalar_grad")):
            if theano_name in cls.__dict__:
                setattr(cls, kept_as, cls.__dict__[theano_name])
                delattr(cls, theano_name)

    def __init__(
        self,
        output_types_preference: Callable[..., Sequence] | None = None,
        name: str | None = None,
    ) -> None:
        if output_types_preference is not None:
            if not callable(output_types_preference):
                raise TypeError(
                    f"Expected a callable for the 'output_types_preference' argument to "
                    f"{type(self)}, got {output_types_preference!r}"
                )
            self.output_types_preference = output_types_preference
        # `name` is a field of the frozen record class: set it past its __setattr__ guard
        object.__setattr__(self, "name", name if name is not None else type(self).__name__)

    def __call__(self, *inputs: Any) -> Any:
        """Apply elementwise to tensors (0-d tensors are Theano's scalar variables)."""
        return Elemwise(self)(*inputs)

    # ------------------------------------------------------------------ Theano's API
    def output_types(self, types: Sequence[TensorType]) -> Sequence[TensorType]:
        """The output types for these input types, from `output_types_preference`."""
        rule = getattr(self, "output_types_preference", None)
        if rule is None:
            raise NotImplementedError(f"Cannot calculate the output types for {self}")
        out = rule(*types)
        if not isinstance(out, (list, tuple)) or len(out) != self.nout:
            raise TypeError(
                f"output_types_preference of {self} should return {self.nout} types, got {out!r}"
            )
        return out

    def scalar_impl(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define impl")

    def scalar_grad(self, inputs: Sequence[Variable], output_gradients: Sequence[Variable]):
        raise NotImplementedError(f"{self} has no gradient (its class defines no grad)")

    def L_op(self, inputs, outputs, output_gradients):
        """Theano's default: the gradient from `grad(inputs, output_gradients)`."""
        return self.scalar_grad(inputs, output_gradients)

    # ------------------------------------------------------------------ table protocol
    @property
    def impl(self) -> Callable[..., Any]:
        """The array-level implementation Elemwise calls: `scalar_impl` on every element."""
        return _elementwise(np.frompyfunc(self.scalar_impl, self.nin, self.nout))

    def output_dtype(self, input_dtypes: list[str]) -> str:
        """The output dtype for these input dtypes (Elemwise's type inference)."""
        if self.nout != 1:
            raise NotImplementedError(f"{self}: Elemwise runs scalar ops of one output only")
        return self.output_types([Scalar(d) for d in input_dtypes])[0].dtype

    def grad(self, m: Any, inputs: list, output: Any, gz: Any) -> list:
        """The table's gradient rule: the Theano grad built on scalars, then broadcast."""
        proxies = [TensorType(v.dtype, ())() for v in inputs]
        out_proxy, gz_proxy = TensorType(output.dtype, ())(), TensorType(gz.dtype, ())()
        with config.change_flags(compute_test_value="off"):
            raw = self.L_op(proxies, [out_proxy], [gz_proxy])
        memo = dict(zip(proxies, inputs, strict=True))
        memo[out_proxy], memo[gz_proxy] = output, gz
        return [_broadcast_grad(m, g, memo, gz) for g in raw]

    # ------------------------------------------------------------------ identity and text
    def _key(self) -> tuple:
        props = getattr(type(self), "__props__", ())
        return (
            type(self),
            getattr(self, "output_types_preference", None),
            tuple(getattr(self, p) for p in props),
        )

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return str(self)

    def __reduce__(self) -> tuple:
        # pickled by class and attributes (the table's records pickle by name instead)
        return (_new_user_op, (type(self),), dict(self.__dict__))


def _new_user_op(cls: type) -> ScalarOp:
    return object.__new__(cls)


class UnaryScalarOp(ScalarOp):
    """A scalar op of one input."""

    nin = 1


class BinaryScalarOp(ScalarOp):
    """A scalar op of two inputs; subclasses may set identity, commutative, associative."""

    nin = 2


def _elementwise(ufunc: np.ufunc) -> Callable[..., Any]:
    # a plain function (not the object ufunc itself), so Elemwise casts its object-dtype result
    # instead of passing dtype= or out= to a ufunc that only has object loops
    def elementwise(*arrays: Any) -> Any:
        return ufunc(*arrays)

    return elementwise


def _broadcast_grad(m: Any, grad: Any, memo: dict, gz: Any) -> Any:
    """A gradient built on 0-d stand-ins, rebuilt on the real (n-d) inputs."""
    if grad is None or isinstance(grad, NullGrad):
        return None
    grad = as_tensor_variable(grad)
    _, (rebuilt,), _ = clone_graph(list(memo), [grad], memo=memo, copy_inputs=False)
    if rebuilt.ndim < gz.ndim:  # a constant gradient: one value per element
        rebuilt = m.second(gz, rebuilt)
    return rebuilt


class _TableRecordClass(type):
    """A class whose instances are the table records of one name (see table_record_class)."""

    record_name: str

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, table.ScalarOp) and obj.name == cls.record_name


def table_record_class(class_name: str, record_name: str, module: str) -> type:
    """Theano's class of a built-in scalar op (ScalarSigmoid...), for `isinstance` checks."""
    doc = (
        f"Theano's {class_name}: `isinstance(op, {class_name})` holds for the {record_name} record."
    )
    namespace = {"record_name": record_name, "__doc__": doc, "__module__": module}
    return _TableRecordClass(class_name, (), namespace)


# ---------------------------------------------------------------------- the table's ops
class BuiltinScalarOp(table.ScalarOp):
    """A scalar-table record that can be applied to variables: `theano.scalar.add(x, y)`."""

    def __call__(self, *inputs: Any) -> Any:
        return Elemwise(self)(*inputs)

    def __reduce__(self) -> tuple:
        if self.name == "identity":  # not a table record: found again through this module
            return (_identity_op, ())
        return super().__reduce__()


def _callable_record(record: table.ScalarOp) -> BuiltinScalarOp:
    fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    return BuiltinScalarOp(**fields)


def _identity(x: Any) -> Any:
    return np.array(x, copy=True)  # a new array: Elemwise outputs never alias their inputs


# identity is not in the table (no labsym graph needs it); it pickles through this module
identity = BuiltinScalarOp("identity", 1, _identity, "{0}", "upcast", lambda m, ins, out, gz: [gz])


def _identity_op() -> BuiltinScalarOp:
    return identity


_TABLE_OPS = {name: _callable_record(rec) for name, rec in table.SCALAR_OPS.items()}
# Theano's casts: convert_to_float64(x), ... one record per target dtype
_TABLE_OPS.update(
    {f"convert_to_{d}": _callable_record(table.cast_op(d)) for d in dtypes.ALL_DTYPES}
)
globals().update(_TABLE_OPS)  # add, mul, exp, sigmoid, ... (Theano's theano.scalar op names)
abs_ = _TABLE_OPS["abs"]


def cast(x: Any, dtype: Any) -> Variable:
    """`x` converted to `dtype` (Theano's scalar cast; a no-op when the dtype already matches)."""
    x = as_scalar(x)
    target = dtypes.canonical_dtype(dtype)
    return x if x.dtype == target else _TABLE_OPS[f"convert_to_{target}"](x)


class _ScalarVariableMeta(type):
    """Scalar variables are 0-d tensor variables; `isinstance` says so (see ScalarVariable)."""

    constant_only: bool

    def __instancecheck__(cls, obj: object) -> bool:
        is_scalar = isinstance(obj, Variable) and getattr(obj, "ndim", None) == 0
        return is_scalar and (not cls.constant_only or isinstance(obj, Constant))


class ScalarVariable(metaclass=_ScalarVariableMeta):
    """Theano's scalar variable class, for `isinstance`: any 0-d tensor variable."""

    constant_only = False


class ScalarConstant(metaclass=_ScalarVariableMeta):
    """Theano's scalar constant class, for `isinstance`: any 0-d tensor constant."""

    constant_only = True


bool = Scalar("bool")  # noqa: A001 - Theano's name for the bool scalar type
int8, int16, int32, int64 = (Scalar(d) for d in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (Scalar(d) for d in ("uint8", "uint16", "uint32", "uint64"))
float16, float32, float64 = (Scalar(d) for d in ("float16", "float32", "float64"))
complex64, complex128 = Scalar("complex64"), Scalar("complex128")

int_types = (int8, int16, int32, int64)
uint_types = (uint8, uint16, uint32, uint64)
float_types = (float16, float32, float64)
complex_types = (complex64, complex128)
integer_types = int_types + uint_types
discrete_types = (bool,) + integer_types
continuous_types = float_types + complex_types
all_types = discrete_types + continuous_types

__all__ = sorted(
    [
        "BinaryScalarOp",
        "BuiltinScalarOp",
        "Scalar",
        "ScalarConstant",
        "ScalarOp",
        "ScalarVariable",
        "UnaryScalarOp",
        "abs_",
        "all_types",
        "as_scalar",
        "cast",
        "bool",
        "complex64",
        "complex128",
        "complex_types",
        "constant",
        "continuous_types",
        "discrete_types",
        "float16",
        "float32",
        "float64",
        "float_out",
        "float_types",
        "get_scalar_type",
        "identity",
        "int8",
        "int16",
        "int32",
        "int64",
        "int_out",
        "int_types",
        "integer_types",
        "same_out",
        "same_out_float_only",
        "same_out_nocomplex",
        "specific_out",
        "table_record_class",
        "transfer_type",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uint_types",
        "upcast",
        "upcast_out",
        "upcast_out_no_complex",
        "upcast_out_nobool",
        "upgrade_to_float",
        "upgrade_to_float64",
        "upgrade_to_float_no_complex",
        *_TABLE_OPS,
    ]
)
