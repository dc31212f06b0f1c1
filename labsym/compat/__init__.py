"""Helpers for running legacy Theano programs unchanged on labsym, and Theano's `theano.compat`.

`install_theano_alias()` makes `import theano` (and its submodules) resolve to labsym. The other
names are the Python 2/3 helpers Theano programs import from `theano.compat` (standard library).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, ValuesView
from collections.abc import MutableMapping as DictMixin
from importlib import reload
from io import BytesIO
from operator import truediv as operator_div
from typing import Any

from labsym.compat import python2x
from labsym.compat.python2x import DefaultOrderedDict

PY3 = True
izip = zip
imap = map
ifilter = filter
string_types = (str,)
integer_types = (int,)
text_type = str
next = next  # noqa: PLW0127 - re-exported builtin, as six.next


def b(text: str) -> bytes:
    """A byte string from a latin-1 text literal (six.b)."""
    return text.encode("latin-1")


def cmp(x: Any, y: Any) -> int:
    """-1, 0 or 1 as x < y, x == y or x > y (Python 2's cmp)."""
    return (x > y) - (x < y)


def decode(x: bytes) -> str:
    """Bytes to text (UTF-8)."""
    return x.decode()


def decode_iter(items: Iterable[bytes]):
    """Each item of `items` decoded to text."""
    for item in items:
        yield item.decode()


def decode_with(x: bytes, encoding: str) -> str:
    """Bytes to text in `encoding`."""
    return x.decode(encoding)


def exc_message(exc: BaseException) -> Any:
    """The innermost message of an exception re-raised with another exception as its argument."""
    message = exc.args[0]
    return exc_message(message) if isinstance(message, BaseException) else message


def get_unbound_function(method: Any) -> Any:
    """The plain function behind a bound method (or the argument itself)."""
    return getattr(method, "__func__", method)


def install_theano_alias() -> None:
    """Register labsym and its Theano-named submodules under `theano` in sys.modules."""
    prefix = "labsym"
    for name, module in list(sys.modules.items()):
        if name == prefix or name.startswith(prefix + "."):
            sys.modules["theano" + name[len(prefix) :]] = module


__all__ = [
    "PY3",
    "BytesIO",
    "Callable",
    "DefaultOrderedDict",
    "DictMixin",
    "Iterable",
    "Mapping",
    "OrderedDict",
    "ValuesView",
    "b",
    "cmp",
    "decode",
    "decode_iter",
    "decode_with",
    "exc_message",
    "get_unbound_function",
    "ifilter",
    "imap",
    "install_theano_alias",
    "integer_types",
    "izip",
    "next",
    "operator_div",
    "python2x",
    "reload",
    "string_types",
    "text_type",
]
