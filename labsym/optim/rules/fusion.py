"""Rules of the fusion phase family (filled in by the optimizer work).

May import core and optim.patterns.
"""

from __future__ import annotations

from labsym.optim.patterns import Rule

RULES: list[Rule] = []
