"""Tests for labsym.config: defaults, sources and their priority, validation, change_flags."""

import importlib
import os
import platform
import stat
import struct
import warnings

import pytest

from labsym.config import Config, ConfigError, UnknownFlagError, config

config_module = importlib.import_module("labsym.config")  # labsym.config is also the object


@pytest.fixture(autouse=True)
def fresh_notices():
    """Capability notices are said once per process; each test starts as a new process."""
    saved = set(config_module._NOTICED)
    config_module._NOTICED.clear()
    yield
    config_module._NOTICED.clear()
    config_module._NOTICED.update(saved)


def make(home, **env):
    """Build an isolated Config from a fake environment and home directory."""
    return Config.from_environment(environ=env, home=str(home))


def test_defaults(tmp_path):
    cfg = make(tmp_path)
    assert cfg.floatX == "float64"
    assert cfg.device == "cpu"
    assert cfg.mode == "FAST_RUN"
    assert cfg.optimizer == "fast_run"
    assert cfg.linker == "auto"
    assert cfg.compute_test_value == "off"
    assert cfg.exception_verbosity == "low"
    assert cfg.on_unused_input == "raise"
    assert cfg.allow_gc is True
    assert cfg.warn_float64 == "ignore"
    assert cfg.profile is False
    assert cfg.print_test_value is False
    assert cfg.traceback__limit == 8
    assert cfg.deterministic == "default"
    assert cfg.cxx == "gcc"
    assert cfg.openmp is False
    base = os.path.join(str(tmp_path), ".cache", "labsym")
    assert cfg.base_compiledir == base
    assert cfg.compiledir.startswith(os.path.join(base, "compiledir_"))


def test_singleton_and_plain_constructor():
    assert isinstance(config, Config)
    assert Config(environ={}).base_compiledir == os.path.expanduser("~/.cache/labsym")


def test_flag_names_describe_and_str(tmp_path):
    names = Config.flag_names()
    assert "floatX" in names and "traceback.limit" in names and "lib.cnmem" in names
    assert len(names) == len(set(names))
    assert "float dtype" in Config.describe("floatX")
    assert Config.describe("traceback.limit") == Config.describe("traceback__limit")
    with pytest.raises(UnknownFlagError):
        Config.describe("nope")
    text = str(make(tmp_path))
    assert "floatX = 'float64'" in text
    assert "traceback.limit = 8" in text and "lib.amdlibm = False" in text
    assert len(text.splitlines()) == len(names)
    assert "floatX" in dir(make(tmp_path))


def test_env_flags_parsing(tmp_path):
    cfg = make(tmp_path, THEANO_FLAGS="floatX=float32,device=cuda0, mode=FAST_COMPILE ,")
    assert (cfg.floatX, cfg.device, cfg.mode) == ("float32", "cuda0", "FAST_COMPILE")
    cfg = make(tmp_path, LABSYM_FLAGS="traceback.limit=3,allow_gc=no,profile=1")
    assert cfg.traceback__limit == 3
    assert cfg.allow_gc is False
    assert cfg.profile is True


def test_labsym_flags_override_theano_flags(tmp_path):
    cfg = make(
        tmp_path,
        THEANO_FLAGS="floatX=float32,optimizer=merge",
        LABSYM_FLAGS="floatX=float16",
    )
    assert cfg.floatX == "float16"
    assert cfg.optimizer == "merge"


def test_malformed_flag_string(tmp_path):
    with pytest.raises(ConfigError, match="name=value"):
        make(tmp_path, LABSYM_FLAGS="floatX")


def test_rc_files(tmp_path):
    (tmp_path / ".theanorc").write_text(
        "[global]\nfloatX = float32\ndevice = gpu\n\n[traceback]\nlimit = 2\n"
    )
    cfg = make(tmp_path)
    assert (cfg.floatX, cfg.device, cfg.traceback__limit) == ("float32", "gpu", 2)

    (tmp_path / ".labsymrc").write_text("[global]\nfloatX = float16\n")
    cfg = make(tmp_path)
    assert cfg.floatX == "float16"
    assert cfg.device == "gpu"

    # Env flags beat rc files.
    cfg = make(tmp_path, THEANO_FLAGS="floatX=float64")
    assert cfg.floatX == "float64"


