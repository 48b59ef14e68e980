"""Check a file-set: every record's offsets, every referenced file present and
holding the instance its record names, the record's keys equal to the file's, no
file of the folder left out."""

from __future__ import annotations

import os

from ..errors import DicomError
from ..reader import read
from .fileids import is_valid
from .fileset import FileSet, _read_headers
from .records import FileInstance

_SKIP_KEYS = {0x00080005}  # Specific Character Set: compared through the decoded values


def verify(fs: FileSet) -> list[str]:
    """Every problem found (empty: the file-set is sound)."""
    problems = [f"DICOMDIR: {r}" for r in fs.repairs] + list(fs.problems)
    assert fs.path is not None
    referenced: set[str] = set()
    for inst in fs:
        fid = inst.FileID or ()
        name = "/".join(fid)
        if not is_valid(fid):
            problems.append(
                f"{name}: not a valid File ID (1-8 components of A-Z, 0-9, _ up to 8 long)"
            )
        path = inst.path
        if path is None or not os.path.isfile(path):
            continue  # already among fs.problems
        referenced.add(os.path.normcase(os.path.abspath(path)))
        problems.extend(f"{name}: {p}" for p in _check_instance(inst, path))
    for folder, dirs, files in os.walk(fs.path):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(folder, f)
            rel = os.path.relpath(p, fs.path)
            if rel.upper() == "DICOMDIR" or (
                fs.descriptor_file_id and tuple(rel.split(os.sep)) == fs.descriptor_file_id
            ):
                continue
            if os.path.normcase(os.path.abspath(p)) not in referenced:
                problems.append(f"{rel}: a file no record references")
    return problems


def _check_instance(inst: FileInstance, path: str) -> list[str]:
    try:
        ds = read(path, stop_before_pixels=True)
    except (DicomError, OSError) as e:
        return [f"cannot be read: {e}"]
    out = []
    meta = ds.file_meta
    if meta is None:
        out.append("not a Part 10 file (no file meta information)")
    checks = (
        ("SOP Instance UID", inst.SOPInstanceUID, ds.get("SOPInstanceUID")),
        ("SOP Class UID", inst.SOPClassUID, ds.get("SOPClassUID")),
        ("Transfer Syntax UID", inst.TransferSyntaxUID, ds.transfer_syntax),
    )
    for what, rec, got in checks:
        if rec is not None and (got or "") != rec:
            out.append(f"{what} is {got!r} in the file, {rec!r} in the record")
    for node in (inst.node, *inst.node.ancestors):
        for elem in node.dataset:
            tag = elem.tag
            if tag >> 16 <= 4 or tag in _SKIP_KEYS or elem.VR == "SQ":
                continue
            mine = ds.get(tag)
            if mine is None:
                if elem.value not in (None, "", []):
                    out.append(
                        f"{node.record_type} key {elem.keyword or hex(tag)} is {elem.value!r}; the file has none"
                    )
            elif _norm(mine.value) != _norm(elem.value):
                out.append(
                    f"{node.record_type} key {elem.keyword or hex(tag)} is {elem.value!r}; the file has {mine.value!r}"
                )
    return out


def _norm(v: object) -> object:
    if isinstance(v, list) and len(v) == 1:
        v = v[0]
    if v is None:
        return ""
    return str(v).strip() if not isinstance(v, list) else [str(x).strip() for x in v]


def _files_in(root: str, skip: tuple[str, ...] | None) -> list[tuple[str, tuple[str, ...]]]:
    """(path, File ID as found) of every file under ``root`` but the DICOMDIR and
    the descriptor file ``skip``, in a stable order."""
    out = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(folder, f)
            fid = tuple(os.path.relpath(p, root).split(os.sep))
            if fid[0].upper() != "DICOMDIR" and fid != skip:
                out.append((p, fid))
    return out


def _take_in_place(fs: FileSet, found: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """Add the files ``found`` (path, File ID) to ``fs`` where they are (their headers
    read on a few threads); the problem of each file that cannot be, one line each."""
    problems: list[str] = []
    good = []
    for p, fid in found:
        if is_valid(fid):
            good.append((p, fid))
        else:
            problems.append(f"{'/'.join(fid)}: not a valid File ID (A-Z, 0-9, _, up to 8)")
    for (p, fid), (header, error) in zip(good, _read_headers([p for p, _ in good]), strict=True):
        if error is None:
            try:
                inst = fs._add(header[0], None, p)
            except DicomError as e:
                error = e
        if error is not None:
            if isinstance(error, DicomError):
                error.path = None  # the File ID names it
            problems.append(f"{'/'.join(fid)}: {error}")
            continue
        inst.source = None
        inst.node.dataset.add_new(0x00041500, "CS", list(fid))
    return problems


def repair(fs: FileSet) -> list[str]:
    """Rebuild the DICOMDIR from the files: records of missing files dropped, keys taken
    from the files, files left out taken in when their path is a valid File ID; then
    written (temp file + rename).  What was done, one line each."""
    assert fs.path is not None
    root = fs.path
    fresh = FileSet()
    fresh.ID, fresh.UID = fs.ID, fs.UID
    fresh.descriptor_file_id, fresh.descriptor_character_set = (
        fs.descriptor_file_id,
        fs.descriptor_character_set,
    )
    fresh.path = root
    done = [f"{p}: left out" for p in _take_in_place(fresh, _files_in(root, fs.descriptor_file_id))]
    fresh.write(root)
    done.append(f"DICOMDIR rewritten with {len(fresh)} instances")
    return done
