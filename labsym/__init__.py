"""labsym: Theano's symbolic tensor compiler, back for the notebook.

`import labsym as theano` runs typical Theano programs: declare typed symbolic tensors, build
expressions with NumPy syntax, take symbolic gradients, and compile them with `function`.
This module only re-exports; the implementation lives in core/, optim/, backends/ and viz/.
"""

from typing import Any

from labsym import (  # noqa: A004
    compile,
    gof,
    gradient,
    ifelse,
    scan_module,
    tensor,
    updates,
)
from labsym.compile import (
    FunctionMaker,
    In,
    Mode,
    Out,
    Param,
    ProfileStats,
    SymbolicInput,
    SymbolicOutput,
    as_op,
    function,
    function_dump,
)
from labsym.compile.builders import OpFromGraph
from labsym.config import config
from labsym.core.autodiff import Lop, Rop, grad
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.op import Op
from labsym.core.ops.blas import dot
from labsym.core.scan import (  # noqa: A004 - Theano's names
    foldl,
    foldr,
    map,
    reduce,
    scan,
    scan_checkpoints,
)
from labsym.core.shared import SharedVariable, shared
from labsym.gof import (
    Container,
    FunctionGraph,
    InconsistencyError,
    OpWiseCLinker,
    PerformLinker,
    Type,
)
from labsym.gof.graph import clone_replace as clone
from labsym.gof.type import Generic, generic
from labsym.gradient import subgraph_grad
from labsym.gradient_check import verify_grad
from labsym.updates import OrderedUpdates

__version__ = "0.1.0"
change_flags = config.change_flags  # Theano's theano.change_flags(...) context/decorator


# Names imported on first use (PEP 562): printing and doctor pull in viz's graphviz/HTML and
# ctypes, misc its zip/bz2/lzma pickling, sandbox the MRG random streams, and the predefined
# tables build every mode; a training script needs none of them.
_LAZY = {
    "misc": ("labsym.misc", None),
    "printing": ("labsym.printing", None),
    "sandbox": ("labsym.sandbox", None),
    "_asarray": ("labsym.misc.safe_asarray", "_asarray"),
    "doctor": ("labsym.viz.doctor", "doctor"),
    "pp": ("labsym.printing", "pp"),
    "pprint": ("labsym.printing", "pprint"),
    "predefined_linkers": ("labsym.compile.mode", "predefined_linkers"),
    "predefined_modes": ("labsym.compile.mode", "predefined_modes"),
    "predefined_optimizers": ("labsym.compile.mode", "predefined_optimizers"),
}


def __getattr__(name: str) -> Any:
    """PEP 562: a name of _LAZY, imported now and then kept in this module."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included (for completion)."""
    return sorted(set(globals()) | set(_LAZY))


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension, for `jupyter labextension develop` (editable installs)."""
    return [{"src": "labextension", "dest": "labsym-jupyter"}]


__all__ = [
    "Apply",
    "Constant",
    "Container",
    "FunctionGraph",
    "FunctionMaker",
    "Generic",
    "In",
    "InconsistencyError",
    "Lop",
    "Mode",
    "Op",
    "OpFromGraph",
    "OpWiseCLinker",
    "OrderedUpdates",
    "Out",
    "Param",
    "PerformLinker",
    "ProfileStats",
    "Rop",
    "SharedVariable",
    "SymbolicInput",
    "SymbolicOutput",
    "Type",
    "Variable",
    "_asarray",
    "as_op",
    "change_flags",
    "clone",
    "compat",
    "compile",
    "config",
    "doctor",
    "dot",
    "foldl",
    "foldr",
    "function",
    "function_dump",
    "generic",
    "gof",
    "grad",
    "gradient",
    "ifelse",
    "map",
    "misc",
    "pp",
    "pprint",
    "predefined_linkers",
    "predefined_modes",
    "predefined_optimizers",
    "printing",
    "reduce",
    "sandbox",
    "scalar",
    "scan",
    "scan_checkpoints",
    "scan_module",
    "shared",
    "subgraph_grad",
    "tensor",
    "updates",
    "verify_grad",
]


def load_ipython_extension(ipython):  # pragma: no cover - exercised through IPython in tests
    """`%load_ext labsym`: registers the magics (imported lazily: IPython is optional)."""
    from labsym.magics import load_ipython_extension as load

    load(ipython)


def _register_displays() -> None:
    """Rich displays in a notebook (`import labsym` is enough); viz.display is only imported
    inside an IPython process."""
    import sys

    if "IPython" in sys.modules:
        from labsym.viz.display import register_if_in_ipython

        register_if_in_ipython()


_register_displays()