def test_rc_env_var_files_labsymrc_over_theanorc(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    t1 = tmp_path / "t1.rc"
    t1.write_text("[global]\nmode = DebugMode\nlinker = py\n")
    t2 = tmp_path / "t2.rc"
    t2.write_text("[global]\nlinker = cvm\n")
    lab = tmp_path / "lab.rc"
    lab.write_text("[global]\nmode = NanGuardMode\n[traceback]\nlimit = 0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # linker=cvm is Theano's default: no notice
        cfg = make(home, THEANORC=os.pathsep.join([str(t1), str(t2)]), LABSYMRC=str(lab))
    assert cfg.mode == "NanGuardMode"
    assert cfg.linker == "cvm"
    assert cfg.traceback__limit == 0


def test_rc_unknown_keys(tmp_path):
    (tmp_path / ".theanorc").write_text("[lib]\nnot_a_flag = 0.5\n")
    with pytest.warns(UserWarning, match="'lib.not_a_flag'"):
        make(tmp_path)
    (tmp_path / ".labsymrc").write_text("[global]\nfloatx = float32\n")
    with pytest.raises(UnknownFlagError, match="floatX"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(tmp_path)


def test_rc_bad_value_names_file(tmp_path):
    (tmp_path / ".theanorc").write_text("[global]\nfloatX = float8\n")
    with pytest.raises(ConfigError, match=r"float8.*\.theanorc"):
        make(tmp_path)


def test_runtime_set(tmp_path):
    cfg = make(tmp_path, LABSYM_FLAGS="floatX=float16")
    cfg.floatX = "float32"
    cfg.device = "cuda"
    cfg.traceback__limit = "5"
    with pytest.warns(UserWarning, match="lib.amdlibm=True changes nothing"):
        cfg.lib__amdlibm = "yes"
    assert (cfg.floatX, cfg.device, cfg.traceback__limit, cfg.lib__amdlibm) == (
        "float32",
        "cuda",
        5,
        True,
    )


def test_bad_value_message(tmp_path):
    cfg = make(tmp_path)
    with pytest.raises(ConfigError) as info:
        cfg.floatX = "float8"
    msg = str(info.value)
    assert "floatX" in msg and "float8" in msg
    for choice in ("float64", "float32", "float16"):
        assert choice in msg
    assert cfg.floatX == "float64"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("device", "tpu"),
        ("device", "cuda:0"),
        ("traceback__limit", -1),
        ("traceback__limit", "x"),
        ("traceback__limit", True),
        ("allow_gc", "maybe"),
        ("allow_gc", 2),
        ("cxx", 3),
        ("mode", "fast_run"),
        ("linker", "numba"),
    ],
)
def test_bad_values_rejected(tmp_path, name, value):
    cfg = make(tmp_path)
    before = getattr(cfg, name)
    with pytest.raises(ConfigError, match=name.replace("__", ".")):
        setattr(cfg, name, value)
    assert getattr(cfg, name) == before


def test_bad_value_in_env_raises_for_both_vars(tmp_path):
    with pytest.raises(ConfigError, match="THEANO_FLAGS"):
        make(tmp_path, THEANO_FLAGS="floatX=float8")
    with pytest.raises(ConfigError, match="LABSYM_FLAGS"):
        make(tmp_path, LABSYM_FLAGS="device=tpu")


def test_unknown_flag_get_and_set(tmp_path):
    cfg = make(tmp_path)
    with pytest.raises(UnknownFlagError) as info:
        cfg.floatx  # noqa: B018
    msg = str(info.value)
    assert "'floatX'" in msg.split("Known flags")[0]
    assert "traceback.limit" in msg
    assert isinstance(info.value, AttributeError)
    assert getattr(cfg, "floatx", "fallback") == "fallback"
    with pytest.raises(UnknownFlagError, match="Did you mean 'floatX'"):
        cfg.floatx = "float32"
    assert cfg.floatX == "float64"


def test_unknown_flag_in_labsym_flags_raises(tmp_path):
    with pytest.raises(UnknownFlagError, match=r"Did you mean 'floatX'.*Known flags: floatX"):
        make(tmp_path, LABSYM_FLAGS="floatx=float32")


def test_unknown_flag_in_theano_flags_warns(tmp_path):
    with pytest.warns(UserWarning, match="'cuda.not_a_flag'"):
        cfg = make(tmp_path, THEANO_FLAGS="cuda.not_a_flag=/usr/local/cuda,floatX=float32")
    assert cfg.floatX == "float32"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (True, True),
        (False, False),
        ("True", True),
        ("False", False),
        ("true", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("no", False),
    ],
)
def test_bool_parsing(tmp_path, text, expected):
    cfg = make(tmp_path)
    cfg.profile = text
    assert cfg.profile is expected
    env_cfg = make(tmp_path, LABSYM_FLAGS=f"allow_gc={text}")
    assert env_cfg.allow_gc is expected


