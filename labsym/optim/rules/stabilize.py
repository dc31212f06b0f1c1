"""Numerical stability: forms that overflow or cancel are replaced by stable equivalents.

Each rule is proved in tests by an input where the naive graph gives inf/nan.
May import core and optim.patterns.
"""

from __future__ import annotations

from labsym.optim.patterns import Rule

PHASE = ("stabilize",)

RULES = [
    Rule("sigmoid_from_exp", PHASE, ("true_div", 1, ("add", 1, ("exp", "x"))), ("sigmoid", ("neg", "x")),
         math="1 / (1 + exp(x)) -> sigmoid(-x)"),
    Rule("sigmoid_from_exp_ratio", PHASE, ("true_div", ("exp", "x"), ("add", 1, ("exp", "x"))), ("sigmoid", "x"),
         math="exp(x) / (1 + exp(x)) -> sigmoid(x)"),
    Rule("one_minus_sigmoid", PHASE, ("sub", 1, ("sigmoid", "x")), ("sigmoid", ("neg", "x")),
         math="1 - sigmoid(x) -> sigmoid(-x)"),
    Rule("sigmoid_times_exp", PHASE,
         ("mul", ("true_div", "g", ("add", 1, ("exp", "u"))), ("exp", "u")), ("mul", "g", ("sigmoid", "u")),
         math="g / (1 + exp(u)) * exp(u) -> g * sigmoid(u)"),
    Rule("log_sigmoid", PHASE, ("log", ("sigmoid", "x")), ("neg", ("softplus", ("neg", "x"))),
         math="log(sigmoid(x)) -> -softplus(-x)"),
    Rule("softplus_from_log_exp", PHASE, ("log", ("add", 1, ("exp", "x"))), ("softplus", "x"),
         math="log(1 + exp(x)) -> softplus(x)"),
    Rule("log1p_from_log", PHASE, ("log", ("add", 1, "x")), ("log1p", "x"), math="log(1 + x) -> log1p(x)"),
    Rule("log1p_from_log_sub", PHASE, ("log", ("sub", 1, "x")), ("log1p", ("neg", "x")),
         math="log(1 - x) -> log1p(-x)"),
    Rule("expm1_from_exp", PHASE, ("sub", ("exp", "x"), 1), ("expm1", "x"), math="exp(x) - 1 -> expm1(x)"),
]
