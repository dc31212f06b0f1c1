"""Theano's `theano.printing` names: debugprint, pp, pprint, min_informative_str, Print.

Facade: re-exports, plus Theano's `pprint` object (PPrinter: callable like pp, with `assign`
for user printers of their own ops) and the FunctionPrinter those printers are usually made of.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labsym.core.graph import Variable, ancestors, clone_graph
from labsym.core.ops.debug import Print
from labsym.viz.debugprint import debugprint
from labsym.viz.graphviz import pydotprint
from labsym.viz.pprint import min_informative_str, pp


class PrinterState:
    """The state passed to printers: `pprinter`, and any other attribute a printer sets."""

    def __init__(self, props: dict | None = None, **more_props: Any) -> None:
        self.__dict__.update(props or {})
        self.__dict__.update(more_props)
        self.memo: dict = {}


class FunctionPrinter:
    """Prints a node as `name(input, ...)`, its inputs through the state's pprinter."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = output.owner
        if node is None:
            raise TypeError(
                f"function {self.names} cannot represent a variable that is not the result "
                "of an operation"
            )
        name = self.names[node.outputs.index(output)]
        args = ", ".join(pstate.pprinter.process(i, pstate) for i in node.inputs)
        pstate.memo[output] = text = f"{name}({args})"
        return text


class PPrinter:
    """Theano's `pprint`: `pprint(var)` is the pp string; `assign` adds printers for ops.

    `assign(op_or_class, printer)` or `assign(condition(pstate, var), printer)`; a printer has
    `process(var, pstate)`. What no assigned printer claims is printed by `pp`.
    """

    def __init__(self) -> None:
        self.printers: list[tuple[Callable[[PrinterState, Variable], bool], Any]] = []
        self.printers_dict: dict[Any, Any] = {}

    def assign(self, condition: Any, printer: Any) -> None:
        """Use `printer` for the outputs of an op (instance or class) or where condition holds."""
        if isinstance(condition, type) or hasattr(condition, "make_node"):
            self.printers_dict[condition] = printer
        else:
            self.printers.insert(0, (condition, printer))

    def process(self, var: Variable, pstate: PrinterState | dict | None = None) -> str:
        """The text of `var`: an assigned printer's, else pp's with assigned printers inside."""
        if pstate is None:
            pstate = PrinterState(pprinter=self)
        elif isinstance(pstate, dict):
            pstate = PrinterState(pprinter=self, **pstate)
        printer = self._printer_for(var, pstate)
        if printer is not None:
            return printer.process(var, pstate)
        # subexpressions an assigned printer claims: pp shows them as variables named by it
        claimed: dict[Variable, Variable] = {}
        for sub in ancestors([var]):
            if sub is not var and self._printer_for(sub, pstate) is not None:
                claimed[sub] = sub.type(self._printer_for(sub, pstate).process(sub, pstate))
        if not claimed:
            return pp(var)
        _, (shown,), _ = clone_graph(list(claimed), [var], memo=claimed, copy_inputs=False)
        return pp(shown)

    def _printer_for(self, var: Variable, pstate: PrinterState) -> Any:
        node = getattr(var, "owner", None)
        if node is not None:
            for key in (node.op, type(node.op)):
                printer = self.printers_dict.get(key) if _hashable(key) else None
                if printer is not None:
                    return printer
        for condition, printer in self.printers:
            if condition(pstate, var):
                return printer
        return None

    def clone(self) -> PPrinter:
        """A copy whose assignments do not affect this printer."""
        cp = PPrinter()
        cp.printers = list(self.printers)
        cp.printers_dict = dict(self.printers_dict)
        return cp

    def clone_assign(self, condition: Any, printer: Any) -> PPrinter:
        """A copy with one more assignment."""
        cp = self.clone()
        cp.assign(condition, printer)
        return cp

    def __call__(self, var: Variable, pstate: PrinterState | dict | None = None) -> str:
        return self.process(var, pstate)


def _hashable(key: Any) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


pprint = PPrinter()

__all__ = [
    "FunctionPrinter",
    "PPrinter",
    "Print",
    "PrinterState",
    "debugprint",
    "min_informative_str",
    "pp",
    "pprint",
    "pydotprint",
]
