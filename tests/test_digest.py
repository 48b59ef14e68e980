"""The archive's checksums (dicomfast.digest): BLAKE3 as its specification gives it,
the same fed whole, in pieces or from a file, and the SHA-256 digests of archives
indexed before schema version 5 still verified."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from dicomfast import digest


@pytest.mark.parametrize(
    ("data", "hex_digest"),
    [  # the BLAKE3 paper's / reference implementation's test vectors
        (b"", "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"),
        (b"abc", "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"),
    ],
)
def test_blake3_known_answers(data: bytes, hex_digest: str) -> None:
    assert digest.of_bytes(data) == "blake3:" + hex_digest


def test_pieces_of_any_buffer_kind_and_files_agree(tmp_path: Path) -> None:
    data = random.Random(5).randbytes(3 * 1024 * 1024 + 17)
    whole = digest.of_bytes(data)
    c = digest.Checksum()
    view = memoryview(data)
    at, rng = 0, random.Random(6)
    kinds = (bytes, bytearray, memoryview)
    while at < len(data):  # small pieces (hashed holding the GIL) and large ones
        n = rng.choice([1, 100, 4095, 4096, 65_536, 700_001])
        c.update(kinds[at % 3](view[at : at + n]))
        at += n
    assert c.value() == whole
    path = tmp_path / "f.dcm"
    path.write_bytes(data)
    assert digest.of_file(path) == whole
    assert digest.matches(whole, path)


def test_legacy_sha256_and_ours_both_catch_a_changed_byte(tmp_path: Path) -> None:
    path = tmp_path / "f.dcm"
    data = bytearray(random.Random(7).randbytes(100_000))
    path.write_bytes(data)
    ours, legacy = digest.of_file(path), hashlib.sha256(data).hexdigest()
    assert digest.matches(ours, path) and digest.matches(legacy, path)
    data[54_321] ^= 1
    path.write_bytes(data)
    assert not digest.matches(ours, path)
    assert not digest.matches(legacy, path)
    with pytest.raises(OSError):
        digest.of_file(tmp_path / "missing.dcm")
