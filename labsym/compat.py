"""Helpers for running legacy Theano programs unchanged on labsym.

`install_theano_alias()` makes `import theano` (and its submodules) resolve to labsym.
"""

from __future__ import annotations

import sys


def install_theano_alias() -> None:
    """Register labsym and its Theano-named submodules under `theano` in sys.modules."""

    prefix = "labsym"
    for name, module in list(sys.modules.items()):
        if name == prefix or name.startswith(prefix + "."):
            sys.modules["theano" + name[len(prefix) :]] = module
