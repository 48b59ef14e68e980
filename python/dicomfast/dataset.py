"""The ``Dataset``: pydicom-familiar access to an element index built by the
Rust parser.  Elements are materialized (and their values converted) only
when they are asked for; untouched elements are written back byte for byte.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from . import _core
from .charset import character_set
from .dictionary import dictionary_vr, tag_for_keyword
from .element import DataElement
from .lazy_numpy import LazyNumpy
from .tag import TagLike
from .tag import tag_int as Tag  # plain ints inside (fast dict keys)

if TYPE_CHECKING:
    import numpy as np
else:
    np = LazyNumpy(globals())  # imported on first use (see lazy_numpy)

# Node flags, as dicomfast-core's index::flags defines them.
F_IMPLICIT = 1 << 0
F_BIG_ENDIAN = 1 << 1
F_SEQUENCE = 1 << 2
F_ITEM = 1 << 3
F_ENCAPSULATED = 1 << 4
F_FRAGMENT = 1 << 5
F_AMBIGUOUS = 1 << 6
F_UN_SEQUENCE = 1 << 7

UNDEFINED_LENGTH = 0xFFFFFFFF
_INTERNAL = frozenset(
    {
        "_raw",
        "_node",
        "_parent",
        "_map",
        "_sorted",
        "_charset",
        "file_meta",
        "filename",
        "_source",
        "_all_done",
        "_pixctx",
    }
)


class Sequence(list):
    """A sequence value: a list of :class:`Dataset` items."""

    __slots__ = ("_undefined_length",)

    def __init__(self, items: Any = (), undefined_length: bool = True) -> None:
        super().__init__(items)
        self._undefined_length = undefined_length


class Dataset:
    """A DICOM data set (or an item of a sequence, or the file meta group)."""

    def __init__(
        self, *args: Any, _raw: Any = None, _node: int = -1, _parent: Dataset | None = None
    ) -> None:
        d = self.__dict__
        d["_raw"] = _raw
        d["_node"] = _node
        d["_parent"] = _parent
        d["_map"] = None
        d["_sorted"] = None
        d["_charset"] = False  # not computed yet
        d["file_meta"] = None
        d["filename"] = None
        d["_source"] = None
        if args:  # Dataset(other_dataset_or_mapping): copy its elements
            (other,) = args
            for elem in other.values() if isinstance(other, dict) else other:
                self[elem.tag] = elem

    # -- element table ----------------------------------------------------
    def _table(self) -> dict[int, Any]:
        m = self._map
        if m is None:
            raw = self._raw
            m = raw.child_map(self._node) if raw is not None else {}
            self.__dict__["_map"] = m
        return m

    def _tags(self) -> list[int]:
        s = self._sorted
        if s is None:
            s = sorted(self._table())
            self.__dict__["_sorted"] = s
        return s

    def _element(self, tag: int) -> DataElement:
        m = self._table()
        v = m[tag]
        if v.__class__ is int:
            v = self._convert(v)
            m[tag] = v
        return v

    def _materialize_all(self, deep: bool = False) -> None:
        """Convert every element still in the index, in one call to the core; ``deep``:
        the items of its sequences too (and theirs, ...)."""
        raw = self._raw
        if raw is None or self.__dict__.get("_all_done"):
            return
        parent = self._parent_ds()
        cs, pr, ba = None, 0, 16
        if parent is not None:
            cs = parent._get_charset()
            pr, ba = parent._pixel_context()
        fresh, tags, cs_used = raw.level(self._node, self, cs, pr, ba, deep)
        d = self.__dict__
        m = self._map
        if m is None:
            d["_sorted"] = tags
        else:
            # Keep elements already materialized or changed; drop deleted ones.
            for tag, v in m.items():
                if v.__class__ is not int:
                    fresh[tag] = v
            if len(fresh) != len(m):
                for tag in [t for t in fresh if t not in m]:
                    del fresh[tag]
        d["_map"] = fresh
        d["_all_done"] = True
        if d["_charset"] is False:
            d["_charset"] = cs_used

    def _level(self, deep: bool = False) -> tuple[dict[int, Any], list[int]]:
        """This data set's table, every element converted, and its tags in order."""
        if self._raw is not None and not self.__dict__.get("_all_done"):
            self._materialize_all(deep)
        return self._table(), self._tags()

    def _pixel_context(self) -> tuple[int, int]:
        """(Pixel Representation, Bits Allocated) in force here, for ambiguous VRs."""
        ctx = self.__dict__.get("_pixctx")
        if ctx is None:
            pr, ba = self._inherited(0x00280103), self._inherited(0x00280100)
            ctx = (pr if isinstance(pr, int) else 0, ba if isinstance(ba, int) else 16)
            self.__dict__["_pixctx"] = ctx
        return ctx

    def _convert(self, node: int) -> DataElement:
        return self._raw.element(node, self)

    def _parent_ds(self) -> Dataset | None:
        """The data set holding the sequence this one is an item of (None at the top).

        Items read from a file refer to it weakly (``_parent`` is a ``weakref.ref``), so
        that a data set and its items are no reference cycle; an item kept after its
        parent was freed gets that parent (and those above it) rebuilt from the index,
        as read: what it inherits (character set, Pixel Representation) is what the
        file says, changes once made to the freed parent aside."""
        p = self._parent
        if p is None or p.__class__ is not weakref.ref:
            return p
        ds = p()
        if ds is None:
            ds = _as_read_parent(self._raw, self._node)
            self.__dict__["_parent"] = ds
        return ds

    def _inherited(self, tag: int) -> Any:
        ds: Dataset | None = self
        while ds is not None:
            if tag in ds._table():
                return ds._element(tag).value
            ds = ds._parent_ds()
        return None

    def _get_charset(self) -> Any:
        cs = self._charset
        if cs is False:
            if 0x00080005 in self._table():
                terms = self._element(0x00080005).value
                cs = character_set(terms if isinstance(terms, list) else [terms])
            elif self._parent is not None:
                cs = self._parent_ds()._get_charset()  # type: ignore[union-attr]
            else:
                cs = None
            self.__dict__["_charset"] = cs
        return cs

    # -- mapping protocol ---------------------------------------------------
    def __getitem__(self, key: TagLike) -> DataElement:
        if key.__class__ is int:
            tag = key
        else:
            try:
                tag = Tag(key)
            except ValueError:
                raise KeyError(key) from None
        try:
            return self._element(tag)
        except KeyError:
            raise KeyError(f"({tag >> 16:04X},{tag & 0xFFFF:04X})") from None

    def __setitem__(self, key: TagLike, elem: DataElement) -> None:
        tag = Tag(key)
        if not isinstance(elem, DataElement):
            raise TypeError("Dataset[tag] = value needs a DataElement; use ds.Keyword = value")
        if elem.tag != tag:
            raise ValueError(f"element tag {elem.tag:08X} does not match key {tag:08X}")
        m = self._table()
        if tag not in m:
            self.__dict__["_sorted"] = None
        m[tag] = elem
        if tag == 0x00080005:
            self.__dict__["_charset"] = False

    def __delitem__(self, key: TagLike) -> None:
        tag = Tag(key)
        del self._table()[tag]
        self.__dict__["_sorted"] = None
        if tag == 0x00080005:
            self.__dict__["_charset"] = False

    def __contains__(self, key: object) -> bool:
        try:
            tag = key if key.__class__ is int else Tag(key)  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            return False
        return tag in self._table()

    def __len__(self) -> int:
        return len(self._table())

    def __iter__(self) -> Iterator[DataElement]:
        m, tags = self._level()
        return map(m.__getitem__, tags)

    def keys(self) -> list[int]:
        return list(self._tags())

    def values(self) -> list[DataElement]:
        return list(self)

    def items(self) -> list[tuple[int, DataElement]]:
        return [(e.tag, e) for e in self]

    def elements(self) -> Iterator[DataElement]:
        return iter(self)

    def get(self, key: TagLike, default: Any = None) -> Any:
        """``ds.get("PatientName")`` gives the value; ``ds.get(tag)`` the element (as pydicom)."""
        if isinstance(key, str):
            tag = tag_for_keyword(key)
            if tag is not None:
                return self._element(tag).value if tag in self._table() else default
        try:
            tag = Tag(key)
        except (KeyError, TypeError, ValueError):
            return default
        return self._element(tag) if tag in self._table() else default

    def add_new(self, tag: TagLike, VR: str, value: Any) -> DataElement:  # noqa: N803
        elem = DataElement(Tag(tag), VR, value)
        self[elem.tag] = elem
        return elem

    def add(self, elem: DataElement) -> None:
        self[elem.tag] = elem

    def walk(self, callback: Any = None, recursive: bool = True) -> Iterator[DataElement] | None:
        """pydicom's ``walk``: ``callback(dataset, element)`` for every element, in tag
        order, then (``recursive``) for the elements of each sequence item; the callback
        may delete the element it is given.  Without a callback (dicomfast's own use)
        it is :meth:`iterall`."""
        if callback is None:
            return self.iterall()
        for tag in list(self._tags()):
            if tag not in self._table():
                continue  # deleted by the callback
            elem = self._element(tag)
            callback(self, elem)
            if recursive and tag in self._table() and elem.VR == "SQ":
                for item in elem.value:
                    item.walk(callback, recursive)
        return None

    def iterall(self) -> Iterator[DataElement]:
        """Every element, depth first, sequences' items included (each data set not
        converted yet is converted with everything under it in one call to the core)."""
        return _core.Walk(self)

    def dir(self, *filters: str) -> list[str]:
        """The keywords of the elements present, sorted; with ``filters``, only those
        containing one of them (case-insensitive), as pydicom's ``dir``."""
        kws = {e.keyword for e in self if e.keyword}
        if filters:
            low = [f.lower() for f in filters]
            kws = {k for k in kws if any(f in k.lower() for f in low)}
        return sorted(kws)

    def remove_private_tags(self) -> None:
        """Delete every private element (odd group), in sequence items too."""

        def remove(ds: Dataset, elem: DataElement) -> None:
            if elem.tag >> 16 & 1:
                del ds[elem.tag]

        self.walk(remove)

    def __copy__(self) -> Dataset:
        """A new data set holding the same elements (a shallow copy, as pydicom's)."""
        new = object.__new__(type(self))
        d = new.__dict__
        d.update(self.__dict__)
        m = self._map
        d["_map"] = dict(m) if m is not None else None
        d["_sorted"] = None
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> Dataset:
        """An independent data set: every value copied (arrays included), sequences'
        items deep-copied; nothing is shared with the original or its file."""
        import copy

        new = type(self)()
        memo[id(self)] = new
        for elem in self:
            v = elem.value
            if elem.VR == "SQ" or isinstance(v, Sequence):
                value: Any = Sequence(
                    [copy.deepcopy(item, memo) for item in v],
                    undefined_length=getattr(v, "_undefined_length", True),
                )
                for item in value:
                    item.__dict__["_parent"] = new
            elif isinstance(v, np.ndarray):
                value = v.copy()
            else:
                value = copy.deepcopy(v, memo)
            new[elem.tag] = DataElement(elem.tag, elem.VR, value, _length=_kept_length(elem))
        d = new.__dict__
        for k, v in self.__dict__.items():
            if k in _INTERNAL:
                continue
            d[k] = copy.deepcopy(v, memo)
        parent = self._parent_ds()
        d["_parent"] = parent if parent is None else memo.get(id(parent))
        if self.file_meta is not None:
            d["file_meta"] = copy.deepcopy(self.file_meta, memo)
        d["filename"] = self.filename
        if self._raw is not None:
            # The transfer syntax the data set was read with, when no file meta says it.
            d["_read_syntax"] = self._raw.transfer_syntax
        elif "_read_syntax" in self.__dict__:
            d["_read_syntax"] = self.__dict__["_read_syntax"]
        return new

    # -- keyword attributes -------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        tag = tag_for_keyword(name)
        if tag is not None:
            m = self._table()
            if tag in m:
                return self._element(tag).value
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _INTERNAL:
            self.__dict__[name] = value
            return
        tag = tag_for_keyword(name)
        if tag is None:
            if name[:1].isupper():
                raise AttributeError(f"{name!r} is not a DICOM keyword")
            self.__dict__[name] = value
            return
        m = self._table()
        if tag in m:
            elem = self._element(tag)
            elem.value = value
            if tag == 0x00080005:
                self.__dict__["_charset"] = False
        else:
            vr = dictionary_vr(tag)
            if vr == "SQ" and not isinstance(value, Sequence):
                value = Sequence(value, undefined_length=True)
            self[tag] = DataElement(tag, vr, value)

    def __delattr__(self, name: str) -> None:
        tag = tag_for_keyword(name)
        if tag is not None and tag in self._table():
            del self[tag]
        elif name in self.__dict__:
            del self.__dict__[name]
        else:
            raise AttributeError(name)

    def __dir__(self) -> list[str]:
        extra = [e.keyword for e in self if e.keyword]
        return sorted(set(super().__dir__()) | set(extra))

    # -- file-level properties ------------------------------------------------
    @property
    def transfer_syntax(self) -> str | None:
        """The Transfer Syntax UID of the file meta group, or the one the data set was read with."""
        fm = self.file_meta
        if fm is not None and 0x00020010 in fm:
            return fm.TransferSyntaxUID
        if self._raw is not None:
            return self._raw.transfer_syntax
        return self.__dict__.get("_read_syntax")

    @property
    def is_raw(self) -> bool:
        return self._raw is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        if self._tags() != other._tags():
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        from .dump import format_dataset

        return format_dataset(self)

    __str__ = __repr__

    # -- I/O and conversions ----------------------------------------------
    def save(
        self, dest: str | os.PathLike[str] | BinaryIO, *, transfer_syntax: str | None = None
    ) -> None:
        """Write as a Part 10 file (see :func:`dicomfast.write`)."""
        from .writer import write

        write(self, dest, transfer_syntax=transfer_syntax)

    def save_as(
        self,
        filename: str | os.PathLike[str] | BinaryIO,
        write_like_original: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """pydicom's ``save_as``: :func:`dicomfast.dcmwrite` ``(filename, self, ...)``."""
        from .writer import dcmwrite

        dcmwrite(filename, self, write_like_original, **kwargs)

    def to_json(self, *, bulk_data_threshold: int | None = None) -> str:
        """The PS3.18 Annex F DICOM JSON model of this data set."""
        from .json_model import to_json

        return to_json(self, bulk_data_threshold=bulk_data_threshold)

    @classmethod
    def from_json(
        cls, json_dataset: str | bytes | dict[str, Any], *args: Any, **kwargs: Any
    ) -> Dataset:
        """pydicom's ``Dataset.from_json``: :func:`dicomfast.from_json`."""
        from .json_model import from_json

        return from_json(json_dataset, *args, **kwargs)

    def data_element(self, name: str) -> DataElement | None:
        """The element of keyword ``name``, or None (pydicom's ``data_element``)."""
        tag = tag_for_keyword(name)
        return self._element(tag) if tag is not None and tag in self._table() else None

    def to_json_dict(self) -> dict[str, Any]:
        from .json_model import to_json_dict

        return to_json_dict(self)

    # -- pixel data (implemented in dicomfast.pixels) -------------------------
    @property
    def pixel_array(self) -> np.ndarray:
        """Every frame, decoded, shaped as pydicom's ``pixel_array`` (colour as stored)."""
        from .pixels.decode import pixel_array

        return pixel_array(self)

    def pixel_array_as(self, *, as_rgb: bool = False, threads: int | None = None) -> np.ndarray:
        """:attr:`pixel_array` with options: ``as_rgb`` converts YBR_FULL(_422) to RGB;
        ``threads`` frames decoded in parallel (default: all cores)."""
        from .pixels.decode import pixel_array

        return pixel_array(self, as_rgb=as_rgb, threads=threads)

    def frame(self, index: int, *, as_rgb: bool = False) -> np.ndarray:
        """Frame ``index`` (from 0) alone, ``(rows, columns[, samples])``."""
        from .pixels.decode import frame

        return frame(self, index, as_rgb=as_rgb)

    def iter_frames(self, *, as_rgb: bool = False) -> Iterator[np.ndarray]:
        """Each frame in turn, decoded when reached."""
        from .pixels.decode import iter_frames

        return iter_frames(self, as_rgb=as_rgb)

    def compress(
        self,
        transfer_syntax: str,
        *,
        predictor: int = 1,
        threads: int | None = None,
        quality: int | None = None,
        max_error: int | None = None,
        ratio: int | None = None,
        keep_uid: bool = False,
    ) -> Dataset:
        """Compress Pixel Data in place (RLE Lossless, JPEG Lossless 4.57/4.70, Deflated
        Image Frame Compression, JPEG-LS, JPEG 2000, JPEG baseline/extended; see
        :func:`dicomfast.pixels.encode.compress` for the lossy settings and how lossy
        results are marked); returns this data set."""
        from .pixels.encode import compress

        return compress(
            self,
            transfer_syntax,
            predictor=predictor,
            threads=threads,
            quality=quality,
            max_error=max_error,
            ratio=ratio,
            keep_uid=keep_uid,
        )

    def decompress(self, *, threads: int | None = None) -> Dataset:
        """Make Pixel Data native, transfer syntax Explicit VR Little Endian; returns this data set."""
        from .pixels.encode import decompress

        return decompress(self, threads=threads)


def _kept_length(elem: DataElement) -> int | None:
    """The undefined length of encapsulated Pixel Data (the writer keeps it so)."""
    return UNDEFINED_LENGTH if elem._length == UNDEFINED_LENGTH and elem.VR != "SQ" else None


_ITEM_STATE = {
    "_map": None,
    "_sorted": None,
    "_charset": False,
    "file_meta": None,
    "filename": None,
    "_source": None,
}


class FileMetaDataset(Dataset):
    """The file meta group (0002,xxxx) of a Part 10 file."""


def _as_read_parent(raw: Any, item: int) -> Dataset:
    """The data set (and those above it) holding item node ``item``, as read."""
    nodes = [raw.enclosing(item)]
    while nodes[-1] >= 0:
        nodes.append(raw.enclosing(nodes[-1]))
    top = nodes.pop()
    ds: Dataset = (FileMetaDataset if top == -2 else Dataset)(_raw=raw, _node=top)
    for node in reversed(nodes):
        ds = Dataset(_raw=raw, _node=node, _parent=ds)
    return ds


def _new_raw_dataset(raw: Any) -> Dataset:
    ds = Dataset(_raw=raw, _node=-1)
    if raw.meta_nodes:
        ds.__dict__["file_meta"] = FileMetaDataset(_raw=raw, _node=-2)
    return ds


__all__ = ["Dataset", "FileMetaDataset", "Sequence", "DataElement", "_core"]
