"""Theano's `theano.compile.optdb`: the optimizer database user code registers rewrites in.

Theano programs write `optdb.register('name', TopoOptimizer(local_opt), 0.5, 'fast_run')` or
`optdb['canonicalize'].register('name', local_opt, 'fast_run')`. labsym has no ordered list
of global optimizers: every rewrite is a rule that runs in a phase, so a registration files
each local optimizer as a user rule (optim.user_api) in the phase matching Theano's position.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from labsym.optim import user_api
from labsym.optim.navigators import _Navigator
from labsym.optim.phases import Rewriter, rewriter_for

__all__ = ["EquilibriumDB", "Query", "SequenceDB", "optdb"]

# Theano's sub-databases, by name: the user_api registration that files a rule in each
_SUB_DBS: dict[str, Callable[..., Any]] = {
    "canonicalize": user_api.register_canonicalize,
    "stabilize": user_api.register_stabilize,
    "specialize": user_api.register_specialize,
    "uncanonicalize": user_api.register_uncanonicalize,
    "specialize_device": user_api.register_specialize_device,
    "useless": user_api.register_useless,
}

# Theano's optdb positions: canonicalize at 1, stabilize at 1.5, specialize at 2,
# uncanonicalize at 3, specialize_device at 48.6; fusion and inplace come later (49+).
_POSITIONS = ((1.5, "canonicalize"), (2.0, "stabilize"), (49.0, "specialize"))


class Query:
    """Theano's gof.Query: tags to include, require and exclude when asking optdb."""

    def __init__(
        self,
        include: Sequence[str],
        require: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        subquery: dict | None = None,
        position_cutoff: float | None = None,
        extra_optimizations: Sequence[Any] | None = None,
    ) -> None:
        self.include = list(include)
        self.require = list(require or ())
        self.exclude = list(exclude or ())

    def __repr__(self) -> str:
        return f"Query{{inc={self.include},ex={self.exclude},require={self.require}}}"


def _local_optimizers(name: str, obj: Any) -> list[Any]:
    """The local optimizers `obj` stands for: itself, or those a navigator sweeps."""
    if isinstance(obj, _Navigator):
        return list(obj.local_opts)
    if isinstance(obj, user_api.LocalOptimizer) or (
        callable(obj) and not isinstance(obj, type) and not hasattr(obj, "apply")
    ):
        return [obj]
    raise TypeError(
        f"optdb.register({name!r}, ...): labsym rewrites node by node, so it takes a local "
        "optimizer (local_optimizer, PatternSub, OpSub) or a TopoOptimizer/"
        f"EquilibriumOptimizer/in2out of them, not {obj!r}"
    )


def _file(register: Callable[..., Any], name: str, obj: Any, tags: Sequence[str]) -> None:
    locals_ = _local_optimizers(name, obj)
    for i, local in enumerate(locals_):
        rule_name = name if len(locals_) == 1 else f"{name}.{i}"
        register(local, *tags, name=rule_name)


class EquilibriumDB:
    """One of Theano's phases as a database: `register(name, local_opt, *tags)` files a rule."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._register = _SUB_DBS[name]
        self.registered: dict[str, Any] = {}

    def register(self, name: str, obj: Any, *tags: str, **kwargs: Any) -> None:
        """Run `obj` in this phase when a mode includes one of `tags` (e.g. 'fast_run')."""
        _file(self._register, name, obj, tags)
        self.registered[name] = obj

    def __getitem__(self, name: str) -> Any:
        return self.registered[name]

    def __contains__(self, name: str) -> bool:
        return name in self.registered

    def __repr__(self) -> str:
        return f"EquilibriumDB({self.name})"


class SequenceDB:
    """Theano's top-level optdb: optimizers at positions; the sub-databases by name."""

    def __init__(self) -> None:
        self.sub_dbs = {name: EquilibriumDB(name) for name in _SUB_DBS}
        self.registered: dict[str, tuple[Any, float]] = {}

    def register(self, name: str, obj: Any, position: float, *tags: str, **kwargs: Any) -> None:
        """File `obj`'s local optimizers in the labsym phase nearest Theano's `position`."""
        phase = next((p for limit, p in _POSITIONS if 0 <= position < limit), None)
        if phase is None:
            warnings.warn(
                f"optdb.register({name!r}, ..., {position}): labsym has no phase at Theano "
                f"position {position} (after specialize: fusion, inplace); it runs in the "
                "specialize phase",
                stacklevel=2,
            )
            phase = "specialize"
        _file(_SUB_DBS[phase], name, obj, tags)
        self.registered[name] = (obj, position)

    def __getitem__(self, name: str) -> Any:
        if name in self.sub_dbs:
            return self.sub_dbs[name]
        if name in self.registered:
            return self.registered[name][0]
        raise KeyError(
            f"optdb has no {name!r}; its databases are {', '.join(self.sub_dbs)} and the "
            "optimizers registered with optdb.register"
        )

    def __contains__(self, name: str) -> bool:
        return name in self.sub_dbs or name in self.registered

    def query(self, *tags: Any, **kwtags: Any) -> Rewriter:
        """The rewriter for a Query (or include tags, '-tag' to exclude), e.g. 'fast_run'."""
        if len(tags) == 1 and isinstance(tags[0], Query):
            query = tags[0]
        else:
            query = Query(
                include=[t for t in tags if not t.startswith("-")],
                exclude=[t[1:] for t in tags if t.startswith("-")],
            )
        base = next((t for t in ("fast_run", "fast_compile") if t in query.include), None)
        extra = [t for t in query.include + query.require if t != base]
        return rewriter_for(base, extra, query.exclude)

    def __repr__(self) -> str:
        return "optdb"


optdb = SequenceDB()
