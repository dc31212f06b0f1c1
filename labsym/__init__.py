"""labsym: Theano's symbolic tensor compiler, back for the notebook.

`import labsym as theano` runs typical Theano programs: declare typed symbolic tensors, build
expressions with NumPy syntax, take symbolic gradients, and compile them with `function`.
This module only re-exports; the implementation lives in core/, optim/, backends/ and viz/.
"""

from labsym import (  # noqa: A004
    compile,
    gof,
    gradient,
    ifelse,
    misc,
    printing,
    sandbox,
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
    predefined_linkers,
    predefined_modes,
    predefined_optimizers,
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
from labsym.misc.safe_asarray import _asarray
from labsym.printing import pp, pprint
from labsym.updates import OrderedUpdates
from labsym.viz.display import register_if_in_ipython as _register_displays
from labsym.viz.doctor import doctor

__version__ = "0.1.0"
change_flags = config.change_flags  # Theano's theano.change_flags(...) context/decorator


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


_register_displays()  # rich displays in a notebook: `import labsym` is enough
