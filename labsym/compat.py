"""Helpers for running legacy Theano programs unchanged on labsym.

`install_theano_alias()` makes `import theano` (and its submodules) resolve to labsym.
"""

from __future__ import annotations

import sys


def install_theano_alias() -> None:
    """Register labsym and its Theano-named submodules under `theano` in sys.modules."""
    import labsym
    import labsym.compile
    import labsym.gof
    import labsym.compile.builders
    import labsym.compile.io
    import labsym.compile.mode
    import labsym.compile.ops
    import labsym.compile.sharedvalue
    import labsym.gof.opt
    import labsym.gradient
    import labsym.ifelse
    import labsym.printing
    import labsym.scan_module
    import labsym.sandbox.rng_mrg
    import labsym.tensor
    import labsym.tensor.extra_ops
    import labsym.tensor.nlinalg
    import labsym.tensor.nnet
    import labsym.tensor.nnet.bn
    import labsym.tensor.nnet.conv
    import labsym.tensor.opt
    import labsym.tensor.shared_randomstreams
    import labsym.tensor.signal.pool
    import labsym.tensor.slinalg

    prefix = "labsym"
    for name, module in list(sys.modules.items()):
        if name == prefix or name.startswith(prefix + "."):
            sys.modules["theano" + name[len(prefix):]] = module
