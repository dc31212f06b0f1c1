"""Theano's `theano.misc.pkl_utils`: pickle a model into a zip of NPY files plus the pickle.

`dump(obj, f)` writes a zip archive holding `pkl` (the pickle) and one NPY file per NumPy
array met on the way, named after its shared variable (`W`, `W_2` for a second `W`) or
`array_0`, `array_1`... for anonymous arrays. The archive opens with `numpy.load`, so the
parameters stay readable without labsym; `load(f)` rebuilds the pickled object.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import defaultdict
from typing import Any, BinaryIO

import numpy as np

from labsym.core.graph import Variable
from labsym.core.shared import SharedVariable
from labsym.utils import Scratchpad


class StripPickler(pickle.Pickler):
    """A Pickler that drops each variable's creation trace and `tag.test_value` (smaller, stable).

    `extra_tag_to_remove` names more tag attributes to drop. They are removed from the objects
    being pickled, as Theano did. labsym keeps the trace on `var.trace`, not `var.tag.trace`.
    """

    def __init__(
        self, file: BinaryIO, protocol: int = 0, extra_tag_to_remove: list[str] | None = None
    ) -> None:
        super().__init__(file, protocol)
        self.tag_to_remove = ["trace", "test_value", *(extra_tag_to_remove or [])]

    def reducer_override(self, obj: Any) -> Any:
        """Strip a Scratchpad before it is pickled; everything else pickles as usual."""
        if isinstance(obj, Scratchpad):
            for tag in self.tag_to_remove:
                obj.__dict__.pop(tag, None)
        elif isinstance(obj, Variable) and "trace" in self.tag_to_remove:
            obj.trace = None
        return NotImplemented


class PersistentNdarrayID:
    """Saves each distinct ndarray into the zip as `array_<n>`; returns `ndarray.<name>`."""

    def __init__(self, zip_file: zipfile.ZipFile) -> None:
        self.zip_file = zip_file
        self.count = 0
        self.seen: dict[int, str] = {}
        self._keep: list[Any] = []  # keeps the arrays alive so that their ids stay unique

    def _resolve_name(self, obj: np.ndarray) -> str:
        name = f"array_{self.count}"
        self.count += 1
        return name

    def __call__(self, obj: Any) -> str | None:
        if type(obj) is not np.ndarray:
            return None
        if id(obj) not in self.seen:
            name = self._resolve_name(obj)
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, obj)
            self.zip_file.writestr(name, buffer.getvalue())
            self.seen[id(obj)] = f"ndarray.{name}"
            self._keep.append(obj)
        return self.seen[id(obj)]


class PersistentSharedVariableID(PersistentNdarrayID):
    """Names a shared variable's array after the variable (`x`, then `x_2`, `x_3`...)."""

    def __init__(
        self, zip_file: zipfile.ZipFile, allow_unnamed: bool = True, allow_duplicates: bool = True
    ) -> None:
        super().__init__(zip_file)
        self.name_counter: dict[str, int] = defaultdict(int)
        self.ndarray_names: dict[int, str] = {}
        self.allow_unnamed = allow_unnamed
        self.allow_duplicates = allow_duplicates

    def _resolve_name(self, obj: np.ndarray) -> str:
        if id(obj) not in self.ndarray_names:
            return super()._resolve_name(obj)
        name = self.ndarray_names[id(obj)]
        count = self.name_counter[name]
        self.name_counter[name] += 1
        if count:
            if not self.allow_duplicates:
                raise ValueError(f"multiple shared variables with the name `{name}` found")
            name = f"{name}_{count + 1}"
        return name

    def __call__(self, obj: Any) -> str | None:
        if isinstance(obj, SharedVariable):
            if obj.name:
                if obj.name == "pkl":
                    raise ValueError("can't pickle shared variable with name `pkl`")
                self.ndarray_names[id(obj.container.value)] = obj.name
            elif not self.allow_unnamed:
                raise ValueError(f"unnamed shared variable, {obj}")
        return super().__call__(obj)


class PersistentNdarrayLoad:
    """Reads the NPY files `dump` wrote back (each once, so shared arrays stay shared)."""

    def __init__(self, zip_file: zipfile.ZipFile) -> None:
        self.zip_file = zip_file
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, persid: str) -> np.ndarray:
        kind, name = persid.split(".", 1)
        if kind != "ndarray":
            raise pickle.UnpicklingError(f"unknown persistent object kind {kind!r} ({persid})")
        if name not in self.cache:
            with self.zip_file.open(name) as f:
                self.cache[name] = np.lib.format.read_array(f)
        return self.cache[name]


def dump(
    obj: Any,
    file_handler: BinaryIO,
    protocol: int = pickle.DEFAULT_PROTOCOL,
    persistent_id: Any = PersistentSharedVariableID,
) -> None:
    """Pickle `obj` into a zip file: `pkl` plus one NPY file per array (see the module doc)."""
    with zipfile.ZipFile(file_handler, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zip_file:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=protocol)
        pickler.persistent_id = persistent_id(zip_file)
        pickler.dump(obj)
        zip_file.writestr("pkl", buffer.getvalue())


def load(f: BinaryIO, persistent_load: Any = PersistentNdarrayLoad) -> Any:
    """The object `dump` saved to the zip file `f`."""
    with zipfile.ZipFile(f, "r") as zip_file:
        unpickler = pickle.Unpickler(io.BytesIO(zip_file.read("pkl")))
        unpickler.persistent_load = persistent_load(zip_file)
        return unpickler.load()


__all__ = [
    "PersistentNdarrayID",
    "PersistentNdarrayLoad",
    "PersistentSharedVariableID",
    "StripPickler",
    "dump",
    "load",
]
