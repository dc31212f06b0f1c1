"""The composition root: mode names -> Mode(rewriter, linker), and labsym.function.

Only this module knows which optimizer phases and which linkers exist; core.function is
given the Mode it builds. May import every layer below it (core, optim, backends, viz).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from labsym.backends.registry import WORKING_NAMES, get_device_linker, get_linker
from labsym.config import config
from labsym.core import function as core_function
from labsym.core import io as core_io  # `io` is also this package's Theano-named submodule
from labsym.core.io import In, Out
from labsym.optim.phases import rewriter_for

__all__ = [
    "DebugMode",
    "Function",
    "FunctionMaker",
    "In",
    "MissingInputError",
    "Mode",
    "MonitorMode",
    "NanGuardMode",
    "OpFromGraph",
    "Out",
    "Param",
    "ProfileStats",
    "SharedVariable",
    "SymbolicInput",
    "Rebroadcast",
    "SymbolicOutput",
    "UnusedInputError",
    "ViewOp",
    "as_op",
    "function",
    "function_dump",
    "get_default_mode",
    "get_mode",
    "optdb",
    "predefined_linkers",
    "predefined_modes",
    "predefined_optimizers",
    "shared",
    "shared_constructor",
    "view_op",
]


def _describe_node(node: Any) -> str:
    from labsym.viz.debugprint import debugprint

    return debugprint(node.outputs, file="str", print_type=True)


class Mode(core_io.Mode):
    """Theano's `Mode(linker=..., optimizer=...)`, with names resolved here.

    `including`/`excluding` add or drop phases and named rules; `record_history` keeps every
    applied rewrite on `f.maker.fgraph.history`.
    """

    def __init__(
        self,
        linker: Any = None,
        optimizer: Any = "default",
        name: str | None = None,
        including: Any = (),
        excluding: Any = (),
        record_history: bool = False,
    ) -> None:
        if optimizer == "default":
            optimizer = config.optimizer
        if linker is None:
            linker = config.linker
        linker_name = linker if isinstance(linker, str) else None
        linker_obj = linker if linker_name is None else _make_linker(linker_name)
        dropped = tuple(excluding)
        if not config.tensor__local_elemwise_fusion and "fusion" not in including:
            dropped += ("fusion",)  # Theano then left fusion out of fast_run
        rewriter = rewriter_for(optimizer, including, dropped, record_history=record_history)
        super().__init__(
            linker_obj,
            rewriter=rewriter if rewriter.phases else None,
            name=name or f"Mode(linker={linker_name or 'custom'}, optimizer={optimizer})",
            describe_node=_describe_node,
        )
        self.optimizer = optimizer
        self.linker_name = linker_name
        self.included = tuple(including)
        self.excluded = tuple(excluding)
        self.record_history = record_history

    def _derive(self, **changes: Any) -> Mode:
        args = {
            "linker": self.linker_name or self.linker,
            "optimizer": self.optimizer,
            "including": self.included,
            "excluding": self.excluded,
            "record_history": self.record_history,
        }
        args.update(changes)
        return type(self)(**args)

    def including(self, *names: str) -> Mode:
        """This mode plus the named phases (Theano's `mode.including('fusion')`)."""
        return self._derive(including=self.included + names)

    def excluding(self, *names: str) -> Mode:
        """This mode without the named phases or rules."""
        return self._derive(excluding=self.excluded + names)

    def with_history(self) -> Mode:
        """This mode, recording every rewrite on `f.maker.fgraph.history`."""
        return self._derive(record_history=True)


def _make_linker(name: str) -> Any:
    """The linker a name stands for, from backends/registry.py (errors name the valid ones).

    With device=cuda* every working linker name means the CUDA linker (as Theano's GPU
    rewrites ran in fast_run and fast_compile alike); it places nodes with optim.gpu's
    rewrite, given the CUDA backend's predicates here, at the composition root.
    """
    linker = get_linker(name)
    if config.device == "cpu" or name not in WORKING_NAMES:
        return linker
    return _cuda_linker(config.device)


def _cuda_linker(device: str) -> Any:
    """The CUDA linker, placing nodes with optim.gpu's rewrite and the backend's predicates."""
    from labsym.backends.cuda import linker as cuda_linker
    from labsym.optim.gpu import place_on_gpu

    place = functools.partial(
        place_on_gpu, supports=cuda_linker.supports, host_inputs=cuda_linker.host_inputs
    )
    return get_device_linker(device, place)


def _for_device_values(
    mode: core_io.Mode, outputs: Any, updates: Any, givens: Any = None
) -> core_io.Mode:
    """A graph reading shared variables kept on the GPU (`target='gpu'`, or device=cuda) is
    linked for the device whatever the mode's linker (the values are there), as Theano
    compiled whatever touched GPU variables for the GPU; every other graph keeps its mode.
    The givens' replacements count too (Theano's minibatch idiom: `givens={x: data[i*b:]}`
    over a dataset kept in a GPU shared variable)."""
    if getattr(mode.linker, "name", None) == "cuda":
        return mode
    from labsym.core.gpu_type import GpuSharedVariable
    from labsym.core.graph import Variable, ancestors

    roots = [getattr(o, "variable", o) for o in _as_list(outputs)]
    for pairs in (updates, givens):
        pairs = pairs.items() if isinstance(pairs, Mapping) else _as_list(pairs)
        for pair in pairs:
            roots.extend(pair if isinstance(pair, (list, tuple)) else ())
    variables = ancestors([r for r in roots if isinstance(r, Variable)])
    if not any(isinstance(v, GpuSharedVariable) for v in variables):
        return mode
    if type(mode) not in (Mode, core_io.Mode):
        import warnings

        warnings.warn(
            f"{mode.name}: this graph reads GPU shared variables, so it runs on the CUDA linker, "
            "without this mode's own checks",
            stacklevel=3,
        )
    device_mode = core_io.Mode(
        _cuda_linker("cuda"), mode.rewriter, name=mode.name, describe_node=mode.describe_node
    )
    device_mode.by_name = mode.by_name
    return device_mode


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


_PREDEFINED = {
    "FAST_RUN": ("auto", "fast_run"),
    "FAST_COMPILE": ("py", "fast_compile"),
    "DebugMode": ("py", "fast_run"),
    "DEBUG_MODE": ("py", "fast_run"),
    "NanGuardMode": ("py", "fast_run"),
    "ProfileMode": ("auto", "fast_run"),
    "None": ("py", None),
    "o0": ("py", None),
}


def get_mode(mode: Any) -> core_io.Mode:
    """A Mode object from a Mode, a name ('FAST_RUN', 'FAST_COMPILE', ...) or None (config.mode)."""
    if isinstance(mode, core_io.Mode):
        return mode
    name = config.mode if mode is None else str(mode)
    if name not in _PREDEFINED:
        raise ValueError(
            f"unknown mode {name!r}; expected a Mode or one of {', '.join(_PREDEFINED)}"
        )
    linker, optimizer = _PREDEFINED[name]
    if mode is None and config.optimizer != "fast_run":
        optimizer = config.optimizer
    if mode is None and config.linker != "auto" and linker == "auto":
        linker = config.linker  # an explicit linker flag is honoured (and checked) here
    if name in ("DebugMode", "DEBUG_MODE"):
        from labsym.compile.debugmode import DebugMode

        built: core_io.Mode = DebugMode(optimizer=optimizer, name=name)
    elif name == "NanGuardMode":
        from labsym.compile.nanguardmode import NanGuardMode

        built = NanGuardMode(optimizer=optimizer, linker=linker)
    else:
        built = Mode(linker=linker, optimizer=optimizer, name=name)
    if mode is None:  # as in Theano, these flags change the default mode only
        excluded = [n for n in config.optimizer_excluding.split(":") if n]
        included = [n for n in config.optimizer_including.split(":") if n]
        built = built.excluding(*excluded) if excluded else built
        built = built.including(*included) if included else built
    built.by_name = name  # pickled functions recompile with the mode of this name
    return built


def get_default_mode() -> core_io.Mode:
    """The Mode that config.mode names (Theano's `theano.compile.mode.get_default_mode()`)."""
    return get_mode(None)


def function(
    inputs: Any = (),
    outputs: Any = None,
    mode: Any = None,
    updates: Any = None,
    givens: Any = None,
    no_default_updates: Any = False,
    accept_inplace: bool = False,
    name: str | None = None,
    rebuild_strict: bool = True,
    allow_input_downcast: bool | None = None,
    profile: Any = None,
    on_unused_input: str | None = None,
) -> core_function.Function:
    """Compile symbolic `outputs` of `inputs` (and shared-variable `updates`) into a callable.

    Example::

        x, y = labsym.tensor.dscalars('x', 'y')
        f = labsym.function([x, y], x + y)
        f(1.5, 2.5)  # -> array(4.)
    """
    profile = config.profile if profile is None else profile
    fn = core_function.function(
        inputs,
        outputs,
        mode=_for_device_values(get_mode(mode), outputs, updates, givens),
        updates=updates,
        givens=givens,
        no_default_updates=no_default_updates,
        accept_inplace=accept_inplace,
        name=name,
        rebuild_strict=rebuild_strict,
        allow_input_downcast=allow_input_downcast,
        profile=profile,
        on_unused_input=on_unused_input or config.on_unused_input,
        allow_gc=config.allow_gc,
    )
    stats = fn.profile
    if stats is not None and stats.atexit_print and not any(p is stats for p in _PROFILED):
        _PROFILED.append(stats)  # as Theano's: printed at exit if the profile flag is set
    return fn


_PROFILED: list = []


def print_profiles(file: Any = None) -> None:
    """Print every profile collected (Theano's layout; stderr or profiling.destination)."""
    import sys

    from labsym.core.profiling import print_profiles as print_all

    where = config.profiling__destination
    if file is None and where not in ("stderr", "stdout"):
        with open(where, "w") as out:
            print_all(_PROFILED, out, config.profiling__n_ops, config.profiling__n_apply)
        return
    out = file or (sys.stdout if where == "stdout" else sys.stderr)
    print_all(_PROFILED, out, config.profiling__n_ops, config.profiling__n_apply)


def _print_profiles_at_exit() -> None:
    if config.profile and _PROFILED:
        print_profiles()


def _gpu_shared_constructor(value: Any, **kwargs: Any) -> Any:
    """The CUDA backend's shared() constructor, imported only when the value, a target or
    device=cuda asks for the device (the backend is ~20 modules `import labsym` skips)."""
    from labsym.core.gpu_type import is_device_array

    target = kwargs.get("target")
    if target in (None, "cpu") and config.device == "cpu" and not is_device_array(value):
        raise TypeError("a host shared variable")
    from labsym.backends.cuda.shared import gpu_shared_constructor

    return gpu_shared_constructor(value, **kwargs)


def _wire() -> None:
    """Give core its compiler for Variable.eval and shared() its RandomState constructor;
    print flag-requested profiles at exit."""
    import atexit

    from labsym.core import evaluation
    from labsym.core.ops.random_streams import randomstate_constructor
    from labsym.core.shared import shared_constructor

    evaluation.set_compiler(function)
    shared_constructor(randomstate_constructor)
    shared_constructor(_gpu_shared_constructor)
    atexit.register(_print_profiles_at_exit)


_wire()

# Theano's theano.compile names from submodules; last, because they import Mode from here
import labsym.compile.io  # noqa: E402 - submodules as attributes: theano.compile.io, .mode
import labsym.compile.mode  # noqa: E402, F401
from labsym.compile.builders import OpFromGraph  # noqa: E402
from labsym.compile.function_module import Function, FunctionMaker, UnusedInputError  # noqa: E402
from labsym.compile.io import SymbolicInput, SymbolicOutput  # noqa: E402
from labsym.compile.ops import Rebroadcast, ViewOp, as_op, view_op  # noqa: E402
from labsym.compile.optdb import optdb  # noqa: E402
from labsym.compile.pfunc import Param, function_dump  # noqa: E402
from labsym.compile.profiling import ProfileStats  # noqa: E402
from labsym.compile.sharedvalue import SharedVariable, shared, shared_constructor  # noqa: E402
from labsym.core.exceptions import MissingInputError  # noqa: E402

# Names imported on first use: the checking modes pull in their linkers and viz, and the
# predefined tables build every mode (see compile/mode.py).
_LAZY = {
    "DebugMode": "labsym.compile.debugmode",
    "MonitorMode": "labsym.compile.monitormode",
    "NanGuardMode": "labsym.compile.nanguardmode",
    "predefined_linkers": "labsym.compile.mode",
    "predefined_modes": "labsym.compile.mode",
    "predefined_optimizers": "labsym.compile.mode",
}


# submodules Theano's compile/__init__ imported, so `theano.compile.debugmode.X` works at once
_SUBMODULES = ("debugmode", "monitormode", "nanguardmode")


def __getattr__(name: str) -> Any:
    """PEP 562: the lazily imported names of _LAZY and _SUBMODULES (then cached here)."""
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")  # binds itself as our attribute
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included (for completion)."""
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
