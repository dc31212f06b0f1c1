"""The pipeline: phases named in one ordered list, the optimizer sets, and the Rewriter a Mode runs.

A phase is merge (structural) or a set of rules applied to a fixed point; rules say which
phases they belong to. Which rules an optimizer set (Theano's `fast_run`, `fast_compile`, ...)
runs, and which Theano optimizer names select which rules, is declared here, in tables.
Nothing registers itself on import: the rule modules are listed here.
May import core and optim.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from labsym.config import user_stacklevel
from labsym.core.fgraph import FunctionGraph
from labsym.optim import driver
from labsym.optim.driver import History, PhaseTiming
from labsym.optim.patterns import Rule
from labsym.optim.rules import (
    canonicalize,
    constants,
    fusion,
    fusion_reduce,
    identities,
    inline,
    inplace,
    scan_vectorize,
    shape,
    specialize,
    stabilize,
)
from labsym.optim.user import user_rules

PHASES: tuple[str, ...] = ("merge", "canonicalize", "stabilize", "specialize", "fusion", "inplace")

RULE_MODULES = (
    constants,
    inline,
    identities,
    shape,
    canonicalize,
    scan_vectorize,
    stabilize,
    specialize,
    fusion,
    fusion_reduce,
    inplace,
)

# Theano's OPT_FAST_COMPILE ran the rewrites tagged 'fast_compile' or 'fast_compile_gpu': merge,
# constant folding, useless-op and view-op removal, and a few that form the nnet ops. Nothing
# that sinks fills or drops `+ 0`, so a shape mismatch in the user's graph still raises.
FAST_COMPILE_RULES: frozenset[str] = frozenset(
    {
        "constant_folding",  # topo_constant_folding
        "inline_opfromgraph",  # inline_ofg_expansion
        "drop_gradient_views",  # local_view_op
        "merge_equal_node",  # canonicalize's merge cleanup
        "useless_fill",  # local_useless_fill: only where the value already has the output's type
        "useless_cast",  # Theano's cast returned x itself for x's own dtype
        "useless_specify_shape",  # only where x's type already says the shape
        "shape_entry",  # local_subtensor_make_vector
        "log_softmax_from_log",  # local_logsoftmax
        "softmax_grad_of_log",  # local_logsoftmax_grad
        "crossentropy_softmax_1hot",  # crossentropy_to_crossentropy_with_softmax_with_bias
        "crossentropy_softmax_1hot_grad",  # local_softmax_grad_to_crossentropy_with_softmax_grad
    }
)

# Theano optimizer names -> the labsym phases and rules they select (in including/excluding)
THEANO_NAMES: dict[str, tuple[str, ...]] = {
    "merge1": ("merge",),
    "merge2": ("merge",),
    "merge3": ("merge",),
    "MergeOptimizer": ("merge",),
    "canonicalize_db": ("canonicalize",),
    "topo_constant_folding": ("constant_folding",),
    "local_view_op": ("drop_gradient_views",),
    "inline_ofg_expansion": ("inline_opfromgraph",),
    "local_useless_fill": ("useless_fill",),
    "local_useless_elemwise": ("useless_cast",),
    "local_fill_sink": ("sink_fill",),
    "local_fill_cut": ("cut_fill_model",),
    "local_add_canonizer": (
        "add_zero",
        "sub_zero",
        "sub_self",
        "add_sub_cancel",
        "add_neg",
        "sub_neg",
        "canonical_add_chain",
    ),
    "local_mul_canonizer": (
        "mul_by_one",
        "div_by_one",
        "div_self",
        "mul_div_cancel",
        "neg_out_of_mul",
        "neg_out_of_div_num",
        "neg_out_of_div_den",
        "canonical_mul_chain",
    ),
    "local_neg_neg": ("double_neg",),
    "local_neg_to_mul": ("neg_of_sub", "neg_sub_first"),
    "local_mul_specialize": ("mul_minus_one",),
    "local_pow_canonicalize": ("pow_one",),
    "local_pow_specialize": (
        "pow_two",
        "pow_half",
        "pow_minus_half",
        "pow_minus_one",
        "pow_minus_two",
    ),
    "local_pow_specialize_device": ("pow_three",),
    "local_dimshuffle_lift": ("merge_dimshuffles",),
    "local_useless_dimshuffle": ("merge_dimshuffles",),
    "local_useless_reshape": ("useless_reshape",),
    "local_useless_alloc": ("useless_alloc",),
    "local_canonicalize_alloc": ("useless_alloc",),
    "local_reduce_broadcastable": ("sum_over_length_one_axes",),
    "local_opt_alloc": ("sum_of_filled",),
    "local_subtensor_merge": ("merge_subtensors",),
    "local_useless_subtensor": ("merge_subtensors",),
    "local_useless_slice": ("merge_subtensors",),
    "local_subtensor_make_vector": ("shape_entry",),
    "local_shape_to_shape_i": ("shape_from_known", "shape_entry", "shape_to_shape_i"),
    "local_track_shape_i": ("shape_i_from_known",),
    # the shape feature: without it Theano's shape rewrites find nothing to do
    "ShapeOpt": tuple(r.name for r in shape.RULES),
    "shape_opt": tuple(r.name for r in shape.RULES),
    "local_exp_over_1_plus_exp": ("sigmoid_from_exp", "sigmoid_from_exp_ratio"),
    "local_1msigmoid": ("one_minus_sigmoid",),
    "local_sigm_times_exp": ("sigmoid_times_exp",),
    "local_log1p": ("log1p_from_log", "log1p_from_log_sub"),
    "local_expm1": ("expm1_from_exp",),
    "local_log_sum_exp": ("logsumexp",),
    "local_logsoftmax": ("log_softmax_from_log",),
    "local_log_softmax": ("log_softmax_from_log",),
    "local_logsoftmax_grad": ("softmax_grad_of_log",),
    "xent": ("crossentropy_softmax_1hot", "crossentropy_softmax_1hot_grad"),
    "crossentropy_to_crossentropy_with_softmax": ("crossentropy_softmax_1hot",),
    "crossentropy_to_crossentropy_with_softmax_with_bias": ("crossentropy_softmax_1hot",),
    "local_softmax_grad_to_crossentropy_with_softmax_grad": ("crossentropy_softmax_1hot_grad",),
    "local_crossentropy_to_crossentropy_with_softmax_grad": ("crossentropy_softmax_1hot_grad",),
    "gemm": ("dot_to_blas",),
    "gemm_optimizer": ("dot_to_blas",),
    "BlasOpt": ("dot_to_blas",),
    "blas": ("dot_to_blas",),
    "local_dot_to_dot22": ("dot_to_blas",),
    "local_gemm_to_gemv": ("dot_to_blas",),
    "local_gemm_to_ger": ("dot_to_blas",),
    "local_dot22_to_ger_or_gemv": ("dot_to_blas",),
    "c_blas": ("dot_to_blas",),
    "scipy_blas": ("dot_to_blas",),
    "elemwise_fusion": ("fusion",),
    "local_elemwise_fusion": ("fusion",),
    "composite_elemwise_fusion": ("fusion",),
    "local_add_mul_fusion": ("fusion",),
    "FusionOptimizer": ("fusion",),
    "inplace_opt": ("inplace",),
    "inplace_elemwise_opt": ("inplace",),
    "inplace_elemwise_optimizer": ("inplace",),
    "add_destroy_handler": ("inplace",),
}

# Theano optimizer names with no labsym counterpart (GPU, C-only, sparse, scan, ... rewrites):
# excluding one changes nothing, as it would in Theano on a graph it does not apply to.
THEANO_ABSENT: frozenset[str] = frozenset(
    {
        "gpu", "gpuarray", "cudnn", "dnn", "conv_dnn", "cxx_only", "fast_compile_gpu",
        "gpuarray_local_optimiziations", "InputToGpuOptimizer", "cut_gpua_host_transfers",
        "local_cut_gpua_host_gpua", "local_gpua_elemwise", "assert_no_cpu_op", "cusolver",
        "conv_gemm", "conv_meta", "AbstractConvCheck", "uncanonicalize", "stable",
        "scan_eqopt1", "scan_eqopt2", "typed_list_inplace_opt", "local_remove_all_assert",
        "local_ultra_fast_sigmoid", "local_hard_sigmoid", "local_softmax_with_bias",
        "local_argmax_pushdown", "local_max_and_argmax", "local_useless_rebroadcast",
        "local_useless_inc_subtensor", "local_useless_switch", "local_cut_useless_reduce",
        "local_useless_reduce", "local_cast_cast", "local_sumsqr2dot", "local_abs_merge",
        "local_log_add", "local_zero_div", "local_add_specialize", "local_sum_prod_mul_by_scalar",
        "local_sum_prod_div_dimshuffle", "local_reshape_lift", "local_merge_alloc",
        "local_IncSubtensor_serialize", "local_set_to_inc_subtensor", "local_fill_to_alloc",
        "local_subtensor_lift", "local_elemwise_alloc", "local_useless_split", "local_join_1",
        "local_useless_topk", "local_func_inv", "local_intdiv_by_one", "local_log_erfc",
        "local_subtensor_of_dot", "local_subtensor_inc_subtensor", "local_useless_slice_steps",
        "local_adv_sub1_adv_inc_sub1", "local_elemwise_sub_zeros", "local_merge_switch_same_cond",
        "local_useless_elemwise_comparison", "local_subtensor_remove_broadcastable_index",
        "local_inplace_setsubtensor", "local_inplace_incsubtensor1", "blas_opt_inplace",
        "InplaceBlasOpt", "UnShapeOpt", "specialize_device", "useless", "CheckStackTrace",
    }
)  # fmt: skip

# Theano's optimizer names -> (the sets and phases they include, those they exclude)
OPTIMIZERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "fast_run": (frozenset({"fast_run"}), frozenset()),
    "o4": (frozenset({"fast_run"}), frozenset()),
    "fast_run_stable": (frozenset({"fast_run"}), frozenset()),
    "unsafe": (frozenset({"fast_run"}), frozenset({"inplace"})),  # labsym has no unsafe rules
    "o3": (frozenset({"fast_run"}), frozenset({"inplace"})),
    "fast_compile": (frozenset({"fast_compile"}), frozenset()),
    "o1": (frozenset({"fast_compile"}), frozenset()),
    "o2": (frozenset({"fast_compile", "fusion"}), frozenset()),
    "stabilize": (frozenset({"merge", "canonicalize", "stabilize"}), frozenset()),
    "merge": (frozenset({"merge"}), frozenset()),
    "o0": (frozenset(), frozenset()),
    "None": (frozenset(), frozenset()),
}
SETS: frozenset[str] = frozenset({"fast_run", "fast_compile", "unsafe"})
_MERGE_TAGS = frozenset({"merge", "fast_run", "fast_compile", "unsafe"})


def builtin_rules() -> list[Rule]:
    """Every built-in rule, in declaration order."""
    return [rule for module in RULE_MODULES for rule in module.RULES]


def rule_tags(rule: Rule) -> frozenset[str]:
    """The names that select `rule`: its own, its user tags and its optimizer sets."""
    tags = {rule.name, *rule.extra.get("tags", ())}
    if not rule.extra.get("opt_in"):  # an opt-in rule runs only when named (C linker modes)
        tags |= {"fast_run", "unsafe"}
    if rule.name in FAST_COMPILE_RULES:
        tags.add("fast_compile")
    return frozenset(tags)


_WARNED: set[str] = set()


def _selectable() -> set[str]:
    """The labsym names a Rewriter selects by: phases, sets, rule names and rule tags."""
    rules = [*builtin_rules(), *user_rules()]
    return set(PHASES) | SETS | {tag for rule in rules for tag in rule_tags(rule)}


def known_names() -> set[str]:
    """Every name including/excluding understands (phases, rules, sets, Theano names)."""
    return _selectable() | set(THEANO_NAMES) | THEANO_ABSENT


def _warn_once(name: str, message: str) -> None:
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(message, stacklevel=user_stacklevel())


def resolve_names(names: Iterable[str], including: bool) -> frozenset[str]:
    """labsym phase, set and rule names for Theano or labsym optimizer names.

    An unknown name warns once (naming close matches); including a Theano optimizer labsym
    does not have warns once that it changes nothing.
    """
    selectable = _selectable()
    out: set[str] = set()
    for name in names:
        if name in THEANO_NAMES:
            out.update(THEANO_NAMES[name])
        elif name in selectable:  # a user rule's tag ('uncanonicalize', ...) wins over absence
            out.add(name)
        elif name in THEANO_ABSENT:
            if including:
                _warn_once(
                    name,
                    f"Theano's optimizer {name!r} has no labsym counterpart: "
                    f"including({name!r}) changes nothing",
                )
        else:
            known = selectable | set(THEANO_NAMES) | THEANO_ABSENT
            close = difflib.get_close_matches(name, sorted(known), n=3)
            hint = f"; close matches: {', '.join(repr(c) for c in close)}" if close else ""
            _warn_once(
                name,
                f"unknown optimizer name {name!r} in including/excluding is ignored: it names "
                f"no labsym phase, rule or Theano optimizer{hint}",
            )
    return frozenset(out)


class Rewriter:
    """Runs, in pipeline order, each phase with the rules `include` selects and `exclude` keeps.

    A rule runs in one of its phases when the phase, the rule's name, a tag or an optimizer set
    of it is included, and neither the phase nor any of the rule's names is excluded.
    """

    def __init__(
        self,
        include: Iterable[str],
        exclude: Iterable[str] = (),
        extra_rules: Sequence[Rule] = (),
        record_history: bool = False,
    ) -> None:
        self.include = frozenset(include)
        self.exclude = frozenset(exclude)
        unknown = (self.include | self.exclude) - known_names() - {r.name for r in extra_rules}
        if unknown:
            raise ValueError(
                f"unknown optimizer names {sorted(unknown)}; the pipeline is {', '.join(PHASES)}"
            )
        self.extra_rules = list(extra_rules)
        self.record_history = record_history

    def _selected(self, rule: Rule, phase: str) -> bool:
        tags = rule_tags(rule)
        if phase in self.exclude or tags & self.exclude:
            return False
        return phase in self.include or bool(tags & self.include)

    @property
    def phases(self) -> list[str]:
        """The phases that run, in pipeline order."""
        every = self._every_rule()
        return [
            phase
            for phase in PHASES
            if (phase == "merge" and self._merges())
            or any(phase in r.phases and self._selected(r, phase) for r in every)
        ]

    def _merges(self) -> bool:
        return "merge" not in self.exclude and bool(_MERGE_TAGS & self.include)

    def _every_rule(self) -> list[Rule]:
        return [*builtin_rules(), *self.extra_rules, *user_rules()]

    @property
    def rules(self) -> list[Rule]:
        """Built-in, extra and (registered now) user rules that run in at least one phase."""
        return [r for r in self._every_rule() if any(self._selected(r, p) for p in r.phases)]

    def rules_of(self, phase: str) -> list[Rule]:
        """The rules that run in `phase`."""
        return [r for r in self._every_rule() if phase in r.phases and self._selected(r, phase)]

    def __call__(self, fgraph: FunctionGraph) -> list[PhaseTiming]:
        history = History() if self.record_history else None
        timings = []
        for phase in PHASES:
            if phase == "merge":
                if self._merges():
                    timings.append(driver.timed(phase, driver.merge, fgraph, history))
                continue
            rules = self.rules_of(phase)
            if rules:
                driver.merge(fgraph, history)
                timings.append(
                    driver.timed(phase, driver.apply_to_fixed_point, fgraph, rules, phase, history)
                )
        if history is not None:
            fgraph.history = history
        fgraph.phase_timings = timings
        return timings


def rewriter_for(
    optimizer: Any, including: Iterable[str] = (), excluding: Iterable[str] = (), **kw: Any
) -> Rewriter:
    """The Rewriter for a Theano optimizer name ('fast_run', 'fast_compile', None, ...)."""
    name = "None" if optimizer is None else str(optimizer)
    if name not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}"
        )
    include, exclude = OPTIMIZERS[name]
    include = include | resolve_names(including, including=True)
    exclude = exclude | resolve_names(excluding, including=False)
    return Rewriter(include, exclude, **kw)
