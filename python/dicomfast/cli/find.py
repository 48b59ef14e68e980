"""``dicomfast find HOST PORT -k PatientName=DOE* -k StudyDate=20240101-20241231``:
C-FIND SCU (Study Root by default; ``--model patient``), results as a table
or as DICOM JSON (``--json``: JSON Lines, one object per match).  Also the helpers the other
query/retrieve commands share (``-k`` keys → identifier, one association)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import DicomError
from ..net.cliopts import add_common, ssl_from_args
from .conventions import add_json, emit

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")


def add_key_options(
    p: argparse.ArgumentParser, *, level: bool = True, worklist: bool = False
) -> None:
    p.add_argument("host", help="the peer's host name or address")
    p.add_argument("port", type=int, help="the peer's port")
    p.add_argument(
        "-k",
        "--key",
        action="append",
        default=[],
        metavar="KEY[=VALUE]",
        help="query key: keyword or gggg,eeee; Seq.Keyword or Seq[N].Keyword in a sequence "
        "item (gggg,eeee[N].gggg,eeee too); no value = return it (universal matching)",
    )
    if level:
        p.add_argument(
            "--level",
            default=None,
            type=str.upper,
            choices=LEVELS,
            help="Query/Retrieve Level (default STUDY, PATIENT for --model patient)",
        )
        models = ("study", "patient", "worklist") if worklist else ("study", "patient")
        p.add_argument(
            "--model",
            default="study",
            choices=models,
            help="information model: Study Root (default), Patient Root"
            + (", Modality Worklist" if worklist else ""),
        )
        g = p.add_mutually_exclusive_group()
        g.add_argument(
            "-P", dest="model", action="store_const", const="patient", help="= --model patient"
        )
        g.add_argument(
            "-S", dest="model", action="store_const", const="study", help="= --model study"
        )
        if worklist:
            g.add_argument(
                "-W",
                dest="model",
                action="store_const",
                const="worklist",
                help="= --model worklist (what dicomfast mwl does)",
            )
    add_common(p)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("find", help="C-FIND SCU (Patient/Study Root query)")
    add_key_options(p, worklist=True)
    add_json(p, "one DICOM JSON object per match")
    p.set_defaults(run=run)


def _tag_of(name: str) -> int:
    from ..dictionary import tag_for_keyword

    s = name.strip().strip("()")
    if "," in s:
        g, e = s.split(",")
        return int(g, 16) << 16 | int(e, 16)
    if len(s) == 8 and all(c in "0123456789abcdefABCDEF" for c in s):
        return int(s, 16)
    tag = tag_for_keyword(s)
    if tag is None:
        raise ValueError(f"unknown keyword {name!r}")
    return int(tag)


def _indexed(part: str) -> tuple[str, int]:
    """``Name[N]`` → (Name, N); ``Name`` → (Name, 0)."""
    name, bracket, rest = part.partition("[")
    if not bracket:
        return part, 0
    if not rest.endswith("]") or not rest[:-1].isdigit():
        raise ValueError(f"bad sequence item index in {part!r}")
    return name, int(rest[:-1])


def identifier_from_keys(keys: list[str], level: str | None = None) -> Any:
    """``-k`` options → an identifier: the one parser of query keys for every
    command (``find``, ``move``, ``get``, ``mwl``, ``archive find``).  A key is a
    keyword, ``gggg,eeee``, ``(gggg,eeee)`` or ``ggggeeee``; ``Seq.Keyword=v``
    (DCMTK: ``Seq[0].Keyword=v``) sets a key inside an item of a sequence,
    ``Seq[N]`` the N-th item; ``Seq`` alone asks for the whole sequence."""
    from ..dataset import Dataset, Sequence
    from ..dictionary import dictionary_vr
    from ..element import DataElement

    ds = Dataset()
    if level:
        ds[0x00080052] = DataElement(0x00080052, "CS", level)
    for k in keys:
        name, _, value = k.partition("=")
        parts = name.split(".")
        target = ds
        for seq in parts[:-1]:
            seq, index = _indexed(seq)
            t = _tag_of(seq)
            if t not in target or not target[t].value:
                target[t] = DataElement(t, "SQ", Sequence([Dataset()]))
            items = target[t].value
            while len(items) <= index:
                items.append(Dataset())
            target = items[index]
        tag = _tag_of(_indexed(parts[-1])[0])
        vr = dictionary_vr(tag) or "UN"
        if vr == "SQ":
            target[tag] = DataElement(tag, "SQ", Sequence([]))
            continue
        v: Any = value.split("\\") if "\\" in value else value
        if vr in ("US", "SS", "UL", "SL", "IS") and value and "\\" not in value:
            try:
                v = int(value)
            except ValueError:
                pass
        elif vr in ("FL", "FD", "DS") and value and "\\" not in value:
            try:
                v = float(value)
            except ValueError:
                pass
        if vr in ("US", "SS", "UL", "SL", "FL", "FD") and value == "":
            v = None
        target[tag] = DataElement(tag, vr, v)
    return ds


def scu_ae(args: argparse.Namespace, contexts: list[tuple[str, Any]]) -> Any:
    from ..net import AE

    ae = AE(
        args.aet,
        maximum_pdu_size=args.max_pdu,
        acse_timeout=args.timeout,
        dimse_timeout=args.timeout,
        connect_timeout=args.timeout,
    )
    for sop, ts in contexts:
        ae.add_requested_context(sop, ts)
    return ae


def associate(args: argparse.Namespace, ae: Any, contexts: Any = None) -> Any:
    return ae.associate(
        args.host,
        args.port,
        ae_title=args.aec,
        contexts=contexts,
        ssl_context=ssl_from_args(args, server=False),
    )


def default_level(args: argparse.Namespace) -> str:
    return args.level or ("PATIENT" if args.model == "patient" else "STUDY")


def format_value(elem: Any) -> str:
    v = elem.value
    if elem.VR == "SQ":
        return f"({len(v or [])} items)"
    if v is None:
        return ""
    if isinstance(v, list):
        return "\\".join(str(x) for x in v)
    return str(v)


def print_results(results: list[Any], as_json: bool) -> None:
    if as_json:
        for r in results:
            emit(r.to_json_dict())
        return
    from ..dictionary import keyword_for_tag

    tags: list[int] = []
    for r in results:
        for e in r:
            if e.tag not in tags and e.tag not in (0x00080005,):
                tags.append(e.tag)
    if not tags:
        return
    heads = [keyword_for_tag(t) or f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in tags]
    rows = [[format_value(r[t]) if t in r else "" for t in tags] for r in results]
    widths = [min(40, max(len(h), *(len(row[i]) for row in rows))) for i, h in enumerate(heads)]
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(c[:w].ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def run_query(args: argparse.Namespace, model: str, identifier: Any, prog: str) -> int:
    from ..net.services.find import sop_class_for

    sop_class = sop_class_for("find", model)
    results: list[Any] = []
    try:
        ae = scu_ae(args, [(sop_class, None)])
        with associate(args, ae) as assoc:
            final = None
            for status, ds in assoc.send_c_find(identifier, model):
                if status.category == "Pending":
                    if ds is not None:
                        results.append(ds)
                else:
                    final = status
    except (DicomError, OSError, ValueError) as e:
        print(f"dicomfast {prog}: {e}", file=sys.stderr)
        return 2
    print_results(results, args.json)
    print(f"# {len(results)} matches, final status 0x{int(final or 0):04X}", file=sys.stderr)
    if final is not None and final.category not in ("Success", "Warning"):
        comment = f" ({final.ErrorComment})" if final.ErrorComment else ""
        print(f"dicomfast {prog}: C-FIND failed: 0x{int(final):04X}{comment}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    worklist = args.model == "worklist"
    try:
        ident = identifier_from_keys(args.key, None if worklist else default_level(args))
    except (ValueError, DicomError) as e:
        print(f"dicomfast find: {e}", file=sys.stderr)
        return 2
    return run_query(args, args.model, ident, "find")
