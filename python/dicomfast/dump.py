"""A dcmdump-like text listing of a data set: tag, VR, length, keyword, value,
items indented under their sequence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .tag import format_tag

if TYPE_CHECKING:
    from .dataset import Dataset

UNDEFINED = 0xFFFFFFFF


def _value_text(elem, width: int) -> str:  # type: ignore[no-untyped-def]
    v = elem.value
    if hasattr(v, "nbytes"):
        head = bytes(memoryview(v.ravel()[:8]).cast("B"))[:16] if v.size else b""
        text = "\\".join(f"{b:02x}" for b in head)
        return f"[{text}{'...' if v.nbytes > len(head) else ''}] ({v.nbytes} bytes)"
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    if isinstance(v, list):
        text = "\\".join(str(x) for x in v)
    else:
        text = "" if v is None else str(v)
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 3] + "..."


def format_lines(ds: Dataset, indent: int = 0, width: int = 64) -> list[str]:
    lines = []
    pad = "  " * indent
    for elem in ds:
        length = elem._length if elem._length is not None else None
        ltxt = "u/l" if length == UNDEFINED else ("?" if length is None else str(length))
        kw = elem.keyword or elem.name
        if elem.VR == "SQ":
            lines.append(
                f"{pad}{format_tag(elem.tag)} SQ #{ltxt:<6} {kw} ({len(elem.value)} items)"
            )
            for n, item in enumerate(elem.value, 1):
                lines.append(f"{pad}  (FFFE,E000) item {n}")
                lines.extend(format_lines(item, indent + 2, width))
        else:
            lines.append(
                f"{pad}{format_tag(elem.tag)} {elem.VR} #{ltxt:<6} {kw:<32} {_value_text(elem, width)}"
            )
    return lines


def format_dataset(ds: Dataset, width: int = 64) -> str:
    lines = []
    if ds.file_meta is not None:
        lines.append("# File meta information")
        lines.extend(format_lines(ds.file_meta, 0, width))
        lines.append("# Data set")
    lines.extend(format_lines(ds, 0, width))
    return "\n".join(lines)
