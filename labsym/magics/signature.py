"""The `%%symfunc` header: `NAME(x: dmatrix, y: ivector[200], lr: fscalar = 0.1) -> outs [opts]`.

Pure parsing into frozen records (cached per header text); every problem is a UsageError that
names it. May import IPython, labsym.config and labsym.core.
"""

from __future__ import annotations

import ast
import difflib
import functools
import io
import keyword
import re
import shlex
import tokenize
from dataclasses import dataclass

from IPython.core.error import UsageError

from labsym.core.constructors import CONSTRUCTORS

# Theano's singular constructors (dmatrix, fvector, tensor3, ...); plurals make several at once
TYPE_NAMES = frozenset(name for name in CONSTRUCTORS if not name.endswith("s"))
SHOW_CHOICES = ("report", "graph", "debugprint", "none")
OPTIONS_HELP = (
    "--mode NAME, --optimizer NAME, --profile, --flag KEY=VALUE, "
    "--show graph|report|debugprint|none, --quiet"
)
_EXAMPLE = "e.g. %%symfunc f(x: dmatrix, lr: dscalar = 0.1) -> y"


@dataclass(frozen=True)
class Param:
    """One declared input: its name, type constructor, test-value shape and default source."""

    name: str
    type_name: str
    shape: tuple[int, ...] | None
    default: str | None


@dataclass(frozen=True)
class Options:
    """The options after the signature, validated for form (values are checked when used)."""

    mode: str | None = None
    optimizer: str | None = None
    profile: bool = False
    flags: tuple[tuple[str, str], ...] = ()
    show: str = "report"


@dataclass(frozen=True)
class Header:
    """A parsed `%%symfunc` first line."""

    name: str
    params: tuple[Param, ...]
    outputs: str
    multiple_outputs: bool
    options: Options
    output_names: tuple[str, ...] = ()  # outputs that are bare names (the body must bind them)

    @property
    def has_test_values(self) -> bool:
        """Whether any input declares a test-value shape (turns compute_test_value on)."""
        return any(p.shape is not None for p in self.params)


def _fail(problem: str) -> UsageError:
    return UsageError(f"%%symfunc: {problem}")


@functools.lru_cache(maxsize=512)
def parse_header(line: str) -> Header:
    """Parse the magic's line; raise UsageError naming the first problem found."""
    match = re.match(r"\s*([A-Za-z_]\w*)\s*\(", line)
    if match is None or keyword.iskeyword(match.group(1)):
        raise _fail(
            f"malformed signature {line.strip()!r}: expected NAME(args) -> outputs; {_EXAMPLE}"
        )
    close = _closing_paren(line, match.end() - 1)
    params = _parse_params(line[match.end() : close])
    arrow = re.match(r"\s*->", line[close + 1 :])
    if arrow is None:
        raise _fail(f"missing '-> outputs' after the parameters of {match.group(1)}; {_EXAMPLE}")
    rest = line[close + 1 + arrow.end() :]
    option_start = re.search(r"(?:^|\s)--(?=[A-Za-z])", rest)
    cut = option_start.start() if option_start else len(rest)
    outputs, options = rest[:cut].strip(), _parse_options(rest[cut:])
    if not outputs:
        raise _fail(f"no outputs after '->'; {_EXAMPLE}")
    try:
        tree = ast.parse(outputs, mode="eval")
    except SyntaxError as exc:
        raise _fail(f"malformed outputs {outputs!r}: {exc.msg}") from None
    multiple = isinstance(tree.body, ast.Tuple)
    parts = tree.body.elts if multiple else [tree.body]  # type: ignore[attr-defined]
    names = tuple(part.id for part in parts if isinstance(part, ast.Name))
    return Header(match.group(1), params, outputs, multiple, options, names)


def _closing_paren(line: str, open_at: int) -> int:
    """Index of the ')' matching the '(' at `open_at`, skipping strings and nested brackets."""
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line[open_at:]).readline):
            if tok.type != tokenize.OP:
                continue
            depth += tok.string in "([{"
            depth -= tok.string in ")]}"
            if depth == 0:
                return open_at + tok.start[1]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    raise _fail(f"unbalanced parentheses in the signature {line.strip()!r}")


