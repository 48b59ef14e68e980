"""Task functions for the crash tests: importable by worker processes."""

from __future__ import annotations

import os
from typing import Any

from dicomfast.batch import convert, files
from dicomfast.batch.sources import Source


def crash_while_writing(src: Source, opts: convert.ConvertOptions) -> dict[str, Any]:
    """convert_file, but the worker process dies half-way through writing the output
    of any file whose name contains 'CRASH'."""
    if "CRASH" in src.rel:
        real = files.write_chunks

        def half_then_die(tmp: str, chunks: Any, *, fsync: bool = True, pending: Any = None) -> int:
            if pending is not None:
                pending.decode()
            data = b"".join(bytes(c) for c in chunks)
            with open(tmp, "wb") as fh:
                fh.write(data[: len(data) // 2])
            os._exit(3)
            return real(tmp, chunks, fsync=fsync, pending=pending)

        convert.files.write_chunks = half_then_die  # type: ignore[assignment]
    return convert.convert_file(src, opts)


def identity(x: int) -> dict[str, Any]:
    return {"src": str(x), "status": "converted", "bytes_in": 0}
