"""Reading a ``multipart/related`` body as it arrives (RFC 2046 5.1, PS3.18 8.7.1.2),
for STOW-RS: :class:`PartSplitter` turns the received chunks into events — a
part begins (with its headers), bytes of the part, the part ends — whose bytes
are :class:`memoryview` slices of the received chunks: a part's content is never
copied or joined in memory, it goes from the chunk the socket gave straight to
its file.

The delimiter ``CRLF--boundary`` is searched in each chunk (``bytes.find``) and
across the seam between two chunks (the last ``len(delimiter) - 1`` bytes of a
chunk are held back until the next one shows they do not start a delimiter).
Part headers are small and are the only bytes collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import BadRequest

MAX_HEADERS = 16 << 10


@dataclass
class Begin:
    """A part begins; its headers, names in lower case."""

    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Data:
    data: memoryview | bytes


@dataclass
class End:
    """The current part ended (its closing delimiter was seen)."""


Event = Begin | Data | End

_BODY, _AFTER_DELIMITER, _HEADERS, _DONE = range(4)


def _headers(block: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            out[name.strip().lower()] = value.strip()
    return out


class PartSplitter:
    """Feed the body's chunks in order (:meth:`feed`); :attr:`complete` once the
    closing delimiter was seen (else the last part never ended).  The preamble before the first delimiter and the epilogue after the last are
    dropped.  Raises :class:`BadRequest` for part headers that never end."""

    def __init__(self, boundary: str) -> None:
        if not boundary:
            raise BadRequest("the multipart/related Content-Type has no boundary")
        self._delim = b"\r\n--" + boundary.encode("latin-1")
        self._state = _BODY
        self._in_part = False  # the preamble is a "part" whose bytes are dropped
        self._held = b"\r\n"  # so that a delimiter at the very start is found
        self._small = b""  # bytes of the non-body states (headers, after a delimiter)
        self.complete = False  # the closing delimiter was seen

    def feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        self._feed(chunk, out)
        return out

    def _emit(self, out: list[Event], data: memoryview | bytes) -> None:
        if self._in_part and len(data):
            out.append(Data(data))

    def _feed(self, chunk: bytes, out: list[Event]) -> None:
        pos = 0
        keep = len(self._delim) - 1
        while True:
            if self._state == _DONE:
                return
            if self._state == _BODY:
                if pos >= len(chunk):
                    return
                if self._held and len(chunk) - pos < keep:  # a tiny chunk: gather it
                    chunk, pos, self._held = self._held + chunk[pos:], 0, b""
                pos = self._body(chunk, pos, out)
            else:
                # headers and the bytes after a delimiter: small, gathered across chunks
                if self._small:
                    chunk, pos, self._small = self._small + chunk[pos:], 0, b""
                if pos >= len(chunk):
                    return
                pos = self._after(chunk, pos, out)
                if pos < 0:  # the rest was kept for the next chunk
                    return

    def _body(self, chunk: bytes, pos: int, out: list[Event]) -> int:
        """Consume part content from ``chunk[pos:]`` (at least ``len(delimiter) - 1``
        bytes when some are held); the position after the delimiter when one was
        found (the state then moves on), else ``len(chunk)``."""
        d = self._delim
        keep = len(d) - 1
        if self._held:
            held, self._held = self._held, b""
            i = (held + chunk[pos : pos + keep]).find(d)
            if 0 <= i < len(held):
                self._emit(out, held[:i])
                return self._delimited(pos + i + len(d) - len(held))
            self._emit(out, held)
        view = memoryview(chunk)
        i = chunk.find(d, pos)
        if i >= 0:
            self._emit(out, view[pos:i])
            return self._delimited(i + len(d))
        cut = max(pos, len(chunk) - keep)
        self._emit(out, view[pos:cut])
        self._held = bytes(chunk[cut:])
        return len(chunk)

    def _delimited(self, after: int) -> int:
        self._state = _AFTER_DELIMITER
        return after

    def _after(self, chunk: bytes, pos: int, out: list[Event]) -> int:
        """The non-body states on ``chunk[pos:]``; the next position, or -1 when the
        rest was kept for the next chunk."""
        if self._state == _AFTER_DELIMITER:
            if len(chunk) - pos < 2:
                self._small = bytes(chunk[pos:])
                return -1
            if self._in_part:
                out.append(End())
                self._in_part = False
            if chunk[pos : pos + 2] == b"--":
                self._state = _DONE
                self.complete = True
                return len(chunk)
            eol = chunk.find(b"\r\n", pos)  # transport padding up to the line end
            if eol < 0:
                self._small = bytes(chunk[pos:])
                return -1
            self._state = _HEADERS
            pos = eol + 2
        # _HEADERS: up to the empty line (none at all when the part starts with it)
        if chunk[pos : pos + 2] == b"\r\n":
            end, skip = pos, 2
        else:
            end, skip = chunk.find(b"\r\n\r\n", pos), 4
        if end < 0:
            if len(chunk) - pos > MAX_HEADERS:
                raise BadRequest("a part's headers are longer than 16 KiB")
            self._small = bytes(chunk[pos:])
            return -1
        out.append(Begin(_headers(bytes(chunk[pos:end]))))
        self._in_part = True
        self._state = _BODY
        return end + skip
