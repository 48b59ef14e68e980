"""Checksums of stored instances, as the archive keeps them.

A checksum is written ``<algorithm>:<hex digest>``.  The archive makes BLAKE3
ones (256 bits, ``blake3:`` and 64 hexadecimal digits): a cryptographic digest,
like SHA-256, at about a quarter of SHA-256's CPU time (5.9 GB/s against 1.4
GB/s on this project's VM), which matters because every received instance is
hashed beside the Storage SCP.  Archives indexed before schema version 5 hold
bare SHA-256 digests (64 hexadecimal digits, no prefix); :func:`matches` checks
both kinds, so nothing has to be hashed again.
"""

from __future__ import annotations

import hashlib
import os
from typing import Protocol

from . import _core

#: The algorithm of new checksums, and its prefix.
ALGORITHM = "blake3"
_PREFIX = ALGORITHM + ":"


class Hasher(Protocol):
    """A running digest (``hashlib``'s interface, as far as the archive uses it)."""

    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...


class Checksum:
    """A running checksum of the archive's kind, fed in pieces (the GIL released
    while a large piece is hashed)."""

    __slots__ = ("_h",)

    def __init__(self) -> None:
        self._h: Hasher = _core.Blake3()

    def update(self, data: bytes | bytearray | memoryview, /) -> None:
        self._h.update(data)

    def value(self) -> str:
        """The checksum as stored: ``blake3:`` and 64 hexadecimal digits."""
        return _PREFIX + self._h.hexdigest()


def of_bytes(data: bytes | bytearray | memoryview) -> str:
    """The checksum of ``data``, as stored."""
    c = Checksum()
    c.update(data)
    return c.value()


def of_file(path: str | os.PathLike[str]) -> str:
    """The checksum of the file at ``path``, as stored (OSError if it cannot be read)."""
    return _PREFIX + _core.blake3_file(os.fspath(path))


def matches(stored: str, path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` has the checksum ``stored``: one of ours, or a bare
    SHA-256 digest of an archive indexed before BLAKE3 (OSError if it cannot be read)."""
    if stored.startswith(_PREFIX):
        return of_file(path) == stored
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest() == stored