def _parse_params(source: str) -> tuple[Param, ...]:
    stub = f"def _({source}):\n    pass\n"
    try:
        args = ast.parse(stub).body[0].args  # type: ignore[attr-defined]
    except SyntaxError as exc:
        raise _fail(f"malformed parameters ({source}): {exc.msg}") from None
    if args.posonlyargs or args.vararg or args.kwonlyargs or args.kwarg:
        raise _fail("parameters are NAME: type [= default]; '/', '*' and '**' are not supported")
    names = [arg.arg for arg in args.args]
    for name in names:
        if names.count(name) > 1:
            raise _fail(f"parameter {name!r} is declared twice")
    n_plain = len(args.args) - len(args.defaults)
    defaults = [None] * n_plain + [ast.get_source_segment(stub, d) for d in args.defaults]
    return tuple(_param(arg, default) for arg, default in zip(args.args, defaults, strict=True))


def _param(arg: ast.arg, default: str | None) -> Param:
    ann = arg.annotation
    if ann is None:
        raise _fail(f"parameter {arg.arg!r} needs a type, e.g. {arg.arg}: dmatrix")
    shape = None
    if isinstance(ann, ast.Subscript):
        shape = _shape(arg.arg, ann.slice)
        ann = ann.value
    if not isinstance(ann, ast.Name):
        raise _fail(
            f"the type of {arg.arg!r} must be a constructor name such as dmatrix, optionally "
            f"with a test-value shape such as dmatrix[3, 4]; got {ast.unparse(arg.annotation)!r}"
        )
    if ann.id not in TYPE_NAMES:
        close = difflib.get_close_matches(ann.id, sorted(TYPE_NAMES), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise _fail(
            f"unknown type name {ann.id!r} for parameter {arg.arg!r}; expected a labsym.tensor "
            f"constructor such as dscalar, fvector, imatrix, tensor3{hint}"
        )
    return Param(arg.arg, ann.id, shape, default)


def _shape(name: str, node: ast.expr) -> tuple[int, ...]:
    dims = node.elts if isinstance(node, ast.Tuple) else [node]
    shape = []
    for dim in dims:
        value = dim.value if isinstance(dim, ast.Constant) else None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _fail(
                f"the test-value shape of {name!r} must be non-negative integers, "
                f"e.g. [3, 4]; got [{ast.unparse(node)}]"
            )
        shape.append(value)
    return tuple(shape)


def _parse_options(text: str) -> Options:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise _fail(f"cannot read the options {text.strip()!r}: {exc}") from None
    found: dict[str, object] = {"flags": ()}
    quiet = False
    while words:
        word = words.pop(0)
        name, eq, inline = word.partition("=")
        if name in ("--profile", "--quiet"):
            if eq:
                raise _fail(f"{name} takes no value")
            found["profile"] = found.get("profile", False) or name == "--profile"
            quiet = quiet or name == "--quiet"
            continue
        if name not in ("--mode", "--optimizer", "--flag", "--show"):
            raise _fail(f"unknown option {word!r}; expected {OPTIONS_HELP}")
        if not eq and (not words or words[0].startswith("--")):
            raise _fail(f"{name} needs a value")
        value = inline if eq else words.pop(0)
        if name == "--flag":
            key, sep, flag_value = value.partition("=")
            if not sep or not key:
                raise _fail(f"--flag needs KEY=VALUE, got {value!r}")
            found["flags"] += ((key, flag_value),)  # type: ignore[operator]
        elif name == "--show" and value not in SHOW_CHOICES:
            raise _fail(f"--show {value!r} is not one of {', '.join(SHOW_CHOICES)}")
        else:
            found[name[2:]] = value
    if quiet:
        if found.get("show", "none") != "none":
            raise _fail(f"--quiet shows nothing; it contradicts --show {found['show']}")
        found["show"] = "none"
    return Options(**found)  # type: ignore[arg-type]
