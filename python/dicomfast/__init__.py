"""dicomfast: a fast DICOM toolkit with a Rust core and a pydicom-familiar API.

import dicomfast
ds = dicomfast.read("image.dcm")
ds.PatientName, ds["Rows"].value, ds[0x00280010].VR
ds.PatientName = "DOE^JANE"
dicomfast.write(ds, "out.dcm", transfer_syntax=dicomfast.uid.ImplicitVRLittleEndian)

pydicom's names take pydicom's arguments: ``dicomfast.dcmread(fp, defer_size,
stop_before_pixels, force, specific_tags)``, ``dicomfast.dcmwrite(filename, ds, ...)``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    CharacterSetError,
    DicomError,
    InvalidDicomError,
    NetworkError,
    PixelDataError,
    TruncatedDataError,
    WriteError,
)

if TYPE_CHECKING:
    from . import uid
    from ._core import __version__ as __version__
    from .dataset import Dataset, FileMetaDataset, Sequence
    from .element import DataElement
    from .json_model import from_json
    from .reader import dcmread, read
    from .tag import Tag
    from .valuerep import PersonName
    from .writer import dcmwrite, write

# The public names below are imported on first use (PEP 562), so that a command
# that needs none of them (``dicomfast --help``, ``dicomfast echo``) does not
# pay for numpy and the data set machinery at start-up.
_LAZY = {
    # The one version number: the Cargo workspace's [workspace.package] version, which
    # the Rust build embeds in _core (pyproject.toml's is checked against it by
    # tests/test_version.py).
    "__version__": ("._core", "__version__"),
    "uid": (".uid", None),
    "Dataset": (".dataset", "Dataset"),
    "FileMetaDataset": (".dataset", "FileMetaDataset"),
    "Sequence": (".dataset", "Sequence"),
    "DataElement": (".element", "DataElement"),
    "from_json": (".json_model", "from_json"),
    "dcmread": (".reader", "dcmread"),
    "read": (".reader", "read"),
    "Tag": (".tag", "Tag"),
    "PersonName": (".valuerep", "PersonName"),
    "dcmwrite": (".writer", "dcmwrite"),
    "write": (".writer", "write"),
}


#: Subpackages and modules reachable as attributes after a bare ``import dicomfast``
#: (``dicomfast.pixels.apply_modality_lut``), imported on first use.
_SUBMODULES = frozenset(
    {
        "archive",
        "batch",
        "charset",
        "dataelem",
        "dataset",
        "deid",
        "dictionary",
        "documents",
        "dump",
        "element",
        "errors",
        "json_model",
        "media",
        "net",
        "pictures",
        "pixels",
        "printing",
        "pydicom",
        "reader",
        "sequence",
        "syntaxes",
        "tag",
        "tempfiles",
        "valuerep",
        "web",
        "writer",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        mod = importlib.import_module(f".{name}", __name__)
        globals()[name] = mod
        return mod
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'dicomfast' has no attribute {name!r}") from None
    mod = importlib.import_module(module, __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CharacterSetError",
    "DataElement",
    "Dataset",
    "DicomError",
    "FileMetaDataset",
    "InvalidDicomError",
    "NetworkError",
    "PersonName",
    "PixelDataError",
    "Sequence",
    "Tag",
    "TruncatedDataError",
    "WriteError",
    "dcmread",
    "dcmwrite",
    "from_json",
    "read",
    "uid",
    "write",
]
