"""Tests for labsym.config: defaults, sources and their priority, validation, change_flags."""

import os
import warnings

import pytest

from labsym.config import Config, ConfigError, UnknownFlagError, config


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
    assert cfg.compiledir == os.path.join(str(tmp_path), ".cache", "labsym")


def test_singleton_and_plain_constructor():
    assert isinstance(config, Config)
    assert Config().compiledir == os.path.expanduser("~/.cache/labsym")


def test_flag_names_describe_and_str(tmp_path):
    names = Config.flag_names()
    assert "floatX" in names and "traceback__limit" in names
    assert len(names) == len(set(names)) == 17
    assert "float dtype" in Config.describe("floatX")
    assert Config.describe("traceback.limit") == Config.describe("traceback__limit")
    with pytest.raises(UnknownFlagError):
        Config.describe("nope")
    text = str(make(tmp_path))
    assert "floatX = 'float64'" in text
    assert "traceback__limit = 8" in text
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
    cfg = make(home, THEANORC=os.pathsep.join([str(t1), str(t2)]), LABSYMRC=str(lab))
    assert cfg.mode == "NanGuardMode"
    assert cfg.linker == "cvm"
    assert cfg.traceback__limit == 0


def test_rc_unknown_keys(tmp_path):
    (tmp_path / ".theanorc").write_text("[lib]\ncnmem = 0.5\n")
    with pytest.warns(UserWarning, match="lib__cnmem"):
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
    cfg.openmp = "yes"
    assert (cfg.floatX, cfg.device, cfg.traceback__limit, cfg.openmp) == (
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
    with pytest.raises(ConfigError, match=name):
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
    assert "traceback__limit" in msg
    assert isinstance(info.value, AttributeError)
    assert getattr(cfg, "floatx", "fallback") == "fallback"
    with pytest.raises(UnknownFlagError, match="Did you mean 'floatX'"):
        cfg.floatx = "float32"
    assert cfg.floatX == "float64"


def test_unknown_flag_in_labsym_flags_raises(tmp_path):
    with pytest.raises(UnknownFlagError, match=r"Did you mean 'floatX'.*Known flags: floatX"):
        make(tmp_path, LABSYM_FLAGS="floatx=float32")


def test_unknown_flag_in_theano_flags_warns(tmp_path):
    with pytest.warns(UserWarning, match="cuda__root"):
        cfg = make(tmp_path, THEANO_FLAGS="cuda.root=/usr/local/cuda,floatX=float32")
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
