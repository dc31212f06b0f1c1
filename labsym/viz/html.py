"""HTML building blocks for the notebook displays: escaping and small tables.

Every string that reaches HTML passes through `escape` here: variable names, op names and
flag values are user data, never markup. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

STYLE = (
    "<style>.labsym-table{border-collapse:collapse;font-family:monospace;font-size:12px}"
    ".labsym-table th,.labsym-table td{border:1px solid #ccc;padding:2px 6px;text-align:left}"
    ".labsym-table td.num{text-align:right}"
    ".labsym-table caption{font-weight:bold;text-align:left;padding:4px 0}"
    ".labsym-pre td{white-space:pre;vertical-align:top}</style>"
)


_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"))


def escape(text: Any) -> str:
    """`text` (any object, via str) as HTML text: &, <, >, " and ' become entities.

    The same output as html.escape(quote=True), without importing html.entities (5 ms at
    `import labsym`).
    """
    text = str(text)
    for char, entity in _ENTITIES:  # & first: the entities' own & must not be escaped again
        text = text.replace(char, entity)
    return text


def _cell(value: Any, tag: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<{tag} class="num">{escape(value)}</{tag}>'
    return f"<{tag}>{escape(value)}</{tag}>"


def table(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
    pre: bool = False,
) -> str:
    """An HTML table; every header, cell and the caption are escaped (numbers right-aligned).

    `pre=True` keeps the cells' line breaks and indentation (debugprint trees in cells).
    """
    parts = ['<table class="labsym-table labsym-pre">' if pre else '<table class="labsym-table">']
    if caption is not None:
        parts.append(f"<caption>{escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(_cell(h, "th") for h in headers) + "</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"table row {list(row)!r} has {len(row)} cells, not {len(headers)}")
        parts.append("<tr>" + "".join(_cell(v, "td") for v in row) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def pre(text: Any) -> str:
    """Preformatted text (debugprint, pp) as escaped HTML."""
    return f"<pre>{escape(text)}</pre>"


def section(title: str, body_html: str) -> str:
    """A titled block: an escaped heading over already-built HTML."""
    return f"<div><h4>{escape(title)}</h4>{body_html}</div>"
