"""``dicomfast archive``: the storage folder's index — import files, query it,
check it against the files (``--repair`` fixes what a crash left), rebuild it."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import DicomError
from .conventions import add_json, emit, progress_bar, say

if TYPE_CHECKING:
    from ..archive import Archive


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", default="./dicomfast-data", help="storage folder (%(default)s)")
    p.add_argument("--db", default=None, metavar="URL", help="index URL (default: SQLite inside)")
    p.add_argument(
        "--duplicates",
        default="keep-first",
        choices=("keep-first", "replace", "keep-both"),
        help="what to do with a SOP Instance UID already stored (%(default)s)",
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("archive", help="manage the archive index of a storage folder")
    asub = p.add_subparsers(dest="archive_command", required=True)

    c = asub.add_parser("check", help="compare the index with the files")
    _common(c)
    c.add_argument("--repair", action="store_true", help="fix the mismatches found")
    c.add_argument(
        "--verify", action="store_true", help="also compare checksums (reads every file)"
    )
    c.add_argument(
        "--temp-age",
        type=float,
        default=3600.0,
        help="temporary files older than this many seconds are left over (%(default)s)",
    )
    add_json(c, "one object per problem (kind, item), then the summary (status)")
    c.set_defaults(run=run_check)

    r = asub.add_parser("reindex", help="rebuild the index from the files alone")
    _common(r)
    r.add_argument(
        "--workers", type=int, default=None, metavar="N", help="worker processes (default: cores)"
    )
    add_json(r, "one object: indexed, seconds")
    r.set_defaults(run=run_reindex)

    i = asub.add_parser("import", help="store and index files and folders")
    _common(i)
    i.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    add_json(i, "one object per file (path, ok[, error]), then the summary (stored, failed)")
    i.set_defaults(run=run_import)

    f = asub.add_parser("find", help="C-FIND on the index, like findscu -k")
    _common(f)
    f.add_argument(
        "-k",
        "--key",
        action="append",
        default=[],
        metavar="KEY[=VALUE]",
        help="query key: keyword or gggg,eeee; Seq[0].Keyword in a sequence item",
    )
    f.add_argument(
        "--model",
        default="STUDY",
        type=str.upper,
        choices=("STUDY", "PATIENT", "WORKLIST"),
        help="information model (default %(default)s)",
    )
    add_json(f, "one DICOM JSON object per match")
    f.set_defaults(run=run_find)


def _open(args: argparse.Namespace, **kw: Any) -> Archive:
    from ..archive import Archive

    try:
        return Archive(args.storage, args.db, args.duplicates, **kw)
    except Exception as e:  # noqa: BLE001 - a bad folder or URL, database errors: exit 2
        print(f"dicomfast archive: cannot open the index: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def run_check(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        rep = archive.check(repair=args.repair, verify=args.verify, temp_age=args.temp_age)
    for label, items in (
        ("acknowledged instance not yet placed (intake file)", rep.intake_files),
        ("temporary file left over", rep.temp_files),
        ("file without index row", rep.files_without_rows),
        ("index row without file", rep.rows_without_files),
        ("index row not matching its file", rep.mismatched),
        ("unreadable file", rep.unreadable),
    ):
        for item in items:
            if args.json:
                emit({"kind": label, "item": item})
            else:
                print(f"{label}: {item}")
    if rep.consistent:
        status = "consistent"
    else:
        status = "repaired" if rep.repaired else "inconsistent (run with --repair)"
    if args.json:
        emit({"status": status.split(" ")[0]})
    else:
        print(status)
    if rep.consistent:
        return 0
    return 0 if rep.repaired and not rep.unreadable else 1


def run_reindex(args: argparse.Namespace) -> int:
    t = time.perf_counter()
    bar: Any = progress_bar(enabled=not args.json)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    with _open(args) as archive:
        try:
            n = archive.reindex(workers=args.workers, progress=progress)
        finally:
            bar.close()
    seconds = time.perf_counter() - t
    if args.json:
        emit({"indexed": n, "seconds": round(seconds, 3)})
    else:
        print(f"indexed {n} instances in {seconds:.1f} s")
    return 0


def _walk(paths: list[str]) -> Iterator[str]:
    for p in paths:
        if os.path.isdir(p):
            for d, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    yield os.path.join(d, f)
        else:
            yield p


def run_import(args: argparse.Namespace) -> int:
    failed = stored = 0
    bar: Any = progress_bar(enabled=not args.json)
    with _open(args) as archive:
        for path in _walk(args.paths):
            res = archive.store(path)
            bar.update(1)
            if res.ok:
                stored += 1
            else:
                failed += 1
                say(f"dicomfast archive import: {path}: {res.comment}", file=sys.stderr, bar=bar)
            if args.json:
                emit(
                    {"path": path, "ok": bool(res.ok), **({} if res.ok else {"error": res.comment})}
                )
    bar.close()
    if args.json:
        emit({"stored": stored, "failed": failed})
    else:
        print(f"stored {stored}, failed {failed}")
    return 1 if failed else 0


def identifier_from_keys(keys: list[str]) -> Any:
    """``-k`` options → an identifier: the query commands' one key parser
    (keywords or ``gggg,eeee``, ``Seq[N].Keyword`` in sequence items)."""
    from .find import identifier_from_keys as parse

    return parse(keys)


def run_find(args: argparse.Namespace) -> int:
    from ..archive import QueryError
    from ..archive import worklist as wl
    from ..dump import format_dataset

    try:
        ident = identifier_from_keys(args.key)
    except (ValueError, DicomError) as e:
        print(f"dicomfast archive find: {e}", file=sys.stderr)
        return 2
    try:
        with _open(args) as archive:
            if args.model == "WORKLIST":
                results = list(wl.find(archive, ident))
            else:
                results = list(archive.find(ident, args.model))
    except QueryError as e:
        print(f"dicomfast archive find: {e} (status 0x{e.status:04X})", file=sys.stderr)
        return 2
    except DicomError as e:
        print(f"dicomfast archive find: {e}", file=sys.stderr)
        return 2
    for i, ds in enumerate(results):
        if args.json:
            emit(ds.to_json_dict())
        else:
            print(f"# match {i + 1}")
            print(format_dataset(ds))
    print(f"# {len(results)} matches", file=sys.stderr)
    return 0
