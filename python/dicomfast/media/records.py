"""The tree of a file-set: :class:`RecordNode` (one directory record) and
:class:`FileInstance` (a record that references a file: the instance)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..dataset import Dataset
from ..dictionary import tag_for_keyword
from .hierarchy import IDENTIFIER

if TYPE_CHECKING:
    from .fileset import FileSet


def record_dataset(elements: dict[int, Any], raw: Any = None) -> Dataset:
    """A record's data set holding ``elements`` (tag -> DataElement of that tag, or the
    node of that element in the index ``raw`` of its instance's file, made a
    DataElement when looked at), made without the per-element checks of
    ``Dataset.__setitem__``: the tags are ours."""
    ds = Dataset(_raw=raw)
    ds.__dict__["_map"] = elements
    return ds


class RecordNode:
    """One directory record: its type, its keys (``dataset``), its parent and children."""

    __slots__ = ("record_type", "dataset", "parent", "children", "instance", "offset", "_dir")

    def __init__(
        self,
        record_type: str,
        dataset: Dataset,
        parent: RecordNode | None = None,
        offset: int | None = None,
    ) -> None:
        self.record_type = record_type
        self.dataset = dataset
        self.parent = parent
        self.children: list[RecordNode] = []
        self.instance: FileInstance | None = None
        self.offset = offset
        self._dir: tuple[str, ...] | None = None

    @property
    def key(self) -> str | None:
        """Patient ID, Study or Series Instance UID, or the SOP Instance UID referenced."""
        tag = IDENTIFIER.get(self.record_type, 0x00041511)
        if self.record_type == "STUDY" and tag not in self.dataset:
            tag = 0x00041511
        v = self.dataset.get(tag)
        return None if v is None else _text(v.value)

    @property
    def depth(self) -> int:
        n, node = 0, self.parent
        while node is not None:
            n, node = n + 1, node.parent
        return n

    @property
    def ancestors(self) -> list[RecordNode]:
        """Parent first, up to the top-level record."""
        out, node = [], self.parent
        while node is not None:
            out.append(node)
            node = node.parent
        return out

    def __iter__(self) -> Iterator[RecordNode]:
        """This record and every record below it, depth first."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def __repr__(self) -> str:
        return f"<RecordNode {self.record_type} {self.key}>"


def _text(v: Any) -> str:
    if isinstance(v, list):
        return "\\".join(str(x) for x in v)
    return "" if v is None else str(v)


class FileInstance:
    """An instance of the file-set: the record that references its file."""

    def __init__(self, node: RecordNode, fileset: FileSet, *, source: Any = None) -> None:
        self.node = node
        node.instance = self
        self.fileset = fileset
        #: a path or Dataset to copy in at the next ``write`` (None once it is in the file-set)
        self.source = source
        self.for_removal = False
        #: the source file's bytes, kept from reading it when it is small (written as they are)
        self._data: bytes | None = None
        #: a bare data set (no file meta): written as a Part 10 file, not copied
        self._rewrite = False

    @property
    def FileID(self) -> tuple[str, ...] | None:  # noqa: N802 (pydicom's name)
        v = self.node.dataset.get(0x00041500)
        if v is None or v.value in (None, ""):
            return None
        value = v.value
        return tuple(value) if isinstance(value, list) else (value,)

    @property
    def for_addition(self) -> bool:
        return self.source is not None

    @property
    def path(self) -> str | None:
        """Where the file is: in the file-set, or its source while it waits to be written."""
        if isinstance(self.source, str):
            return self.source
        fid = self.FileID
        if fid is None or self.fileset.path is None:
            return None
        return self.fileset.resolve(fid)

    @property
    def record_type(self) -> str:
        return self.node.record_type

    @property
    def SOPInstanceUID(self) -> str:  # noqa: N802
        return _text(self.node.dataset.get(0x00041511).value)

    @property
    def SOPClassUID(self) -> str:  # noqa: N802
        return _text(self.node.dataset.get(0x00041510).value)

    @property
    def TransferSyntaxUID(self) -> str | None:  # noqa: N802
        e = self.node.dataset.get(0x00041512)
        return None if e is None else _text(e.value)

    def get(self, keyword: str, default: Any = None) -> Any:
        """A key of this instance's record or of a record above it (as pydicom)."""
        tag = tag_for_keyword(keyword)
        if tag is None:
            return default
        for node in (self.node, *self.node.ancestors):
            if tag in node.dataset:
                return node.dataset[tag].value
        return default

    def __getattr__(self, name: str) -> Any:
        if name[:1].isupper():
            sentinel = object()
            v = self.get(name, sentinel)
            if v is not sentinel:
                return v
        raise AttributeError(f"FileInstance has no attribute {name!r}")

    def load(self) -> Dataset:
        """The instance's data set, read from its file (or the Dataset waiting to be added)."""
        from ..reader import read

        if isinstance(self.source, Dataset):
            return self.source
        path = self.path
        if path is None or not os.path.exists(path):
            from ..errors import DicomError

            raise DicomError(f"the file of instance {self.SOPInstanceUID} is missing", path=path)
        return read(path)

    def __repr__(self) -> str:
        return (
            f"<FileInstance {self.record_type} {self.SOPInstanceUID} {'/'.join(self.FileID or ())}>"
        )
