"""Keyed, repeatable replacements: one secret key gives the same new UID for a UID,
the same pseudonym for a patient and the same date offset for a patient in every
run (HMAC-SHA256; without the key none of them can be reversed or recomputed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from ..errors import DeidentificationError

#: Dates are moved back by 1 to this many days (per patient, from the key).
MAX_DATE_OFFSET_DAYS = 3650


def load_key(path: str | os.PathLike[str]) -> bytes:
    """The secret key in a file (its bytes, surrounding white space removed)."""
    try:
        with open(path, "rb") as fh:
            key = fh.read().strip()
    except OSError as e:
        raise DeidentificationError(f"cannot read the key file: {e}", path=os.fspath(path)) from e
    if len(key) < 16:
        raise DeidentificationError("the key file holds fewer than 16 bytes", path=os.fspath(path))
    return key


def new_key() -> bytes:
    """A random key (UIDs are then consistent within one run only)."""
    return secrets.token_hex(32).encode()


def as_key(key: bytes | str | None) -> bytes:
    if key is None:
        return _PROCESS_KEY
    if isinstance(key, str):
        key = key.encode()
    if len(key) < 16:
        raise DeidentificationError("the key must hold at least 16 bytes")
    return bytes(key)


_PROCESS_KEY = new_key()


def _mac(key: bytes, purpose: bytes, value: str) -> bytes:
    return hmac.new(
        key, purpose + b"\0" + value.encode("utf-8", "surrogateescape"), hashlib.sha256
    ).digest()


def uid_for(key: bytes, uid: str) -> str:
    """A ``2.25.`` UID (PS3.5 B.2) from the first 128 bits of HMAC-SHA256(key, uid)."""
    return "2.25." + str(int.from_bytes(_mac(key, b"uid", uid)[:16], "big"))


def pseudonym(key: bytes, patient: str) -> str:
    """A patient pseudonym: ``ANON`` + 16 base32 characters of HMAC-SHA256(key, id)."""
    return "ANON" + base64.b32encode(_mac(key, b"patient", patient)[:10]).decode()


def date_offset_days(key: bytes, patient: str) -> int:
    """Days (1 .. MAX_DATE_OFFSET_DAYS) that this patient's dates are moved back."""
    n = int.from_bytes(_mac(key, b"dates", patient)[:8], "big")
    return 1 + n % MAX_DATE_OFFSET_DAYS
