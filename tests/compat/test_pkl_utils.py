"""theano.misc.pkl_utils: a zip of NPY files named after shared variables, plus the pickle."""

import zipfile

import numpy as np
import pytest

import labsym as theano
import labsym.tensor as T
from labsym.misc.pkl_utils import dump, load


def test_dump_names_arrays_after_shared_variables(tmp_path):
    path = tmp_path / "model.zip"
    foo_1 = theano.shared(0, name="foo")
    foo_2 = theano.shared(1, name="foo")
    with open(path, "wb") as f:
        dump((foo_1, foo_2, np.array(2)), f)
    assert sorted(zipfile.ZipFile(path).namelist()) == ["array_0", "foo", "foo_2", "pkl"]
    npz = np.load(path)  # readable without labsym, as the Theano docs say
    assert (int(npz["foo"]), int(npz["foo_2"]), int(npz["array_0"])) == (0, 1, 2)
    with open(path, "rb") as f:
        a, b, arr = load(f)
    assert (a.name, int(a.get_value()), int(b.get_value()), int(arr)) == ("foo", 0, 1, 2)


def test_a_model_graph_survives_and_arrays_are_stored_once(tmp_path):
    path = tmp_path / "graph.zip"
    x = T.dvector("x")
    w = theano.shared(np.array([1.0, 2.0]), name="W")
    y = (x * w).sum()
    with open(path, "wb") as f:
        dump({"x": x, "y": y, "W": w, "again": w}, f)
    assert sorted(zipfile.ZipFile(path).namelist()) == ["W", "pkl"]
    with open(path, "rb") as f:
        d = load(f)
    assert d["W"] is d["again"]
    assert theano.function([d["x"]], d["y"])([1.0, 1.0]) == 3.0


def test_pkl_name_and_unnamed_refusals(tmp_path):
    from labsym.misc.pkl_utils import PersistentSharedVariableID

    with open(tmp_path / "a.zip", "wb") as f, pytest.raises(ValueError, match="name `pkl`"):
        dump(theano.shared(1.0, name="pkl"), f)

    def strict(zip_file):
        return PersistentSharedVariableID(zip_file, allow_unnamed=False)

    with open(tmp_path / "b.zip", "wb") as f, pytest.raises(ValueError, match="unnamed shared"):
        dump(theano.shared(1.0), f, persistent_id=strict)