def test_change_flags_restores_after_exception(tmp_path):
    cfg = make(tmp_path)
    ctx = cfg.change_flags(floatX="float32", **{"traceback.limit": 1})
    with pytest.raises(RuntimeError), ctx as inner:
        assert inner is cfg
        assert (cfg.floatX, cfg.traceback__limit) == ("float32", 1)
        raise RuntimeError("boom")
    assert (cfg.floatX, cfg.traceback__limit) == ("float64", 8)


def test_change_flags_mapping_and_nesting(tmp_path):
    cfg = make(tmp_path)
    with cfg.change_flags({"floatX": "float32"}, mode="FAST_COMPILE"):
        with cfg.change_flags(floatX="float16"):
            assert cfg.floatX == "float16"
        assert (cfg.floatX, cfg.mode) == ("float32", "FAST_COMPILE")
    assert (cfg.floatX, cfg.mode) == ("float64", "FAST_RUN")


def test_change_flags_decorator(tmp_path):
    cfg = make(tmp_path)

    @cfg.change_flags(floatX="float32")
    def f(x):
        """Doc kept."""
        if x:
            raise KeyError(x)
        return cfg.floatX

    assert f(0) == "float32"
    assert cfg.floatX == "float64"
    with pytest.raises(KeyError):
        f(1)
    assert cfg.floatX == "float64"
    assert f.__doc__ == "Doc kept."


def test_change_flags_bad_value_changes_nothing(tmp_path):
    cfg = make(tmp_path)
    ctx = cfg.change_flags(floatX="float32", device="tpu")
    with pytest.raises(ConfigError, match="device"):
        ctx.__enter__()
    assert (cfg.floatX, cfg.device) == ("float64", "cpu")
    with pytest.raises(UnknownFlagError), cfg.change_flags(floatX="float32", floatx="float32"):
        pass
    assert cfg.floatX == "float64"


# ------------------------------------------------------------------------ Theano's flag groups
WARN_FLAGS = [
    "ignore_bug_before", "argmax_pushdown_bug", "gpusum_01_011_0111_bug", "sum_sum_bug",
    "sum_div_dimshuffle_bug", "subtensor_merge_bug", "gpu_set_subtensor1", "vm_gc_bug",
    "identify_1pexp_bug", "signal_conv2d_interface", "reduce_join", "inc_set_subtensor1",
    "round", "inc_subtensor1_opt",
]  # fmt: skip


def test_every_theano_warn_flag_through_each_source(tmp_path):
    cfg = make(tmp_path)
    assert dir(cfg.warn) == sorted(WARN_FLAGS)
    assert (cfg.warn.subtensor_merge_bug, cfg.warn.inc_subtensor1_opt) == (False, True)
    assert cfg.warn.ignore_bug_before == "0.9"
    bools = [name for name in WARN_FLAGS if name != "ignore_bug_before"]
    env = make(tmp_path, THEANO_FLAGS=",".join(f"warn.{n}=True" for n in bools))
    assert all(getattr(env.warn, n) is True for n in bools)
    for name in bools:
        setattr(cfg.warn, name, "false")
        assert getattr(cfg.warn, name) is False
        with cfg.change_flags({f"warn.{name}": True}):
            assert getattr(cfg.warn, name) is True
        assert getattr(cfg, f"warn__{name}") is False
    cfg.warn.ignore_bug_before = "all"
    assert cfg.warn.ignore_bug_before == "all"
    with pytest.raises(ConfigError, match="'warn.round'"):
        cfg.warn.round = "sometimes"
    with pytest.raises(UnknownFlagError, match="'warn.nope'"):
        cfg.warn.nope = True


def test_the_global_config_accepts_theano_warn_assignments():
    with config.change_flags(**{"warn.subtensor_merge_bug": True}):
        config.warn.subtensor_merge_bug = False
        assert config.warn__subtensor_merge_bug is False
        assert config.warn.sum_div_dimshuffle_bug is False


