"""Tiny helpers shared by every layer: where user code created a variable, name scratchpads.

Imports nothing from labsym, so any layer may use it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class SourceLocation:
    """The user's file and line that created a variable, for errors and debugprint."""

    filename: str
    lineno: int
    function: str

    def line_text(self) -> str:
        """The source line itself, read lazily so creating variables stays cheap."""
        import linecache

        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self) -> str:
        text = self.line_text()
        cell = _notebook_cell(self.filename)
        if cell is not None:  # IPython's own wording, not the kernel's temporary file path
            where = f"{cell}, line {self.lineno}"
        else:
            where = f'File "{self.filename}", line {self.lineno}, in {self.function}'
        return f"{where}\n    {text}" if text else where


def _notebook_cell(filename: str) -> str | None:
    """'Cell In[7]' when the running IPython compiled `filename` from a cell, else None."""
    ipython = sys.modules.get("IPython")  # never imported here: only used when already running
    get_shell = getattr(ipython, "get_ipython", None)
    shell = get_shell() if get_shell is not None else None
    label_of = getattr(getattr(shell, "compile", None), "format_code_name", None)
    label = label_of(filename) if label_of is not None else None
    return " ".join(label) if label else None


def user_source_location() -> SourceLocation | None:
    """The innermost stack frame outside the labsym package (tests count as user code)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            return SourceLocation(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None


class Scratchpad:
    """A free-form attribute bag (Theano's `var.tag`): test values, user notes."""

    def __repr__(self) -> str:
        return f"Scratchpad({self.__dict__!r})"
