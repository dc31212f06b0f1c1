"""Parametrisation helpers the backend tests share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest


def with_known_failures(names: Iterable[str], known: Mapping[str, str]) -> list:
    """pytest params for `names`, those in `known` marked strict xfail with its reason (so a
    fixed mismatch fails until it leaves `known`)."""
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=known[n])) if n in known else n
        for n in names
    ]
