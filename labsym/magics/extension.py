"""The IPython Magics class behind `%load_ext labsym`: one instance (and one cache) per shell.

May import IPython and every layer below the facades.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from labsym.magics import linemagics
from labsym.magics.symfunc import CompileCache, run_symfunc

__all__ = ["LabsymMagics"]


@magics_class
class LabsymMagics(Magics):
    """The magics of one IPython session; `cache` keeps its compiled `%%symfunc` cells."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.cache = CompileCache()

    @cell_magic
    def symfunc(self, line: str, cell: str) -> None:
        """Compile the cell into a function bound to NAME and show its compile report.

        Header: `%%symfunc NAME(x: dmatrix, y: ivector[200], lr: fscalar = 0.1) -> out1, out2`
        then options: `--mode NAME` (a mode name or a Mode in the notebook), `--optimizer NAME`,
        `--profile`, `--flag KEY=VALUE` (repeatable; set while the cell builds and compiles),
        `--show report|graph|debugprint|none`, `--quiet` (show nothing).
        Types are labsym.tensor constructor names; `[shape]` gives the input a test value of
        that shape and turns compute_test_value on for the cell, so a shape error is raised
        at the cell line that builds the bad node; `= default` becomes In(x, value=default).
        The body is run in the notebook's namespace; the outputs after `->` are evaluated after
        it, and an `updates` / `givens` the body assigns is passed to function().

        Re-running an unchanged cell reuses the compiled function without running the body:
        the cache is keyed by the header, the body text and every config flag, and an entry is
        used only while each global the cell reads names the same object (shared variables by
        identity and type, numbers and strings by value). Names the body bound are bound again
        to the objects of the run that compiled it (shared variables keep their current values);
        edit the cell to build it afresh.

        Example::

            %%symfunc step(x: dmatrix, y: dvector, lr: dscalar = 0.1) -> cost
            p = T.nnet.sigmoid(T.dot(x, w))
            cost = T.nnet.binary_crossentropy(p, y).mean()
            updates = [(w, w - lr * T.grad(cost, w))]
        """
        run_symfunc(self.shell, self.cache, line, cell)

    @line_magic
    def symgraph(self, line: str) -> None:
        """`%symgraph EXPR_OR_FUNCTION [--format svg|png] [--compact]`: draw the graph."""
        linemagics.symgraph(self.shell, line)

    @line_magic
    def debugprint(self, line: str) -> None:
        """`%debugprint EXPR`: Theano's debugprint of a variable, a list or a function."""
        linemagics.debugprint_magic(self.shell, line)

    @line_magic
    def symprofile(self, line: str) -> None:
        """`%symprofile FUNCTION`: the profile tables of a function compiled with profiling."""
        linemagics.symprofile(self.shell, line)

    @line_magic
    def symrewrites(self, line: str) -> None:
        """`%symrewrites FUNCTION`: step through the rewrites that optimized the function."""
        linemagics.symrewrites(self.shell, line)
