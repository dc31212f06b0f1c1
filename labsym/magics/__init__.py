"""labsym's IPython extension: `%load_ext labsym` registers `%%symfunc` and the line magics.

`%%symfunc` compiles a cell into a function (see magics.symfunc); `%symgraph`, `%debugprint`,
`%symprofile` and `%symrewrites` show graphs, profiles and rewrites (see magics.linemagics);
the widgets (`labsym.magics.TrainingMonitor`, ...) also work without IPython.
IPython is imported only when the extension is loaded. May import every layer below the facades.
"""

from __future__ import annotations

from typing import Any

from labsym.magics.widgets import TrainingMonitor

__all__ = ["TrainingMonitor", "load_ipython_extension"]


def load_ipython_extension(ip: Any) -> None:
    """Register labsym's magics and rich displays in the IPython session `ip`."""
    from labsym.magics.extension import LabsymMagics
    from labsym.viz.display import register_formatters

    ip.register_magics(LabsymMagics)
    register_formatters(ip)
