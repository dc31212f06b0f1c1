"""labsym: Theano's symbolic tensor compiler, back for the notebook.

`import labsym as theano` runs typical Theano programs: declare typed symbolic tensors, build
expressions with NumPy syntax, take symbolic gradients, and compile them with `function`.
This module only re-exports; the implementation lives in core/, optim/, backends/ and viz/.
"""

from labsym import compile, gof, gradient, ifelse, printing, sandbox, scan_module, tensor  # noqa: A004
from labsym.compile import In, Mode, Out, function
from labsym.compile.builders import OpFromGraph
from labsym.config import config
from labsym.core.autodiff import Lop, Rop, grad
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.op import Op
from labsym.core.ops.blas import dot
from labsym.core.scan import foldl, foldr, map, reduce, scan  # noqa: A004 - Theano's names
from labsym.core.shared import SharedVariable, shared
from labsym.gradient_check import verify_grad
from labsym.printing import pp
from labsym.viz.display import register_if_in_ipython as _register_displays
from labsym.viz.doctor import doctor

__version__ = "0.1.0"

__all__ = [
    "Apply",
    "Constant",
    "In",
    "Lop",
    "Mode",
    "Op",
    "OpFromGraph",
    "Out",
    "Rop",
    "SharedVariable",
    "Variable",
    "compat",
    "compile",
    "config",
    "doctor",
    "dot",
    "foldl",
    "foldr",
    "function",
    "gof",
    "grad",
    "gradient",
    "ifelse",
    "map",
    "pp",
    "printing",
    "reduce",
    "sandbox",
    "scalar",
    "scan",
    "scan_module",
    "shared",
    "tensor",
    "verify_grad",
]


def load_ipython_extension(ipython):  # pragma: no cover - exercised through IPython in tests
    """`%load_ext labsym`: registers the magics (imported lazily: IPython is optional)."""
    from labsym.magics import load_ipython_extension as load

    load(ipython)


_register_displays()  # rich displays in a notebook: `import labsym` is enough
