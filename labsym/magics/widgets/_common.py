"""What the widgets share: the lazy ipywidgets import, kernel detection, the mime bundle hook.

May import labsym.viz; ipywidgets and IPython only inside functions (import labsym stays fast).
"""

from __future__ import annotations

import sys
from typing import Any


def require_ipywidgets() -> Any:
    """The ipywidgets module, or an ImportError saying how to install it."""
    try:
        import ipywidgets
    except ImportError:
        raise ImportError(
            "labsym's widgets need ipywidgets 8: pip install ipywidgets "
            "(or pip install 'labsym[jupyter]')"
        ) from None
    return ipywidgets


def widgets_available() -> bool:
    """True when ipywidgets imports (only asked inside a kernel, where it is cheap to load)."""
    try:
        require_ipywidgets()
    except ImportError:
        return False
    return True


def in_kernel() -> bool:
    """True inside a Jupyter kernel (where widgets render), False in a terminal or plain script."""
    ipython = sys.modules.get("IPython")  # not imported: certainly not in a kernel
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def widget_bundle(owner: Any, text: str, html: str, **kwargs: Any) -> dict[str, Any]:
    """`owner.widget`'s mime bundle plus our text/plain and a static text/html.

    Front ends without a widget manager (nbconvert, GitHub, a terminal) show the HTML or the
    text; without ipywidgets the bundle is just those two.
    """
    try:
        widget = owner.widget
    except ImportError:
        return {"text/plain": text, "text/html": html}
    bundle = widget._repr_mimebundle_(**kwargs) or {}
    if isinstance(bundle, tuple):  # (data, metadata) form
        bundle = bundle[0]
    return {**bundle, "text/plain": text, "text/html": html}


def inline_svg(svg: str) -> str:
    """An SVG document as an element to put inside HTML: the XML prolog and doctype dropped."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
