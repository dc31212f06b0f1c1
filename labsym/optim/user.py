"""Rules users register at run time (Theano's register_canonicalize & co.), by name.

Registering a name again replaces the rule, so re-running a notebook cell is harmless.
May import optim.patterns.
"""

from __future__ import annotations

from labsym.optim.patterns import Rule

_USER_RULES: dict[str, Rule] = {}


def register_rule(rule: Rule) -> Rule:
    """Add (or replace, by name) a user rule; it runs in the phases it names."""
    _USER_RULES[rule.name] = rule
    return rule


def unregister_rule(name: str) -> None:
    _USER_RULES.pop(name, None)


def user_rules() -> list[Rule]:
    """The user rules, in registration order."""
    return list(_USER_RULES.values())
