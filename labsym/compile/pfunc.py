"""Theano's `theano.compile.pfunc` and `function_dump`: the deprecated Param and graph dumps.

Both are thin layers over In and function(): Param is In with Theano's old argument names,
function_dump pickles function()'s arguments so that `function(**pickle.load(f))` rebuilds it.
"""

from __future__ import annotations

import pickle
import warnings
from typing import Any

from labsym.core.io import In


class Param(In):
    """Deprecated (Theano 1.0 too): `Param(var, default=N)` is `In(var, value=N)`."""

    def __init__(
        self,
        variable: Any,
        default: Any = None,
        name: str | None = None,
        mutable: bool = False,
        strict: bool = False,
        allow_downcast: bool | None = None,
        implicit: bool | None = None,
        borrow: bool | None = None,
    ) -> None:
        warnings.warn(
            "The Param class is deprecated. Replace Param(default=N) by theano.In(value=N)",
            stacklevel=2,
        )
        super().__init__(
            variable,
            name=name,
            value=default,
            mutable=mutable,
            strict=strict,
            allow_downcast=allow_downcast,
            implicit=implicit,
            borrow=bool(borrow),
        )


def function_dump(
    filename: str,
    inputs: Any,
    outputs: Any = None,
    mode: Any = None,
    updates: Any = None,
    givens: Any = None,
    no_default_updates: bool = False,
    accept_inplace: bool = False,
    name: str | None = None,
    rebuild_strict: bool = True,
    allow_input_downcast: bool | None = None,
    profile: Any = None,
    on_unused_input: str | None = None,
    extra_tag_to_remove: Any = None,
) -> None:
    """Pickle function()'s arguments to `filename`, to rebuild it as `function(**d)` elsewhere.

    Theano's recipe for reporting a compile problem: `d = pickle.load(open(filename, 'rb'));
    f = theano.function(**d)`. `extra_tag_to_remove` is accepted for Theano's signature; labsym
    keeps no unpicklable tags on variables.
    """
    d = {
        "inputs": inputs,
        "outputs": outputs,
        "mode": mode,
        "updates": updates,
        "givens": givens,
        "no_default_updates": no_default_updates,
        "accept_inplace": accept_inplace,
        "name": name,
        "rebuild_strict": rebuild_strict,
        "allow_input_downcast": allow_input_downcast,
        "profile": profile,
        "on_unused_input": on_unused_input,
    }
    with open(filename, "wb") as f:
        pickle.dump(d, f, -1)


__all__ = ["Param", "function_dump"]
