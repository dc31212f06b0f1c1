"""`python -m labsym.cache list|clear|size`: inspect or empty the C compile cache (Theano's
`theano-cache`). The directory is the compiledir flag's (LABSYM_FLAGS/THEANO_FLAGS, .labsymrc),
or `--compiledir DIR`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from labsym.backends.c import cache as c_cache
from labsym.config import config


def human_size(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def human_age(seconds: float) -> str:
    """95 -> '1.6 min'."""
    for limit, unit, div in ((120, "s", 1), (7200, "min", 60), (172800, "h", 3600)):
        if seconds < limit:
            return f"{seconds / div:.0f} {unit}" if unit == "s" else f"{seconds / div:.1f} {unit}"
    return f"{seconds / 86400:.1f} d"


def list_text(compiledir: str) -> str:
    """One line per entry: key, size, age, validity and what the module holds."""
    entries = c_cache.list_entries(compiledir)
    lines = [f"{len(entries)} entries in {compiledir}"]
    if entries:
        lines.append(f"{'key':<14}{'size':>11}{'age':>10}  holds")
    now = time.time()
    for e in entries:
        state = "" if e.valid else "  [damaged: rebuilt on next use]"
        symbols = f" ({len(e.symbols)} functions)" if e.symbols else ""
        lines.append(
            f"{e.key[:12]:<14}{human_size(e.size):>11}{human_age(now - e.created):>10}  "
            f"{e.hint}{symbols}{state}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m labsym.cache", description="Inspect or empty labsym's C compile cache."
    )
    parser.add_argument("command", choices=("list", "clear", "size"))
    parser.add_argument("--compiledir", help="cache directory (default: the compiledir flag)")
    parser.add_argument("--timeout", type=float, help="seconds to wait for the cache lock")
    args = parser.parse_args(argv)
    try:
        root = c_cache.cache_dir(args.compiledir or config.compiledir)
        if args.command == "list":
            print(list_text(root))
        elif args.command == "size":
            total = c_cache.total_size(root)
            n = len(c_cache.list_entries(root))
            print(f"{human_size(total)} ({total} bytes) in {n} entries in {root}")
        else:
            removed = c_cache.clear(root, args.timeout)
            print(f"removed {removed} entries from {root}")
    except (c_cache.UnsafeCacheError, c_cache.CacheLockTimeout, OSError) as err:
        print(f"labsym.cache: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
