"""Who dicomfast is in the files and associations it makes, and new random UIDs:
what a short command needs without :mod:`dicomfast.uid` (whose PS3.6 registry it
builds at import)."""

from __future__ import annotations

import os

from . import _core

#: The dicomfast implementation's identity in file meta and associations.
IMPLEMENTATION_CLASS_UID = (
    "2.25.123176246028245167176787810071653464500"  # a 2.25 UUID UID, fixed for dicomfast 0.x
)
#: "DICOMFAST_" + the version (PS3.7 D.3.3.2: 1 to 16 characters; tests/test_version.py
#: checks the length), from the one version number the Rust build embeds in ``_core``.
IMPLEMENTATION_VERSION_NAME = "DICOMFAST_" + _core.__version__


def uuid4_int() -> int:
    """A random (version 4) UUID as an integer, as ``uuid.uuid4().int`` gives it
    (RFC 9562 5.4: 122 random bits, the version and variant bits set), without
    importing ``uuid`` (and ``hashlib``, ``platform`` with it: ~3 ms of a short command)."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return int.from_bytes(b, "big")


def new_uid() -> str:
    """A new UID under the ``2.25`` arc: a random UUID as an integer (PS3.5 B.2), as
    :func:`dicomfast.uid.generate_uid` makes by default."""
    return "2.25." + str(uuid4_int())
