"""``dicomfast media create|ls|add|remove|verify``: DICOM File-sets (DICOMDIR)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from ..errors import DicomError
from ..media._tables import PROFILES
from ..tempfiles import create_temp

if TYPE_CHECKING:
    from ..media import FileSet
    from ..media.profiles import Conformer
from .conventions import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("media", help="create, list, change and verify DICOM File-sets (DICOMDIR)")
    msub = p.add_subparsers(dest="media_command", required=True)

    kind = msub._parser_class
    msub._parser_class = _CreateParser  # its retrieval options only when needed
    try:
        c = msub.add_parser(
            "create",
            help="copy instances (or retrieve them with --from) into a new File-set with a DICOMDIR",
        )
    finally:
        msub._parser_class = kind
    c.add_argument("out", metavar="OUT_DIR")
    c.add_argument("paths", nargs="*", metavar="PATH", help="files or folders of instances")
    c.add_argument("--fileset-id", default="", help="File-set ID (0004,1130), up to 16 characters")
    add_profile_options(c)
    c.add_argument("--zip", metavar="OUT.zip", help="also pack the File-set into a zip file")
    c.add_argument(
        "--no-fsync", action="store_true", help="do not flush the DICOMDIR (faster, not durable)"
    )
    c.set_defaults(run=run_create, source=None)

    ix = msub.add_parser(
        "index",
        help="write a DICOMDIR for the instances already in DIR under valid File IDs "
        "(nothing copied or moved; as DCMTK's dcmmkdir)",
    )
    ix.add_argument("path", metavar="DIR")
    ix.add_argument("--fileset-id", default="", help="File-set ID (0004,1130), up to 16 characters")
    ix.add_argument(
        "--no-fsync", action="store_true", help="do not flush the files and the DICOMDIR"
    )
    ix.set_defaults(run=run_index)

    ls = msub.add_parser("ls", help="list the instances of a File-set")
    ls.add_argument("path", metavar="DICOMDIR_OR_DIR")
    ls.add_argument("--json", action="store_true", help="one JSON object per instance (JSON Lines)")
    ls.set_defaults(run=run_ls)

    a = msub.add_parser("add", help="add instances to a File-set")
    a.add_argument("path", metavar="DIR")
    a.add_argument("paths", nargs="+", metavar="PATH")
    add_profile_options(a)
    a.set_defaults(run=run_add)

    r = msub.add_parser(
        "remove", help="remove instances (by SOP Instance UID or File ID) from a File-set"
    )
    r.add_argument("path", metavar="DIR")
    r.add_argument("which", nargs="*", metavar="UID_OR_FILE_ID")
    r.add_argument(
        "--patient-id", action="append", default=[], help="remove this patient (repeatable)"
    )
    r.add_argument(
        "--study-uid", action="append", default=[], help="remove this study (repeatable)"
    )
    r.add_argument(
        "--series-uid", action="append", default=[], help="remove this series (repeatable)"
    )
    r.set_defaults(run=run_remove)

    v = msub.add_parser("verify", help="check a File-set; non-zero exit on any problem")
    v.add_argument("path", metavar="DIR")
    v.add_argument("--repair", action="store_true", help="rewrite the DICOMDIR from the files")
    v.set_defaults(run=run_verify)


def add_profile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="PS3.11 application profile to meet: an instance in a transfer syntax it does "
        "not allow is converted (images to its lossless compression, e.g. JPEG Lossless SV1)",
    )
    p.add_argument(
        "-t",
        "--transfer-syntax",
        metavar="NAME_OR_UID",
        help="write every image in this transfer syntax (as for dicomfast convert: jpeg-ll, "
        "j2k, explicit-le, ...; a lossy one such as jpeg only when named here), which the "
        "profile must allow",
    )


def _conformer(args: argparse.Namespace) -> Conformer | None:
    """The profile / transfer syntax conversion asked for (None: copies as they are)."""
    if not args.profile and not args.transfer_syntax:
        return None
    from ..batch.syntaxes import transfer_syntax_for
    from ..media.profiles import conformer

    ts = transfer_syntax_for(args.transfer_syntax) if args.transfer_syntax else None
    return conformer(args.profile, ts)


def _say_notes(what: str, conform: Conformer | None) -> None:
    for note in conform.notes if conform is not None else ():
        print(f"dicomfast media {what}: {note}", file=sys.stderr)


def _fail(what: str, e: BaseException) -> int:
    print(f"dicomfast media {what}: {e}", file=sys.stderr)
    return 1


def _inputs(paths: list[str]) -> list[str]:
    """The files PATHs stand for: a file as given; of a folder, its files as
    ``os.walk`` sorted gives them, but DICOMDIRs and names starting with a dot."""
    from .. import _core

    return _core.fileset_sources(paths)


def _add_all(fs: FileSet, paths: list[str]) -> int:
    from .conventions import progress_bar

    files = _inputs(paths)
    bar: Any = progress_bar(total=len(files), unit="file")
    try:
        for start in range(0, len(files), 512):
            fs.add_many(files[start : start + 512])
            bar.update(len(files[start : start + 512]))
    finally:
        bar.close()
    return len(files)


def _new_or_empty(folder: str) -> bool:
    if not os.path.exists(folder):
        return True
    return os.path.isdir(folder) and not os.listdir(folder)


def run_create(args: argparse.Namespace) -> int:
    if bool(args.paths) == bool(args.source):
        print(
            "dicomfast media create: give PATHs or --from HOST PORT (one of them)", file=sys.stderr
        )
        return EXIT_USAGE
    if args.source:
        return create_from(args)
    try:
        conform = _conformer(args)
    except (DicomError, ValueError) as e:
        print(f"dicomfast media create: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if os.path.exists(os.path.join(args.out, "DICOMDIR")):
            raise DicomError("a File-set is already there (use media add)", path=args.out)
        if conform is None and _new_or_empty(args.out):
            # plain copies into a new folder: made by the core in one call
            from ..media.bulk import create

            sources = _inputs(args.paths)
            n = create(args.out, sources, fileset_id=args.fileset_id, fsync=not args.no_fsync)
        else:
            from ..media import FileSet

            fs = FileSet()
            fs.ID = args.fileset_id
            n = _add_all(fs, args.paths)
            fs.write(args.out, transfer_syntax_of=conform, fsync=not args.no_fsync)
        if args.zip:
            _zip(args.out, args.zip)
    except (DicomError, OSError) as e:
        return _fail("create", e)
    _say_notes("create", conform)
    print(f"{n} instances in {args.out}", file=sys.stderr)
    return 0


class _CreateParser(argparse.ArgumentParser):
    """The parser of ``media create``: its retrieval options (``--from`` and the
    network options, whose module loads the network stack, ~30 ms of a ~0.1 s
    command) are added when the command line has ``--from`` or help is shown."""

    _retrieval = False

    def _with_retrieval(self) -> None:
        if not self._retrieval:
            self._retrieval = True
            add_retrieve_options(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if args is None or "--from" in args:
            self._with_retrieval()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._with_retrieval()
        return super().format_help()

    def format_usage(self) -> str:
        self._with_retrieval()
        return super().format_usage()


def add_retrieve_options(c: argparse.ArgumentParser) -> None:
    from ..net.cliopts import add_common
    from .find import LEVELS

    g = c.add_argument_group("retrieving from a peer (C-GET straight into the File-set)")
    g.add_argument(
        "--from",
        dest="source",
        nargs=2,
        metavar=("HOST", "PORT"),
        help="retrieve the instances the -k keys select from this peer (C-GET)",
    )
    g.add_argument(
        "-k",
        "--key",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="retrieve key as for dicomfast get: keyword or gggg,eeee (e.g. StudyInstanceUID=1.2.3)",
    )
    g.add_argument(
        "--level", type=str.upper, choices=LEVELS, help="Query/Retrieve Level (default STUDY)"
    )
    g.add_argument(
        "--model",
        default="study",
        choices=("study", "patient"),
        help="information model: Study Root (default) or Patient Root",
    )
    g.add_argument(
        "--keep-partial",
        action="store_true",
        help="if the retrieval fails part-way, keep what arrived as a File-set (exit 1)",
    )
    add_common(c)


def create_from(args: argparse.Namespace) -> int:
    """``media create OUT_DIR --from HOST PORT -k ...``: each instance the C-GET
    delivers is written under its File ID as it arrives (FileSet.store), the
    DICOMDIR at the end.  A retrieval that does not end in Success leaves no
    File-set: the files stored are deleted again (and OUT_DIR if it was made),
    because a folder with a DICOMDIR is taken by readers and burners for the
    whole study; ``--keep-partial`` writes the DICOMDIR of what arrived instead."""
    from ..media import FileSet
    from ..net.contexts import DEFAULT_TRANSFER_SYNTAXES, PresentationContext
    from ..net.services.find import sop_class_for
    from ..net.services.get import storage_contexts_for_get
    from ..syntaxes import get as transfer_syntax_row
    from .find import associate, default_level, identifier_from_keys, scu_ae
    from .get import storage_classes
    from .move import counts_of

    out = os.path.abspath(args.out)
    try:
        if not args.source[1].isdigit():
            raise ValueError(f"--from HOST PORT: the port {args.source[1]!r} is not a number")
        port = int(args.source[1])
        if os.path.exists(os.path.join(out, "DICOMDIR")):
            raise DicomError("a File-set is already there (use media add)", path=out)
        ident = identifier_from_keys(args.key, default_level(args))
        sop = sop_class_for("get", args.model)
        conform = _conformer(args)
    except (DicomError, ValueError) as e:
        print(f"dicomfast media create: {e}", file=sys.stderr)
        return EXIT_USAGE
    args.host, args.port = args.source[0], port
    # What the File-set is to hold first, lossy syntaxes last: a peer choosing among
    # them must not make an instance lossy on the way (we convert, as asked, here).
    syntaxes = [conform.transfer_syntax] if conform and conform.transfer_syntax else []
    syntaxes += [t for t in PROFILES.get(args.profile or "", ()) if t not in syntaxes]
    syntaxes += [t for t in DEFAULT_TRANSFER_SYNTAXES if t not in syntaxes]
    syntaxes.sort(key=lambda t: transfer_syntax_row(t).lossy)
    fs = FileSet()
    fs.ID = args.fileset_id
    refused: list[str] = []

    def on_store(event: Any) -> int:
        try:
            fs.store(event.encoded, folder=out, transfer_syntax_of=conform)
        except DicomError as e:  # not an instance a File-set can hold
            refused.append(str(e))
            return 0xC000
        except OSError as e:
            refused.append(str(e))
            return 0xA700
        return 0

    final: Any = None
    error: BaseException | None = None
    contexts = [PresentationContext(sop, None)]
    contexts += storage_contexts_for_get(storage_classes(), syntaxes)
    try:
        with associate(args, scu_ae(args, [(sop, None)]), contexts) as assoc:
            for status, _ in assoc.send_c_get(ident, args.model, on_store=on_store):
                if status.category != "Pending":
                    final = status
    except (DicomError, OSError) as e:
        error = e
    except BaseException:  # Ctrl-C: nothing half-made is left behind either
        fs.discard()
        raise
    for line in refused:
        print(f"dicomfast media create: refused an instance: {line}", file=sys.stderr)
    _say_notes("create", conform)
    if error is not None and len(fs) == 0 and final is None:
        fs.discard()
        print(f"dicomfast media create: {error}", file=sys.stderr)
        return EXIT_USAGE
    what = (
        f"C-GET {final.category} 0x{int(final):04X}: {counts_of(final)}"
        if final is not None
        else f"C-GET interrupted: {error or 'no final response'}"
    )
    complete = final is not None and final.category == "Success" and not refused
    n = len(fs)
    try:
        if n and (complete or args.keep_partial):
            fs.write(fsync=not args.no_fsync)
            if args.zip:
                _zip(out, args.zip)
        else:
            fs.discard()
    except (DicomError, OSError) as e:
        fs.discard()
        return _fail("create", e)
    if not n:
        print(f"dicomfast media create: {what}; no instance received, no File-set", file=sys.stderr)
        return EXIT_FAILED
    if not complete:
        kept = f"{n} instances kept in {out}" if args.keep_partial else "no File-set written"
        print(f"dicomfast media create: {what}; {kept}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{what}; {n} instances in {out}", file=sys.stderr)
    return EXIT_OK


def _zip(folder: str, dest: str) -> None:
    import zipfile  # only here: 3 ms of every media command's start-up otherwise

    fd, tmp = create_temp(os.path.dirname(os.path.abspath(dest)))
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as z:
            for f in _inputs([folder]):
                z.write(f, os.path.relpath(f, folder))
            z.write(os.path.join(folder, "DICOMDIR"), "DICOMDIR")
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise


def run_index(args: argparse.Namespace) -> int:
    from ..media.bulk import index

    try:
        n = index(args.path, fileset_id=args.fileset_id, fsync=not args.no_fsync)
    except (DicomError, OSError) as e:
        return _fail("index", e)
    print(f"{n} instances in {args.path}", file=sys.stderr)
    return 0


def run_ls(args: argparse.Namespace) -> int:
    import json

    from ..media import FileSet

    try:
        fs = FileSet(args.path)
    except (DicomError, OSError) as e:
        return _fail("ls", e)
    for note in fs.repairs + fs.problems:
        print(f"# {note}", file=sys.stderr)
    for inst in fs:
        row = {
            "file_id": "/".join(inst.FileID or ()),
            "record_type": inst.record_type,
            "patient_id": inst.get("PatientID"),
            "patient_name": str(inst.get("PatientName") or ""),
            "study_instance_uid": inst.get("StudyInstanceUID") or _up(inst, "STUDY"),
            "series_instance_uid": inst.get("SeriesInstanceUID"),
            "modality": inst.get("Modality"),
            "sop_class_uid": inst.SOPClassUID,
            "sop_instance_uid": inst.SOPInstanceUID,
            "transfer_syntax_uid": inst.TransferSyntaxUID,
        }
        if args.json:
            print(json.dumps(row))
        else:
            print(
                f"{row['file_id']:<36} {row['record_type']:<12} {row['patient_id'] or '':<16} {row['modality'] or '':<4} {row['sop_instance_uid']}"
            )
    return 0


def _up(inst: object, record_type: str) -> str | None:
    for node in inst.node.ancestors:  # type: ignore[attr-defined]
        if node.record_type == record_type:
            return node.key
    return None


def run_add(args: argparse.Namespace) -> int:
    from ..media import FileSet

    try:
        conform = _conformer(args)
        fs = FileSet(args.path)
        n = _add_all(fs, args.paths)
        fs.write(transfer_syntax_of=conform)
    except (DicomError, OSError, ValueError) as e:
        return _fail("add", e)
    _say_notes("add", conform)
    print(f"{n} instances added; {len(fs)} in {args.path}", file=sys.stderr)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from ..media import FileSet

    try:
        fs = FileSet(args.path)
        wanted = set(args.which)
        chosen = []
        for inst in fs:
            fid = "/".join(inst.FileID or ())
            if (
                inst.SOPInstanceUID in wanted
                or fid in wanted
                or fid.replace("/", "\\") in wanted
                or inst.get("PatientID") in args.patient_id
                or (inst.get("StudyInstanceUID") or _up(inst, "STUDY")) in args.study_uid
                or inst.get("SeriesInstanceUID") in args.series_uid
            ):
                chosen.append(inst)
        if not chosen:
            raise DicomError("no instance matches")
        fs.remove(chosen)
        fs.write()
    except (DicomError, OSError) as e:
        return _fail("remove", e)
    print(f"{len(chosen)} instances removed; {len(fs)} left", file=sys.stderr)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from ..media import FileSet
    from ..media.verify import repair, verify

    try:
        fs = FileSet(args.path)
        problems = verify(fs)
        for p in problems:
            print(p)
        if problems and args.repair:
            for line in repair(fs):
                print(f"repair: {line}")
            problems = verify(FileSet(args.path))
            for p in problems:
                print(f"still: {p}")
    except (DicomError, OSError) as e:
        return _fail("verify", e)
    print(f"{len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0
