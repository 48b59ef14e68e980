"""A DICOMDIR (PS3.3 F.3 Basic Directory IOD) → the tree of its directory records.

Records are linked by byte offsets (PS3.3 F.3.2.1): the root's first record, each
record's next sibling and its first child.  Real media carry wrong offsets: an
offset that points at no record, a loop, records no offset reaches.  Then the tree
is rebuilt from the order of the Directory Record Sequence (patient, its studies,
their series, their instances: the order every writer uses) and each repair is
reported.  Every record is visited once, so no DICOMDIR makes this loop forever.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..dataset import Dataset
from ..errors import InvalidDicomError
from ._tables import RECORD_KEYS
from .hierarchy import ROOT_TYPES, level_of
from .records import RecordNode

OFFSET_FIRST = 0x00041200
OFFSET_LAST = 0x00041202
RECORD_SEQUENCE = 0x00041220
OFFSET_NEXT = 0x00041400
IN_USE = 0x00041410
OFFSET_LOWER = 0x00041420
RECORD_TYPE = 0x00041430


def _as_int(v: Any) -> int:
    if isinstance(v, list):
        v = v[0] if v else 0
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return -1


def _as_type(v: Any) -> str:
    return (v[0] if isinstance(v, list) and v else v or "").strip().upper() or "UNKNOWN"


def _int(item: Dataset, tag: int) -> int:
    e = item.get(tag)
    return 0 if e is None else _as_int(e.value)


def _record_type(item: Dataset) -> str:
    e = item.get(RECORD_TYPE)
    return _as_type("" if e is None else e.value)


class _Link(NamedTuple):
    """What a record says of its place: next sibling's and first child's offsets, its
    In-use Flag (and whether it has one), its type."""

    next: int
    in_use: int
    has_in_use: bool
    lower: int
    type: str


_LINK_TAGS = [OFFSET_NEXT, IN_USE, OFFSET_LOWER, RECORD_TYPE]


def _links(items: list[Dataset]) -> list[_Link]:
    """The :class:`_Link` of each record: its four elements looked up in one call to
    its file's index (plain numbers and text converted by it), else read one by one."""
    out = []
    for it in items:
        raw = it._raw
        found = raw.find(it._node, _LINK_TAGS) if raw is not None and it._map is None else None
        if found is None or any(f is not None and not f[1] for f in found):
            out.append(
                _Link(
                    _int(it, OFFSET_NEXT),
                    _int(it, IN_USE),
                    IN_USE in it,
                    _int(it, OFFSET_LOWER),
                    _record_type(it),
                )
            )
            continue
        nxt, use, low, kind = (None if f is None else f[2] for f in found)
        has_use = found[1] is not None
        out.append(_Link(_as_int(nxt), _as_int(use), has_use, _as_int(low), _as_type(kind or "")))
    return out


def parse_records(ds: Dataset, path: str | None, repairs: list[str]) -> list[RecordNode]:
    """The top-level records of the DICOMDIR ``ds`` with their subtrees."""
    if RECORD_SEQUENCE not in ds:
        raise InvalidDicomError(
            "not a DICOMDIR: no Directory Record Sequence (0004,1220)", path=path
        )
    items = list(ds[RECORD_SEQUENCE].value)
    raw = ds._raw
    located = raw is not None and not raw.deflated
    at: dict[int, int] = {}
    if located:
        for i, item in enumerate(items):
            at[raw.node_info(item._node)[4]] = i
    links = _links(items)
    nodes = [
        RecordNode(link.type, it, offset=(raw.node_info(it._node)[4] if located else None))
        for it, link in zip(items, links, strict=True)
    ]
    problems: list[str] = []
    if not located:
        repairs.append("the DICOMDIR is deflated: records taken in sequence order")
        return _from_order(links, nodes, repairs)
    roots = _follow_offsets(links, nodes, at, _int(ds, OFFSET_FIRST), problems)
    if not problems:
        last = _int(ds, OFFSET_LAST)
        if roots and last != roots[-1].offset:
            repairs.append(
                f"the offset of the last root record is {last}, not {roots[-1].offset}: corrected"
            )
        return roots
    repairs.extend(problems)
    # Second try: the records no offset points at are the roots; the other links hold.
    targets = {link.next for link in links} | {link.lower for link in links}
    heads = [i for i, n in enumerate(nodes) if n.offset not in targets and links[i].in_use != 0]
    relinked: list[str] = []
    roots = []
    _reset(nodes)
    seen: set[int] = set()
    for i in heads:
        if i not in seen:
            roots += _follow_offsets(
                links, nodes, at, nodes[i].offset or 0, relinked, seen=seen, partial=True
            )
    # A head that is a known record type of a lower level means the links are broken too.
    misplaced = any(
        nodes[i].record_type in RECORD_KEYS and level_of(nodes[i].record_type) for i in heads
    )
    if heads and not misplaced and not relinked and _reached(roots) == _in_use(links):
        repairs.append("the root records were found as the records no offset points at")
        return roots
    _reset(nodes)
    repairs.append("the record tree was rebuilt from the order of the Directory Record Sequence")
    return _from_order(links, nodes, repairs)


