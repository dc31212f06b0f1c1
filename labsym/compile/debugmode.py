"""DebugMode: a Mode that checks every applied rewrite and every node's implementations per call.

Slow on purpose: it evaluates the graph before and after each rewrite and runs each node both
ways (perform and its C kernel when a C compiler works), raising a DebugModeError that names
the rule or node. The checks live in compile.debug_rewrites (rewrites), compile.debug_linker
(nodes) and compile.debug_values (comparisons and reports). May import core, backends and
compile.
"""

from __future__ import annotations

import weakref
from typing import Any

from labsym.backends.c.linker import CLinker
from labsym.compile import Mode
from labsym.compile.debug_errors import (
    BadDestroyMap,
    BadOptimization,
    BadThunkOutput,
    BadViewMap,
    DebugModeError,
    InvalidValueError,
    StochasticOrder,
)
from labsym.compile.debug_linker import CheckOptions, DebugLinker
from labsym.compile.debug_rewrites import RecordingRewriter
from labsym.config import config

__all__ = [
    "BadDestroyMap",
    "BadOptimization",
    "BadThunkOutput",
    "BadViewMap",
    "DebugMode",
    "DebugModeError",
    "InvalidValueError",
    "StochasticOrder",
]


def _default_linker(check_c_code: bool) -> str:
    """'c|py' (every C kernel checked against perform) when C is checked and a compiler works."""
    from labsym.backends.c.module import c_compiler

    return "c|py" if check_c_code and c_compiler() is not None else "py"


class DebugMode(Mode):
    """Theano's DebugMode: every call checks each applied rewrite and each node (slow; for tests).

    On each call it evaluates the expression every rewrite replaced and its replacement on the
    call's inputs (BadOptimization names the rule), and runs each node with `perform` and with
    its C kernel (`check_c_code`, default: the flag DebugMode.check_c, True; all of a
    function's kernels built in one module; without a C compiler, or with the `cxx` flag '',
    only Python code is checked), or, for nodes without a kernel, with its numpy_callable
    (BadThunkOutput names the op, the inputs and both values). `check_py_code=False` (flag
    DebugMode.check_py) runs only the C kernel of nodes that have one; a C-only op (c_code,
    no perform) is always run by C alone. It checks that nodes modify only the inputs in their
    destroy_map (BadDestroyMap), alias only those in view_map (BadViewMap) and return values of
    their declared types (InvalidValueError). It also runs the graph as it was before rewriting
    and raises the errors of nodes the rewrites removed (a shape mismatch that FAST_RUN's
    rewrites make disappear still raises). Updates behave exactly as in other modes. A graph
    that rewrites leave without a node gets an OutputGuard copy on each output, so it is still
    checked. The graph is rewritten `stability_patience` times in all (default: the flag
    DebugMode.patience) and StochasticOrder is raised if the results differ. With
    `check_isfinite` (default: the flag DebugMode.check_finite, True as in Theano) a float
    output holding NaN or Inf is an InvalidValueError. `require_matching_strides` (default: the
    flag DebugMode.check_strides) compares the strides of perform's and C's outputs: 0 ignores
    them, 1 warns, 2 raises BadThunkOutput. An inplace output that does not reuse its
    destroyed input's memory warns (flag DebugMode.warn_input_not_reused, True as in Theano).
    `check_preallocated_output` is accepted for
    Theano's signature; labsym's kernels never write into preallocated outputs (a kernel
    stores a new array, or its destroyed input), so there is nothing to vary. `linker` (not
    in Theano, whose DebugMode had its own) names what each node is checked against:
    'c|py' or 'c' (C kernels), 'py' (numpy_callable) or any linker object.

    Examples
    --------
    >>> f = labsym.function([x], T.log(1 + x), mode='DebugMode')
    >>> f(np.array([0.5]))  # raises if a rewrite or an op misbehaves on these values
    array([0.40546511])
    >>> g = labsym.function([x], T.log(1 + x), mode=DebugMode(check_c_code=False))
    """

    def __init__(
        self,
        optimizer: Any = "default",
        stability_patience: int | None = None,
        check_c_code: bool | None = None,
        check_py_code: bool | None = None,
        check_isfinite: bool | None = None,
        check_preallocated_output: Any = None,
        require_matching_strides: int | None = None,
        including: Any = (),
        excluding: Any = (),
        record_history: bool = False,
        name: str = "DebugMode",
        linker: Any = None,
    ) -> None:
        if stability_patience is None:
            stability_patience = config.DebugMode__patience
        if type(stability_patience) is not int or stability_patience < 1:
            raise ValueError(f"stability_patience must be an int >= 1, got {stability_patience!r}")
        self.stability_patience = stability_patience
        self.check_c_code = config.DebugMode__check_c if check_c_code is None else check_c_code
        self.check_py_code = config.DebugMode__check_py if check_py_code is None else check_py_code
        if not (self.check_c_code or self.check_py_code):
            raise ValueError("DebugMode has to check at least one of C and Python code")
        if check_isfinite is None:
            check_isfinite = config.DebugMode__check_finite
        self.check_isfinite = check_isfinite
        self.check_preallocated_output = check_preallocated_output
        if require_matching_strides is None:
            require_matching_strides = config.DebugMode__check_strides
        if require_matching_strides not in (0, 1, 2):
            raise ValueError(
                f"require_matching_strides must be 0, 1 or 2, got {require_matching_strides!r}"
            )
        self.require_matching_strides = int(require_matching_strides)
        self.linker_arg = linker
        if linker is None:
            linker = _default_linker(self.check_c_code)
        super().__init__(
            linker=linker,  # resolved by backends/registry.py (a C name needs a C compiler)
            optimizer=optimizer,
            name=name,
            including=including,
            excluding=excluding,
            record_history=record_history,
        )
        self.base_linker = self.linker
        if not self.check_c_code and isinstance(self.base_linker, CLinker):
            raise ValueError(
                f"DebugMode(check_c_code=False, linker={linker!r}): a C linker runs C code; "
                "leave linker out (or use 'py') to check Python code only"
            )
        replacements: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        if self.rewriter is not None:
            self.rewriter = RecordingRewriter(self.rewriter, replacements, stability_patience)
        options = CheckOptions(
            check_isfinite,
            self.check_py_code,
            self.require_matching_strides,
            config.DebugMode__warn_input_not_reused,
        )
        self.linker = DebugLinker(replacements, options, self.base_linker)

    @property
    def checks_c_code(self) -> bool:
        """Whether this mode runs C kernels (a C linker wraps the checks)."""
        return isinstance(self.base_linker, CLinker)

    def _derive(self, **changes: Any) -> DebugMode:
        args = {
            "optimizer": self.optimizer,
            "stability_patience": self.stability_patience,
            "check_c_code": self.check_c_code,
            "check_py_code": self.check_py_code,
            "check_isfinite": self.check_isfinite,
            "check_preallocated_output": self.check_preallocated_output,
            "require_matching_strides": self.require_matching_strides,
            "including": self.included,
            "excluding": self.excluded,
            "record_history": self.record_history,
            "name": self.name,
            "linker": self.linker_arg,
        }
        args.update(changes)
        return DebugMode(**args)