def test_nested_groups_and_dotted_names_in_str(tmp_path):
    cfg = make(tmp_path, THEANO_FLAGS="dnn.conv.algo_fwd=time_once,lib.amdlibm=False")
    assert cfg.dnn.conv.algo_fwd == "time_once"
    assert "conv" in dir(cfg.dnn) and "lib" in dir(cfg) and "warn" in dir(cfg)
    text = str(cfg)
    for line in ("lib.amdlibm = False", "lib.cnmem = 0.0", "dnn.conv.algo_fwd = 'time_once'",
                 "blas.ldflags = ''", "gcc.cxxflags = ''", "nvcc.fastmath = False",
                 "cmodule.age_thresh_use = 2073600", "gpuarray.preallocate = 0.0"):  # fmt: skip
        assert line in text.splitlines(), line
    assert "__" not in text.replace("compiledir_format", "")
    names = ("lib.cnmem", "gpuarray.sched", "dnn.enabled", "nvcc.flags", "cmodule.debug",
             "blas.ldflags", "gcc.cxxflags", "openmp", "cxx", "DebugMode.patience")  # fmt: skip
    assert set(names) <= set(Config.flag_names())
    assert repr(cfg.lib) == "<config group lib: amdlibm, cnmem>"


def test_compiledir_derives_from_base_compiledir(tmp_path):
    cfg = Config.from_environment(environ={"XDG_CACHE_HOME": str(tmp_path / "xdg")}, home="/h")
    assert cfg.base_compiledir == str(tmp_path / "xdg" / "labsym")
    name = os.path.basename(cfg.compiledir)
    assert os.path.dirname(cfg.compiledir) == cfg.base_compiledir
    assert name.startswith("compiledir_") and name.endswith(f"-{8 * struct.calcsize('P')}")
    assert " " not in name and "," not in name
    cfg.base_compiledir = "~/elsewhere"
    assert cfg.compiledir.startswith(os.path.expanduser("~/elsewhere/compiledir_"))
    cfg.compiledir_format = "cache_%(python_version)s"
    assert cfg.compiledir == os.path.expanduser(f"~/elsewhere/cache_{platform.python_version()}")
    cfg.compiledir = str(tmp_path / "mine")
    assert cfg.compiledir == str(tmp_path / "mine")
    env = make(tmp_path, THEANO_FLAGS=f"base_compiledir={tmp_path}/b,compiledir_format=x")
    assert env.compiledir == f"{tmp_path}/b/x"
    with env.change_flags(compiledir_format="%(nope)s"), pytest.raises(ConfigError, match="nope"):
        env.compiledir  # noqa: B018


def test_ensure_compiledir_is_private(tmp_path):
    cfg = make(tmp_path, THEANO_FLAGS=f"base_compiledir={tmp_path}/cache")
    path = cfg.ensure_compiledir()
    assert path == cfg.compiledir and stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert cfg.ensure_compiledir() == path
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    cfg.compiledir = str(shared)
    with pytest.raises(ConfigError, match=r"writable by other users \(mode 777\)"):
        cfg.ensure_compiledir()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        (
            "blas.ldflags",
            "-lopenblas",
            "labsym calls the BLAS that NumPy/SciPy ship: blas.ldflags='-lopenblas' is not used",
        ),
        (
            "lib.cnmem",
            0.5,
            "labsym's CUDA backend does not read this flag: lib.cnmem=0.5 changes nothing",
        ),
        (
            "nvcc.fastmath",
            True,
            "labsym's CUDA backend does not read this flag: nvcc.fastmath=True changes nothing",
        ),
        (
            "dnn.enabled",
            "True",
            "labsym's CUDA backend does not read this flag: dnn.enabled=True changes nothing",
        ),
    ],
)
def test_missing_capability_is_said_once_from_each_source(tmp_path, flag, value, message):
    text = value if isinstance(value, str) else str(value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make(tmp_path, THEANO_FLAGS=f"{flag}={text}")
        cfg = make(tmp_path, LABSYM_FLAGS=f"{flag}={text}")
        setattr(cfg, flag.replace(".", "__"), value)
        with cfg.change_flags({flag: value}):
            pass
    assert [str(w.message) for w in caught] == [message]
    config_module._NOTICED.clear()
    with (
        pytest.warns(
            UserWarning, match="changes nothing|not used|runs the Python|nothing is compiled"
        ),
        cfg.change_flags({flag: value}),
    ):
        pass


def test_defaults_and_cleared_values_say_nothing(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = make(tmp_path, THEANO_FLAGS="cxx=,linker=py,openmp=False,blas.ldflags=")
        cfg.linker = "vm"
        cfg.lib.cnmem = 0
    assert (cfg.cxx, cfg.linker, cfg.lib.cnmem) == ("", "vm", 0.0)
