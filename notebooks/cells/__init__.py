"""Cell helpers for the tutorial notebooks: `md(text)` and `code(source, *expected_mime_types)`."""

from __future__ import annotations

from textwrap import dedent

SVG = "image/svg+xml"
HTML = "text/html"
GRAPH = "application/vnd.labsym.graph+json"  # labsym.viz.graphjson.MIME


def md(text: str) -> tuple[str, str, tuple[str, ...]]:
    """A markdown cell."""
    return ("md", dedent(text).strip(), ())


def code(source: str, *expect: str) -> tuple[str, str, tuple[str, ...]]:
    """A code cell whose outputs, once executed, must include every mime type in `expect`."""
    return ("code", dedent(source).strip(), expect)
