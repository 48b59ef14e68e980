"""The streaming multipart/related splitter of STOW-RS: parts come out whole and
unchanged whatever the chunk sizes, with delimiters across chunk seams, bytes
that nearly match a delimiter, preamble and epilogue."""

from __future__ import annotations

import random

import pytest
from dicomfast.web.errors import BadRequest
from dicomfast.web.parts import Begin, Data, PartSplitter


def _split(body: bytes, sizes: list[int]) -> tuple[list[tuple[dict[str, str], bytes]], bool]:
    sp = PartSplitter("BOUNDARY")
    events = []
    i = k = 0
    while i < len(body):
        n = sizes[k % len(sizes)]
        events += sp.feed(body[i : i + n])
        i, k = i + n, k + 1
    parts: list[tuple[dict[str, str], bytes]] = []
    headers: dict[str, str] = {}
    data = b""
    for e in events:
        if isinstance(e, Begin):
            headers, data = e.headers, b""
        elif isinstance(e, Data):
            data += bytes(e.data)
        else:
            parts.append((headers, data))
    return parts, sp.complete


def test_parts_whole_whatever_the_chunks() -> None:
    rng = random.Random(15)
    for trial in range(300):
        contents = [
            rng.randbytes(rng.randrange(300)) + (b"\r\n--BOUNDAR" if rng.random() < 0.3 else b"")
            for _ in range(rng.randrange(1, 5))
        ]
        body = (
            (b"preamble\r\n" if trial % 2 else b"")
            + b"".join(
                b"--BOUNDARY\r\nContent-Type: application/dicom\r\n\r\n" + c + b"\r\n"
                for c in contents
            )
            + b"--BOUNDARY--\r\nepilogue"
        )
        sizes = [rng.randrange(1, 40) for _ in range(5)] if trial % 3 else [len(body)]
        parts, complete = _split(body, sizes)
        assert complete, trial
        assert [p[1] for p in parts] == contents, (trial, sizes)
        assert all(p[0] == {"content-type": "application/dicom"} for p in parts)


def test_truncated_body_and_endless_headers() -> None:
    parts, complete = _split(b"--BOUNDARY\r\n\r\nabc", [3])
    assert not complete and parts == []
    with pytest.raises(BadRequest):
        _split(b"--BOUNDARY\r\n" + b"X" * (20 << 10), [4096])
