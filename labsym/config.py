"""Configuration flags for labsym (Theano's ``theano.config``): defaults, rc files, env vars.

This module imports nothing from labsym, only the standard library.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import stat
import struct
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Config", "ConfigError", "UnknownFlagError", "config"]


class ConfigError(ValueError):
    """A flag was given a bad value, or a flag source could not be read."""


class UnknownFlagError(ConfigError, AttributeError):
    """A flag name that labsym does not know; also an AttributeError so getattr() works."""


_DEVICE_RE = re.compile(r"(cpu|cuda\d*|gpu\d*)")


def _to_bool(value: Any) -> bool:
    """Parse True/False, 1/0 and the strings true/false/1/0/yes/no (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1", "yes", "false", "0", "no"):
            return low in ("true", "1", "yes")
    raise ValueError(value)


def _to_device(value: Any) -> str:
    """Accept 'cpu', 'cuda', 'cudaN', 'gpu', 'gpuN' and keep the string as given."""
    if isinstance(value, str) and _DEVICE_RE.fullmatch(value.strip()):
        return value.strip()
    raise ValueError(value)


def _to_nonneg_int(value: Any) -> int:
    """Accept an int >= 0 (not a bool), or a string spelling one."""
    result = int(value.strip()) if isinstance(value, str) else value
    if type(result) is not int or result < 0:
        raise ValueError(value)
    return result


def _to_int(value: Any) -> int:
    """Accept an int (not a bool), or a string spelling one."""
    result = int(value.strip()) if isinstance(value, str) else value
    if type(result) is not int:
        raise ValueError(value)
    return result


def _to_float(value: Any) -> float:
    """Accept a real number (not a bool), or a string spelling one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(value)
    return float(value)


def _to_str(value: Any) -> str:
    """Accept any string."""
    if isinstance(value, str):
        return value
    raise ValueError(value)


@dataclass(frozen=True)
class _Flag:
    """One row of the flag table: name, default, allowed values or converter, doc."""

    name: str
    default: Any
    doc: str
    choices: tuple[str, ...] | None = None
    convert: Callable[[Any], Any] | None = None
    rule: str = ""
    # for a value asking for something labsym cannot do yet: what happens instead
    notice: Callable[[Any], str | None] | None = None

    def parse(self, value: Any) -> Any:
        """Return the validated value, or raise ConfigError naming flag, value and choices."""
        if self.choices is not None:
            text = value.strip() if isinstance(value, str) else value
            if text in self.choices:
                return text
            valid = ", ".join(repr(c) for c in self.choices)
        else:
            try:
                return self.convert(value)  # type: ignore[misc]
            except (TypeError, ValueError):
                valid = self.rule
        name = self.name.replace("__", ".")
        raise ConfigError(f"Bad value {value!r} for config flag {name!r}; valid: {valid}")


_BOOL = "True, False, 'true', 'false', '1', '0', 'yes', 'no'"
_ANY = "any string"
_NO_CUDA = "labsym's CUDA backend does not read this flag"


def _bool(name: str, default: bool, doc: str, **kw: Any) -> _Flag:
    return _Flag(name, default, doc, convert=_to_bool, rule=_BOOL, **kw)


def _text(name: str, default: str, doc: str, **kw: Any) -> _Flag:
    return _Flag(name, default, doc, convert=_to_str, rule=_ANY, **kw)


def _int(name: str, default: int, doc: str, **kw: Any) -> _Flag:
    return _Flag(name, default, doc, convert=_to_int, rule="an integer", **kw)


def _float(name: str, default: float, doc: str, **kw: Any) -> _Flag:
    return _Flag(name, default, doc, convert=_to_float, rule="a number", **kw)


def _when(test: Callable[[Any], bool], message: str) -> Callable[[Any], str | None]:
    """A notice: `message` (formatted with {value}) when `test(value)` holds."""
    return lambda value: message.format(value=value) if test(value) else None


_UNUSED = " (accepted for Theano programs; labsym does not use it)"

# fmt: off
_FLAGS: tuple[_Flag, ...] = (
    _Flag("floatX", "float64", "Default float dtype for tensors built from Python floats.",
          ("float64", "float32", "float16")),
    _Flag("device", "cpu", "Device to run on; settable at runtime (Theano forbade this).",
          convert=_to_device, rule="'cpu', 'cuda', 'cudaN', 'gpu', 'gpuN' (N an integer)"),
    _Flag("mode", "FAST_RUN", "Default compilation mode for function().",
          ("FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE", "NanGuardMode",
           "ProfileMode", "None", "o0")),
    _Flag("optimizer", "fast_run", "Default graph optimizer set.",
          ("fast_run", "fast_compile", "merge", "o0", "None", "unsafe", "o1", "o2", "o3", "o4",
           "stabilize", "fast_run_stable")),
    _Flag("linker", "auto", "Default linker that turns a graph into a callable.",
          ("auto", "py", "c", "c|py", "c|py_nogc", "cvm", "cvm_nogc", "vm", "vm_nogc")),
    _Flag("compute_test_value", "off", "Evaluate test values eagerly while building graphs.",
          ("off", "ignore", "warn", "raise", "pdb")),
    _bool("print_test_value", False, "Show test values in printed graphs and errors."),
    _Flag("exception_verbosity", "low", "How much graph detail runtime errors include.",
          ("low", "high")),
    _Flag("on_unused_input", "raise", "What function() does with inputs the graph ignores.",
          ("raise", "warn", "ignore")),
    _bool("allow_gc", True, "Free intermediate results during a call to save memory."),
    _Flag("warn_float64", "ignore", "What to do when a float64 variable is created.",
          ("ignore", "warn", "raise", "pdb")),
    _bool("profile", False, "Collect per-op timing profiles for compiled functions."),
    _Flag("deterministic", "default", "Prefer deterministic (possibly slower) implementations.",
          ("default", "more")),
    _text("cxx", "gcc", "C compiler command used by C linkers ('' disables C code)."),
    _bool("openmp", False, "Allow OpenMP parallelism in generated C code."),
    _int("openmp_elemwise_minsize", 200000, "Smallest elementwise size run with OpenMP."),
    # The real default of base_compiledir (<cache>/labsym) is filled in by Config.__init__;
    # compiledir '' means base_compiledir/<compiledir_format filled in>.
    _text("base_compiledir", "", "Directory under which compiledir is derived (private, 0700)."),
    _text("compiledir_format", "compiledir_%(short_platform)s-%(processor)s-"
          "%(python_version)s-%(python_bitwidth)s",
          "Name of compiledir inside base_compiledir; keys: " + ", ".join(
              ("platform", "short_platform", "processor", "python_version", "python_bitwidth",
               "python_int_bitwidth", "numpy_version", "theano_version", "hostname",
               "device"))),
    _text("compiledir", "", "Directory that caches compiled modules (private, 0700)."),
    _Flag("traceback__limit", 8, "Stack depth recorded where each graph node is created.",
          convert=_to_nonneg_int, rule="an integer >= 0"),
    _int("traceback__compile_limit", 0, "Stack depth kept for nodes made by rewrites." + _UNUSED),
    _text("optimizer_excluding", "", "Names (':'-separated) the default mode excludes."),
    _text("optimizer_including", "", "Names (':'-separated) the default mode includes."),
    _text("optimizer_requiring", "", "Names (':'-separated) the default mode requires.",
          notice=_when(bool, "labsym's modes have no requiring(): "
                       "optimizer_requiring={value!r} changes nothing")),
    _bool("optimizer_verbose", False, "Print each rewrite applied." + _UNUSED),
    _Flag("on_opt_error", "warn", "What to do when a rewrite fails." + _UNUSED,
          ("warn", "raise", "pdb", "ignore")),
    _Flag("on_shape_error", "warn", "What to do when shape inference fails." + _UNUSED,
          ("warn", "raise")),
    _Flag("cast_policy", "custom", "How dtypes combine in arithmetic.", ("custom", "numpy+floatX"),
          notice=_when(lambda v: v != "custom", "labsym implements cast_policy='custom' only: "
                       "cast_policy={value!r} changes nothing")),
    _Flag("int_division", "int", "What x / y does for integers in Python 2." + _UNUSED,
          ("int", "raise", "floatX")),
    _Flag("compute_test_value_opt", "off", "compute_test_value while rewriting." + _UNUSED,
          ("off", "ignore", "warn", "raise", "pdb")),
    _bool("pickle_test_value", True, "Pickle test values with variables." + _UNUSED),
    _bool("unpickle_function", True, "Unpickle compiled functions." + _UNUSED),
    _bool("reoptimize_unpickled_function", False, "Rewrite unpickled graphs again." + _UNUSED),
    _bool("check_input", True, "Ops check their inputs in C code." + _UNUSED),
    _bool("nocleanup", False, "Keep temporary build files." + _UNUSED),
    _bool("cache_optimizations", False, "Cache rewritten graphs." + _UNUSED),
    _bool("print_global_stats", False, "Print global statistics at exit." + _UNUSED),
    _bool("profile_optimizer", False, "Profile the rewrites too." + _UNUSED),
    _bool("profile_memory", False, "Profile memory too." + _UNUSED),
    _Flag("cycle_detection", "regular", "How inplace cycles are detected." + _UNUSED,
          ("regular", "fast")),
    _Flag("check_stack_trace", "off", "Check rewrites keep stack traces." + _UNUSED,
          ("off", "log", "warn", "raise")),
    _Flag("vm__lazy", "None", "Evaluate ifelse branches lazily." + _UNUSED,
          ("None", "True", "False")),
    # devices and GPU libraries
    _bool("force_device", False, "Fail instead of falling back to the CPU." + _UNUSED),
    _text("init_gpu_device", "", "GPU to initialize without using it by default.",
          notice=_when(bool, _NO_CUDA + ": init_gpu_device={value!r} changes nothing")),
    _text("contexts", "", "Named GPU contexts (name->dev;...).",
          notice=_when(bool, _NO_CUDA + ": contexts={value!r} changes nothing")),
    _bool("print_active_device", True, "Print the active device when it is initialized."),
    _Flag("assert_no_cpu_op", "ignore", "Check that no op runs on the CPU." + _UNUSED,
          ("ignore", "warn", "raise", "pdb")),
    _bool("gpuarray__sync", False, "Synchronize after each GPU op." + _UNUSED),
    _float("gpuarray__preallocate", 0.0, "GPU memory to preallocate (fraction or MB).",
           notice=_when(bool, _NO_CUDA + ": gpuarray.preallocate={value!r} changes nothing")),
    _Flag("gpuarray__sched", "default", "GPU scheduling policy." + _UNUSED,
          ("default", "multi", "single")),
    _bool("gpuarray__single_stream", True, "Use one GPU stream." + _UNUSED),
    _text("gpuarray__cache_path", "", "Cache of compiled GPU kernels." + _UNUSED),
    _text("cuda__root", "", "CUDA installation directory." + _UNUSED),
    _text("cuda__include_path", "", "CUDA include directory." + _UNUSED),
    _bool("pycuda__init", False, "Initialize PyCUDA at import." + _UNUSED),
    _float("lib__cnmem", 0.0, "GPU memory for the CNMeM pool (fraction or MB).",
           notice=_when(bool, _NO_CUDA + ": lib.cnmem={value!r} changes nothing")),
    _bool("lib__amdlibm", False, "Link AMD's libm into C code.",
          notice=_when(bool, "labsym's C code uses glibc's libm and libmvec: "
                       "lib.amdlibm=True changes nothing")),
    _text("nvcc__flags", "", "Extra nvcc flags.",
          notice=_when(bool, _NO_CUDA + ": nvcc.flags={value!r} changes nothing")),
    _text("nvcc__compiler_bindir", "", "Host compiler directory for nvcc.",
          notice=_when(bool, _NO_CUDA + ": nvcc.compiler_bindir={value!r} changes nothing")),
    _bool("nvcc__fastmath", False, "Compile CUDA with fast math.",
          notice=_when(bool, _NO_CUDA + ": nvcc.fastmath=True changes nothing")),
    _Flag("nvcc__cudafe", "heuristic", "When nvcc runs cudafe." + _UNUSED,
          ("heuristic", "always", "never")),
    _Flag("dnn__enabled", "auto", "Use cuDNN.", ("auto", "True", "False", "no_check"),
          notice=_when(lambda v: v == "True", _NO_CUDA + ": dnn.enabled=True changes nothing")),
    _text("dnn__base_path", "", "cuDNN installation directory." + _UNUSED),
    _text("dnn__include_path", "", "cuDNN include directory." + _UNUSED),
    _text("dnn__library_path", "", "cuDNN library directory." + _UNUSED),
    _text("dnn__bin_path", "", "cuDNN binary directory." + _UNUSED),
    _text("dnn__conv__algo_fwd", "small", "cuDNN forward convolution algorithm." + _UNUSED),
    _text("dnn__conv__algo_bwd_data", "none", "cuDNN gradInput algorithm." + _UNUSED),
    _text("dnn__conv__algo_bwd_filter", "none", "cuDNN gradWeight algorithm." + _UNUSED),
    _text("dnn__conv__precision", "as_input_f32", "cuDNN convolution precision." + _UNUSED),
    _text("dnn__conv__workmem", "", "Deprecated cuDNN workspace flag." + _UNUSED),
    _text("dnn__conv__workmem_bwd", "", "Deprecated cuDNN workspace flag." + _UNUSED),
    _bool("magma__enabled", False, "Use MAGMA for GPU linear algebra.",
          notice=_when(bool, _NO_CUDA + ": magma.enabled=True changes nothing")),
    _text("magma__include_path", "", "MAGMA include directory." + _UNUSED),
    _text("magma__library_path", "", "MAGMA library directory." + _UNUSED),
    _text("ctc__root", "", "warp-ctc installation directory." + _UNUSED),
    _bool("gpuelemwise__sync", True, "Synchronize after GPU elementwise kernels." + _UNUSED),
    # C compilation
    _text("gcc__cxxflags", "", "Extra flags for the C compiler (after labsym's defaults)."),
    _text("blas__ldflags", "", "Linker flags of a BLAS for C code.",
          notice=_when(bool, "labsym calls the BLAS that NumPy/SciPy ship: "
                       "blas.ldflags={value!r} is not used")),
    _Flag("blas__source", "auto", "The BLAS the C kernels call: 'auto' NumPy's own OpenBLAS "
          "when found, else SciPy's; 'scipy' always SciPy's (scipy.linalg.cython_blas).",
          ("auto", "scipy")),
    _bool("blas__check_openmp", True, "Check the BLAS's OpenMP setting." + _UNUSED),
    _bool("cmodule__tiered", True, "linker=cvm/auto (FAST_RUN): answer on the NumPy engine "
          "while the C module builds in the background; False builds it in function()."),
    _bool("cmodule__warn_no_version", False, "Warn about C code without a version." + _UNUSED),
    _bool("cmodule__remove_gxx_opt", False, "Build C code without -O3." + _UNUSED),
    _bool("cmodule__compilation_warning", False, "Print C compiler warnings." + _UNUSED),
    _bool("cmodule__preload_cache", False, "Load the C cache at import." + _UNUSED),
    _int("cmodule__age_thresh_use", 60 * 60 * 24 * 24, "Seconds before an unused C module is "
         "removed." + _UNUSED),
    _bool("cmodule__debug", False, "Build C code in debug mode." + _UNUSED),
    _int("compile__wait", 5, "Seconds between tries for the compile lock." + _UNUSED),
    _int("compile__timeout", 120, "Seconds before a compile lock is taken over." + _UNUSED),
    # rewrites and checking modes
    _bool("tensor__local_elemwise_fusion", True, "Fuse elementwise ops in FAST_RUN."),
    _bool("gpu__local_elemwise_fusion", True, "Fuse GPU elementwise ops." + _UNUSED),
    _int("tensor__cmp_sloppy", 0, "Relax float comparisons in tests." + _UNUSED),
    _int("tensor__insert_inplace_optimizer_validate_nb", -1, "Inplace validation rate."
         + _UNUSED),
    _bool("experimental__local_alloc_elemwise", True, "Deprecated rewrite flag." + _UNUSED),
    _bool("experimental__local_alloc_elemwise_assert", True, "Deprecated rewrite flag."
          + _UNUSED),
    _bool("experimental__unpickle_gpu_on_cpu", False, "Unpickle GPU values on the CPU."
          + _UNUSED),
    _float("optdb__position_cutoff", float("inf"), "Skip rewrites after this position." + _UNUSED),
    _float("optdb__max_use_ratio", 8.0, "Rewrite budget per node." + _UNUSED),
    _int("metaopt__verbose", 0, "Meta-optimizer verbosity." + _UNUSED),
    _text("metaopt__optimizer_excluding", "", "Meta-optimizer exclusions." + _UNUSED),
    _text("metaopt__optimizer_including", "", "Meta-optimizer inclusions." + _UNUSED),
    _bool("scan__allow_gc", False, "Free scan's inner buffers between steps." + _UNUSED),
    _bool("scan__allow_output_prealloc", True, "Preallocate scan outputs." + _UNUSED),
    _bool("scan__debug", False, "Print scan debugging output." + _UNUSED),
    _bool("conv__assert_shape", False, "Check convolution shapes at run time." + _UNUSED),
    _int("DebugMode__patience", 10, "How many times DebugMode rewrites a graph to check that "
         "the rewrites are deterministic (StochasticOrder)."),
    _bool("DebugMode__check_c", True, "DebugMode compares C kernels with perform (needs cxx)."),
    _bool("DebugMode__check_py", True, "DebugMode runs perform (False: C alone where it exists)."),
    _bool("DebugMode__check_finite", True, "DebugMode rejects NaN/Inf float outputs."),
    _int("DebugMode__check_strides", 0, "DebugMode compares perform's and C's output strides: "
         "0 ignore, 1 warn, 2 raise."),
    _bool("DebugMode__warn_input_not_reused", True, "DebugMode warns when an inplace op did "
          "not reuse its input."),
    _text("DebugMode__check_preallocated_output", "", "Preallocated output checks." + _UNUSED),
    _int("DebugMode__check_preallocated_output_ndim", 4, "Rank of those checks." + _UNUSED),
    _bool("NanGuardMode__nan_is_error", True, "NanGuardMode default for NaN." + _UNUSED),
    _bool("NanGuardMode__inf_is_error", True, "NanGuardMode default for Inf." + _UNUSED),
    _bool("NanGuardMode__big_is_error", True, "NanGuardMode default for huge values." + _UNUSED),
    _Flag("NanGuardMode__action", "raise", "What NanGuardMode does on a bad value." + _UNUSED,
          ("raise", "warn", "pdb")),
    _bool("profiling__time_thunks", True, "Time each node in profiles." + _UNUSED),
    _int("profiling__n_apply", 20, "Nodes listed in profiles." + _UNUSED),
    _int("profiling__n_ops", 20, "Ops listed in profiles." + _UNUSED),
    _int("profiling__output_line_width", 512, "Width of profile lines." + _UNUSED),
    _int("profiling__min_memory_size", 1024, "Smallest memory size listed in profiles."
         + _UNUSED),
    _bool("profiling__min_peak_memory", False, "Profile the minimum peak memory." + _UNUSED),
    _text("profiling__destination", "stderr", "Where profiles are printed." + _UNUSED),
    _bool("profiling__debugprint", False, "Debugprint profiled functions." + _UNUSED),
    _bool("profiling__ignore_first_call", False, "Leave the first call out of profiles."
          + _UNUSED),
    *(_Flag(f"numpy__seterr_{kind}", "ignore" if kind == "all" else "None",
            f"NumPy's floating-point error handling ({kind})." + _UNUSED,
            ("ignore", "warn", "raise", "call", "print", "log", "None"))
      for kind in ("all", "divide", "over", "under", "invalid")),
    _text("unittests__rseed", "666", "Seed of Theano's unit tests." + _UNUSED),
    # Theano's warnings about bugs of its old versions: labsym has none of those bugs
    _Flag("warn__ignore_bug_before", "0.9", "Theano version before which old bugs are not "
          "warned about." + _UNUSED,
          ("0.9", "None", "all", "0.3", "0.4", "0.4.1", "0.5", "0.6", "0.7", "0.8", "0.8.1",
           "0.8.2", "0.10", "1.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.0.5")),
    *(_bool(f"warn__{bug}", default, "Warn about a bug of an old Theano version." + _UNUSED)
      for bug, default in (
          ("argmax_pushdown_bug", False), ("gpusum_01_011_0111_bug", False),
          ("sum_sum_bug", False), ("sum_div_dimshuffle_bug", False),
          ("subtensor_merge_bug", False), ("gpu_set_subtensor1", False), ("vm_gc_bug", False),
          ("identify_1pexp_bug", False), ("signal_conv2d_interface", False),
          ("reduce_join", False), ("inc_set_subtensor1", False), ("round", False),
          ("inc_subtensor1_opt", True))),
)
# fmt: on
_BY_NAME: dict[str, _Flag] = {f.name: f for f in _FLAGS}
# group prefixes ('warn', 'dnn', 'dnn__conv', ...) for attribute access like config.warn.round
_GROUPS: frozenset[str] = frozenset(
    "__".join(parts[:k])
    for parts in (n.split("__") for n in _BY_NAME)
    for k in range(1, len(parts))
)


def _dotted(name: str) -> str:
    """Theano's spelling of a flag name: 'traceback__limit' -> 'traceback.limit'."""
    return name.replace("__", ".")


def _unknown(name: str, where: str = "") -> UnknownFlagError:
    """Build the error for an unknown flag: close matches and the full list of flags."""
    import difflib  # only for this message: `import labsym` does not need it

    dotted = {_dotted(n): n for n in _BY_NAME}
    name = _dotted(name)
    close = [n for n in dotted if n.lower() == name.lower()]
    close += [n for n in difflib.get_close_matches(name, dotted, n=3) if n not in close]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    src = f" (in {where})" if where else ""
    msg = f"Unknown config flag {name!r}{src}.{hint} Known flags: {', '.join(dotted)}"
    return UnknownFlagError(msg)


def _parse(name: str, value: Any) -> Any:
    """Validate `value` for flag `name`, raising UnknownFlagError or ConfigError."""
    if name not in _BY_NAME:
        raise _unknown(name)
    return _BY_NAME[name].parse(value)


# labsym's own frames, and the import machinery's while `import labsym` reads THEANO_FLAGS
_INTERNAL = (os.path.dirname(os.path.abspath(__file__)), "<frozen importlib")


def user_stacklevel() -> int:
    """The warnings.warn stacklevel, for its caller, of the innermost frame outside labsym.

    A warning raised deep in labsym then names the user's line, whatever the call depth.
    """
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    return level


_NOTICED: set[str] = set()


def _notice(name: str, value: Any) -> None:
    """Warn once per flag when a value asks for a capability labsym does not have yet."""
    flag = _BY_NAME[name]
    message = flag.notice(value) if flag.notice is not None else None
    if message and name not in _NOTICED:
        _NOTICED.add(name)
        warnings.warn(message, stacklevel=user_stacklevel())


def _canon(name: str) -> str:
    """Map Theano's dotted flag names ('traceback.limit') to attribute names."""
    return name.strip().replace(".", "__")


def _split_flags(text: str, where: str) -> Iterator[tuple[str, str]]:
    """Yield (name, value) from a 'name=value, name2=value2' flag string."""
    for item in filter(None, (part.strip() for part in text.split(","))):
        if "=" not in item:
            raise ConfigError(f"Malformed entry {item!r} in {where}: expected name=value")
        key, value = item.split("=", 1)
        yield _canon(key), value.strip()


def _short_platform() -> str:
    """platform.platform() without the kernel's patch numbers (Theano's short_platform)."""
    release, full = platform.release(), platform.platform()
    parts = release.split("-")
    kernel = parts[0].split(".")
    if len(parts) < 2 or len(kernel) <= 2:
        return full
    rest = parts[1].split(".")
    while rest and rest[0].isdigit():
        rest.pop(0)
    return full.replace(release, "-".join([".".join(kernel[:2]), ".".join(rest), *parts[2:]]))


def _version(package: str) -> str:
    import importlib.metadata  # 20 ms: only when compiledir is derived, not at `import labsym`

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _compiledir_keys(device: str) -> dict[str, str]:
    """The values compiledir_format may name (Theano's keys; theano_version is labsym's)."""
    import socket  # only when compiledir is derived, not at `import labsym`

    return {
        "platform": platform.platform(),
        "short_platform": _short_platform(),
        "processor": platform.processor(),
        "python_version": platform.python_version(),
        "python_bitwidth": str(struct.calcsize("P") * 8),
        "python_int_bitwidth": str(struct.calcsize("l") * 8),
        "numpy_version": _version("numpy"),
        "theano_version": _version("labsym"),
        "hostname": socket.gethostname(),
        "device": device,
    }


class _Group:
    """A dotted group of flags (config.warn, config.dnn.conv): attribute access to its flags."""

    def __init__(self, cfg: Config, prefix: str) -> None:
        object.__setattr__(self, "_cfg", cfg)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._cfg, f"{self._prefix}__{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._cfg, f"{self._prefix}__{name}", value)

    def __dir__(self) -> list[str]:
        head = self._prefix + "__"
        return sorted({n[len(head) :].split("__")[0] for n in _BY_NAME if n.startswith(head)})

    def __repr__(self) -> str:
        return f"<config group {_dotted(self._prefix)}: {', '.join(dir(self))}>"


class Config:
    """Theano-style flag holder: validated attributes with layered sources.

    Values come from defaults < rc files < THEANO_FLAGS < LABSYM_FLAGS < runtime assignment.
    Dotted Theano names work as attributes (`config.warn.round`) and in every source.
    base_compiledir defaults to $XDG_CACHE_HOME/labsym (~/.cache/labsym when that is unset);
    compiledir, unless set, is base_compiledir/<compiledir_format filled in>, and
    `ensure_compiledir()` creates it readable by its owner only (0700).
    """

    def __init__(self, home: str | None = None, environ: Mapping[str, str] | None = None) -> None:
        """Build a config holding only defaults; `home` and `environ` root base_compiledir."""
        home = os.path.expanduser("~") if home is None else home
        env = os.environ if environ is None else environ
        values = {f.name: f.default for f in _FLAGS}
        cache = env.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
        values["base_compiledir"] = os.path.join(cache, "labsym")
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_sources", {})  # flag -> where its value was set from

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, home: str | None = None
    ) -> Config:
        """Build a config from rc files and env vars; arguments allow isolated tests."""
        env = os.environ if environ is None else environ
        home = os.path.expanduser("~") if home is None else home
        cfg = cls(home=home, environ=env)
        # Legacy Theano sources only warn about unknown flags; labsym's own sources raise.
        for rc, var, strict in ((".theanorc", "THEANORC", False), (".labsymrc", "LABSYMRC", True)):
            paths = [os.path.join(home, rc), *env.get(var, "").split(os.pathsep)]
            for path in filter(None, paths):
                cfg._load_rc(path, strict)
        for var, strict in (("THEANO_FLAGS", False), ("LABSYM_FLAGS", True)):
            for name, value in _split_flags(env.get(var, ""), var):
                cfg._set_from(name, value, var, strict)
        return cfg

    def _set_from(self, name: str, value: str, where: str, strict: bool) -> None:
        """Set one flag read from a source; unknown names raise if strict, else warn."""
        if name not in _BY_NAME:
            if strict:
                raise _unknown(name, where)
            warnings.warn(
                f"Ignoring unknown config flag {_dotted(name)!r} in {where}", stacklevel=3
            )
            return
        try:
            self._values[name] = _BY_NAME[name].parse(value)
        except ConfigError as err:
            raise ConfigError(f"{err} (in {where})") from None
        self._sources[name] = where
        _notice(name, self._values[name])

    def _load_rc(self, path: str, strict: bool) -> None:
        """Apply an INI rc file: [global] keys are flags, [sec] key k is flag sec__k."""
        if not os.path.isfile(path):
            return
        import configparser  # only when an rc file exists: `import labsym` does not need it

        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as err:
            raise ConfigError(f"Cannot parse config file {path!r}: {err}") from None
        for section in parser.sections():
            for key, value in parser.items(section):
                name = _canon(key) if section == "global" else f"{_canon(section)}__{key}"
                self._set_from(name, value, path, strict)

    def __getattr__(self, name: str) -> Any:
        """Return a flag value or a flag group; unknown names raise UnknownFlagError."""
        values = self.__dict__.get("_values", {})
        if name in values:
            if name in ("base_compiledir", "compiledir"):
                return self._directory(name)
            return values[name]
        if name in _GROUPS:
            return _Group(self, name)
        raise AttributeError(name) if name.startswith("_") else _unknown(name)

    def _directory(self, name: str) -> str:
        """base_compiledir or compiledir, '~' expanded; compiledir derived unless set."""
        values = self._values
        if name == "compiledir" and not values["compiledir"]:
            try:
                filled = values["compiledir_format"] % _compiledir_keys(values["device"])
            except (KeyError, ValueError, TypeError) as err:
                raise ConfigError(
                    f"Bad compiledir_format {values['compiledir_format']!r}: {err!r}; "
                    f"keys: {', '.join(_compiledir_keys('cpu'))}"
                ) from None
            return os.path.join(
                self._directory("base_compiledir"), re.sub(r"[()\s,]+", "_", filled)
            )
        return os.path.expanduser(values[name])

    def ensure_compiledir(self) -> str:
        """Create compiledir readable and writable by its owner only (0700); return its path.

        An existing directory must belong to this user and not be writable by others: code
        loaded from it runs in this process.
        """
        path = self.compiledir
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.stat(path)
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise ConfigError(f"compiledir {path!r} belongs to another user; set compiledir")
        if info.st_mode & 0o022:
            raise ConfigError(
                f"compiledir {path!r} is writable by other users (mode "
                f"{stat.S_IMODE(info.st_mode):o}); make it private (chmod 700) or set compiledir"
            )
        return path

    def __setattr__(self, name: str, value: Any) -> None:
        """Validate and set a flag; bad values raise ConfigError and change nothing."""
        name = _canon(name)
        self._values[name] = _parse(name, value)
        self._sources[name] = "assignment"
        _notice(name, self._values[name])

    def __dir__(self) -> list[str]:
        """Include flag and group names so tab completion lists them."""
        top = {n for n in _BY_NAME if "__" not in n} | {g for g in _GROUPS if "__" not in g}
        return sorted(set(super().__dir__()) | top)

    @classmethod
    def flag_names(cls) -> tuple[str, ...]:
        """Return all flag names, in table order, as Theano spells them ('traceback.limit')."""
        return tuple(_dotted(n) for n in _BY_NAME)

    @classmethod
    def describe(cls, name: str) -> str:
        """Return the one-line doc of a flag; accepts dotted names like 'traceback.limit'."""
        if _canon(name) not in _BY_NAME:
            raise _unknown(_canon(name))
        return _BY_NAME[_canon(name)].doc

    def change_flags(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> _ChangeFlags:
        """Return a context manager/decorator that sets flags and restores them on exit.

        Validation happens on entry and is all-or-nothing, so a bad value changes nothing.
        """
        updates = {_canon(k): v for k, v in {**(mapping or {}), **kwargs}.items()}
        return _ChangeFlags(self, updates)

    def source_of(self, name: str) -> str:
        """Where a flag's value came from: 'default', an rc file path, 'THEANO_FLAGS',
        'LABSYM_FLAGS', 'assignment' or 'change_flags'."""
        name = _canon(name)
        if name not in _BY_NAME:
            raise _unknown(name)
        return self._sources.get(name, "default")

    def __str__(self) -> str:
        """Return every flag as a 'name = value' line, like print(theano.config)."""
        return "\n".join(f"{_dotted(name)} = {getattr(self, name)!r}" for name in self._values)

    __repr__ = __str__


class _ChangeFlags:
    """Context manager and decorator created by Config.change_flags; re-entrant."""

    def __init__(self, cfg: Config, updates: dict[str, Any]) -> None:
        self._cfg = cfg
        self._updates = updates
        self._saved: list[dict[str, Any]] = []

    def __enter__(self) -> Config:
        values = self._cfg._values
        parsed = {name: _parse(name, value) for name, value in self._updates.items()}
        sources = self._cfg._sources
        self._saved.append(({name: values[name] for name in parsed}, dict(sources)))
        values.update(parsed)
        sources.update(dict.fromkeys(parsed, "change_flags"))
        for name, value in parsed.items():
            _notice(name, value)
        return self._cfg

    def __exit__(self, *exc: object) -> None:
        saved, sources = self._saved.pop()
        self._cfg._values.update(saved)
        self._cfg._sources.clear()
        self._cfg._sources.update(sources)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate `func` so each call runs with the flags changed."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper


config: Config = Config.from_environment()
