"""labsym.config as an HTML table: each flag, its value, where it was set from, its doc.

Flags set from anywhere but the defaults come first. May import labsym.config and labsym.viz.
"""

from __future__ import annotations

from labsym.config import Config
from labsym.viz.html import STYLE, table

HEADERS = ["flag", "value", "set from", "description"]


def config_rows(cfg: Config) -> list[list[str]]:
    """[flag, repr(value), source, doc] for every flag; non-default sources first."""
    rows = []
    for name in cfg.flag_names():
        value = getattr(cfg, name.replace(".", "__"))
        rows.append([name, repr(value), cfg.source_of(name), cfg.describe(name)])
    return sorted(rows, key=lambda row: row[2] == "default")  # stable: table order kept


def config_html(cfg: Config) -> str:
    """The flags table, its caption counting the flags set outside the defaults."""
    rows = config_rows(cfg)
    changed = sum(row[2] != "default" for row in rows)
    caption = f"labsym.config: {len(rows)} flags, {changed} set from outside the defaults"
    return STYLE + table(HEADERS, rows, caption=caption)