def _reset(nodes: list[RecordNode]) -> None:
    for n in nodes:
        n.parent, n.children = None, []


def _reached(roots: list[RecordNode]) -> int:
    return sum(1 for r in roots for _ in r)


def _in_use(links: list[_Link]) -> int:
    return sum(1 for link in links if link.in_use != 0)


def _follow_offsets(
    links: list[_Link],
    nodes: list[RecordNode],
    at: dict[int, int],
    first: int,
    problems: list[str],
    *,
    seen: set[int] | None = None,
    partial: bool = False,
) -> list[RecordNode]:
    """The chain of records from ``first`` with their subtrees; what is wrong goes to
    ``problems``.  ``partial``: one chain among several (records left out are no problem)."""
    seen = set() if seen is None else seen

    def chain(offset: int, parent: RecordNode | None, what: str) -> list[RecordNode]:
        out: list[RecordNode] = []
        while offset:
            i = at.get(offset)
            if i is None:
                problems.append(f"{what} offset {offset} points at no directory record")
                break
            if i in seen:
                problems.append(
                    f"{what} offset {offset} leads back to a record already reached (a loop)"
                )
                break
            seen.add(i)
            node = nodes[i]
            node.parent = parent
            out.append(node)
            offset = links[i].next
            what = f"the next-record offset of the {node.record_type} record at {node.offset}:"
            if offset < 0:
                problems.append(f"{what} not a number")
                break
        return out

    if first == 0 and links:
        problems.append("the offset of the first root record is 0 or missing")
        return []
    roots = chain(first, None, "the first root record")
    stack = list(roots)
    while stack:
        node = stack.pop()
        lower = links[at[node.offset]].lower if node.offset in at else 0
        if lower:
            node.children = chain(
                lower,
                node,
                f"the lower-level offset of the {node.record_type} record at {node.offset}:",
            )
            stack.extend(node.children)
    unreached = [i for i in range(len(links)) if i not in seen and links[i].in_use != 0]
    if unreached and not partial:
        problems.append(f"{len(unreached)} records in use are reached by no offset")
    return roots


def _from_order(
    links: list[_Link], nodes: list[RecordNode], repairs: list[str]
) -> list[RecordNode]:
    roots: list[RecordNode] = []
    stack: list[RecordNode] = []
    for link, node in zip(links, nodes, strict=True):
        if link.in_use == 0 and link.has_in_use:
            continue  # an inactive (deleted) record
        if node.record_type == "PRIVATE":
            parent = stack[-1] if stack else None
        else:
            level = level_of(node.record_type)
            while stack and (
                level_of(stack[-1].record_type) >= level or stack[-1].record_type == "PRIVATE"
            ):
                stack.pop()
            parent = stack[-1] if stack else None
            want = level - 1
            if level > 0 and (parent is None or level_of(parent.record_type) != want):
                above = parent.record_type if parent else "the root"
                repairs.append(
                    f"the {node.record_type} record at {node.offset} has no record of the level above it (under {above})"
                )
            if level == 0 and node.record_type not in ROOT_TYPES:
                repairs.append(
                    f"the record at {node.offset} has an unknown type {node.record_type!r}: taken as a top-level record"
                )
        node.parent = parent
        (parent.children if parent else roots).append(node)
        stack.append(node)
    return roots
