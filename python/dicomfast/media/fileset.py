"""``FileSet``: a DICOM File-set (PS3.10 §8) — its DICOMDIR and the instances the
DICOMDIR references — read, changed (``add``, ``remove``) and written.

Writing never leaves half a file-set: new files are copied in first (each to a
temporary name, then renamed), then the new DICOMDIR replaces the old one in one
rename, and only then are the files of removed instances deleted.  Until that
rename the old DICOMDIR stands, and every file it references is still there.

``store`` (the Media Store of a retrieval: ``dicomfast media create --from``) writes
an instance that arrives as bytes under its File ID at once; the DICOMDIR that
lists it is written by the next ``write``, and ``discard`` deletes what was
stored since (a failed retrieval leaves no half file-set).
"""

from __future__ import annotations

import copy
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from typing import Any, cast

from .. import uid as uids
from ..dataset import Dataset
from ..dictionary import dictionary_vr
from ..element import DataElement
from ..errors import DicomError, InvalidDicomError
from ..reader import read
from ..tempfiles import create_temp, publish, sync_files
from ..writer import write as write_dataset
from ._tables import RECORD_KEYS, RECORD_TYPE_OF_CLASS
from .encode import encode_dicomdir
from .fileids import DIR_PREFIX, FILE_PREFIX, Namer, check, is_valid
from .hierarchy import IDENTIFIER, LEVELS, ROOT_TYPES, level_of
from .parse import parse_records
from .profiles import Conformer
from .records import FileInstance, RecordNode, _text, record_dataset

InstanceSource = str | os.PathLike[str] | Dataset

#: Threads copying files in ``write`` (file creation is kernel work, the GIL released).
COPY_THREADS = 4
#: A source file this small is read whole by ``add`` and written from memory by ``write``...
SMALL_FILE = 1 << 16
#: ... as long as the file-set holds at most this many bytes of them.
KEEP_BYTES = 1 << 28


def record_type_of(sop_class_uid: str) -> str:
    """The directory record type for instances of a SOP class (PS3.3 F.5); IMAGE for
    SOP classes the table does not know (private ones)."""
    return RECORD_TYPE_OF_CLASS.get(sop_class_uid, "IMAGE")


class FileSet:
    """A File-set: ``FileSet(path)`` reads the DICOMDIR at ``path`` (or in the folder
    ``path``); ``FileSet()`` starts an empty one.  Names follow pydicom's FileSet."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path: str | None = None  # the file-set's root folder
        self.ID: str = ""  # noqa: N815 (File-set ID)
        self.UID: str = uids.generate_uid()  # noqa: N815
        self.descriptor_file_id: tuple[str, ...] | None = None
        self.descriptor_character_set: str | None = None
        self.roots: list[RecordNode] = []
        #: what was wrong in the DICOMDIR read and how it was taken (empty when nothing)
        self.repairs: list[str] = []
        #: problems left: files missing, records without a file...
        self.problems: list[str] = []
        self._instances: list[FileInstance] = []
        self._by_uid: dict[str, FileInstance] = {}
        self._removed: list[FileInstance] = []
        self._listing: dict[str, dict[str, str]] = {}
        self._stored: list[FileInstance] = []  # written by store() since the last write()
        self._stored_dirs: list[str] = []  # folders store() made, topmost first
        self._store_namer: Namer | None = None
        #: (id(parent), level, key) -> the record: add() finds the records above an instance
        self._child: dict[tuple[int, str, str | None], RecordNode] = {}
        self._kept = 0  # bytes of small source files held (FileInstance._data)
        if path is not None:
            self._load(os.fspath(path))

    # -- reading ------------------------------------------------------------
    def _load(self, path: str) -> None:
        if not os.path.exists(path):
            raise DicomError("no such DICOMDIR or folder", path=path)
        if os.path.isdir(path):
            for name in ("DICOMDIR", "dicomdir"):
                if os.path.isfile(os.path.join(path, name)):
                    path = os.path.join(path, name)
                    break
            else:
                raise DicomError("no DICOMDIR in this folder", path=path)
        ds = read(path)
        meta = ds.file_meta
        if meta is not None and meta.get("MediaStorageSOPClassUID") not in (
            None,
            "1.2.840.10008.1.3.10",
        ):
            raise InvalidDicomError("not a DICOMDIR (Media Storage SOP Class)", path=path)
        self.path = os.path.dirname(os.path.abspath(path))
        self.ID = str(ds.get("FileSetID") or "").strip()
        uid = meta.get("MediaStorageSOPInstanceUID") if meta is not None else None
        if uid:
            self.UID = uid
        desc = ds.get("FileSetDescriptorFileID")
        if desc:
            self.descriptor_file_id = tuple(desc) if isinstance(desc, list) else (desc,)
        self.descriptor_character_set = (
            ds.get("SpecificCharacterSetOfFileSetDescriptorFile") or None
        )
        self.roots = parse_records(ds, path, self.repairs)
        for root in self.roots:
            for node in root:
                if 0x00041500 in node.dataset:
                    inst = FileInstance(node, self)
                    self._instances.append(inst)
                    uid = inst.SOPInstanceUID
                    if uid:
                        self._by_uid.setdefault(uid, inst)
                    fid = inst.FileID
                    # one stat when the file is where its File ID says (the rule)
                    if not (fid and os.path.isfile(os.path.join(self.path, *fid))) and (
                        inst.path is None or not os.path.isfile(inst.path)
                    ):
                        self.problems.append(
                            f"the file {'/'.join(inst.FileID or ())} of {node.record_type} {uid} is missing"
                        )

    def resolve(self, file_id: tuple[str, ...]) -> str:
        """The path of a File ID; a component whose case differs on disk (lower-case media)
        is found and the repair noted."""
        assert self.path is not None
        exact = os.path.join(self.path, *file_id)
        if os.path.exists(exact):
            return exact
        folder = self.path
        for part in file_id:
            names = self._listing.get(folder)
            if names is None:
                try:
                    names = {n.upper(): n for n in os.listdir(folder)}
                except OSError:
                    return exact
                self._listing[folder] = names
            real = names.get(part.upper())
            if real is None:
                return exact
            folder = os.path.join(folder, real)
        note = f"File ID {'/'.join(file_id)} found as {os.path.relpath(folder, self.path)} (case differs)"
        if note not in self.repairs:
            self.repairs.append(note)
        return folder

    # -- the instances ----------------------------------------------------------
    def __iter__(self) -> Iterator[FileInstance]:
        return iter([i for i in self._instances if not i.for_removal])

    def __len__(self) -> int:
        return sum(1 for i in self._instances if not i.for_removal)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, FileInstance):
            return item in self._instances and not item.for_removal
        return isinstance(item, str) and item in self._by_uid

    def find(self, load: bool = False, **keys: Any) -> list[FileInstance]:
        """Instances whose records (or the records above them; with ``load`` their files)
        hold every ``Keyword=value`` given."""
        out = []
        for inst in self:
            src: Any = inst.load() if load else inst
            if all(_match(src.get(k), v) for k, v in keys.items()):
                out.append(inst)
        return out

    def find_values(
        self, keyword: str, instances: Iterable[FileInstance] | None = None, load: bool = False
    ) -> list[Any]:
        """The distinct values of ``keyword`` among the instances, in first-seen order."""
        seen: list[Any] = []
        for inst in instances if instances is not None else self:
            v = (inst.load() if load else inst).get(keyword)
            if v is not None and v not in seen:
                seen.append(v)
        return seen

    # -- changing -------------------------------------------------------------
    def add(self, source: InstanceSource) -> FileInstance:
        """Stage an instance (a Part 10 file path or a Dataset) for the next ``write``."""
        if isinstance(source, Dataset):
            return self._add(source, None, source)
        src = os.path.abspath(os.fspath(source))
        return self._add(*_read_header(src), src)

    def add_many(self, paths: Iterable[str | os.PathLike[str]]) -> list[FileInstance]:
        """:meth:`add` each file, in order, their headers read on a few threads first
        (reading is kernel and Rust work that releases the GIL).  The first file that
        cannot be added raises its error; the files before it stay added."""
        srcs = [os.path.abspath(os.fspath(p)) for p in paths]
        added = []
        for src, (header, error) in zip(srcs, _read_headers(srcs), strict=True):
            if error is not None:
                raise error
            ds, data = header
            added.append(self._add(ds, data, src))
        return added

    def _add(self, ds: Dataset, data: bytes | None, src: Dataset | str) -> FileInstance:
        keys = _InstanceKeys(ds)
        sop_class = _meta_or(ds, keys, 0x00020002, 0x00080016)
        sop_uid = _meta_or(ds, keys, 0x00020003, 0x00080018)
        where = src if isinstance(src, str) else None
        if not sop_class or not sop_uid:
            raise DicomError(
                "not a composite instance: no SOP Class / SOP Instance UID", path=where
            )
        old = self._by_uid.get(sop_uid)
        if old is not None:
            if old.for_removal:
                self._undo_removal(old)
            else:
                raise DicomError(f"SOP Instance {sop_uid} is already in the file-set", path=where)
        rtype = record_type_of(sop_class)
        if rtype in ROOT_TYPES:
            raise DicomError(
                f"{rtype} records (outside the patient hierarchy) are not supported yet", path=where
            )
        # Every record is made before any is attached: a missing key leaves the tree as it was.
        parent: RecordNode | None = None
        siblings = self.roots
        attach: list[tuple[list[RecordNode], RecordNode]] = []
        # ... and remembered only then: a record made for an instance that is refused
        # (a key missing below it) is not found by the next one.
        found: list[tuple[tuple[int, str, str | None], RecordNode]] = []
        for level in ("PATIENT", "STUDY", "SERIES"):
            ident = keys.value(IDENTIFIER[level])
            key = (id(parent), level, None if ident is None else _text(ident))
            node = self._child.get(key)
            if node is None or node.parent is not parent:
                node = next(
                    (n for n in siblings if n.record_type == level and n.key == key[2]), None
                )
            if node is None:
                node = RecordNode(level, _keys(keys, level, where), parent)
                attach.append((siblings, node))
            found.append((key, node))
            parent, siblings = node, node.children
        ts = keys.transfer_syntax()
        header = {
            0x00041430: DataElement(0x00041430, "CS", rtype),
            0x00041510: DataElement(0x00041510, "UI", sop_class),
            0x00041511: DataElement(0x00041511, "UI", sop_uid),
            0x00041512: DataElement(0x00041512, "UI", ts or uids.ExplicitVRLittleEndian),
        }
        node = RecordNode(rtype, _keys(keys, rtype, where, header), parent)
        attach.append((siblings, node))
        for where_to, new in attach:
            where_to.append(new)
        self._child.update(found)
        inst = FileInstance(node, self, source=src)
        if data is not None and self._kept + len(data) <= KEEP_BYTES:
            inst._data = data
            self._kept += len(data)
        if ds.file_meta is None and isinstance(src, str):
            inst._rewrite = True  # a bare data set: written as a Part 10 file
        self._instances.append(inst)
        self._by_uid[sop_uid] = inst
        return inst

    def remove(self, instances: FileInstance | Iterable[FileInstance]) -> None:
        """Take instances out at the next ``write`` (their files are deleted then)."""
        for inst in [instances] if isinstance(instances, FileInstance) else list(instances):
            if inst not in self._instances:
                raise DicomError(f"{inst!r} is not in this file-set")
            if inst.for_addition:
                self._instances.remove(inst)
                del self._by_uid[inst.SOPInstanceUID]
                self._detach(inst.node)
            else:
                inst.for_removal = True

    # -- Media Store: instances written in as they arrive ---------------------
    def store(
        self,
        data: bytes | bytearray | memoryview,
        *,
        folder: str | os.PathLike[str] | None = None,
        transfer_syntax_of: Any = None,
    ) -> FileInstance:
        """Write one instance, the bytes of a Part 10 file (as a C-GET delivers it),
        into the file-set's folder now, under a new File ID: first to a temporary
        file, then renamed.  The DICOMDIR lists it from the next :meth:`write`;
        :meth:`discard` deletes it again.  ``folder`` gives a new file-set its
        folder (made if missing); ``transfer_syntax_of`` as for :meth:`write`."""
        root = self._store_root(folder)
        fd, tmp = create_temp(root)
        inst: FileInstance | None = None
        placed: str | None = None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            inst = self.add(tmp)
            if self._store_namer is None:
                self._store_namer = Namer(
                    {p for i in self if i.FileID for p in Namer.prefixes(i.FileID)}
                )
            fid = self._new_file_id(inst.node, self._store_namer)
            dest = _free_dest(root, fid)
            made = _missing_dirs(os.path.dirname(dest))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            self._stored_dirs.extend(made)
            target = None
            full = None
            if transfer_syntax_of is not None and not _keeps(
                transfer_syntax_of, inst.TransferSyntaxUID
            ):
                full = read(tmp)
                target = transfer_syntax_of(full)
            inst.node.dataset.add_new(0x00041500, "CS", list(fid))
            placed = dest
            if full is not None and target is not None:
                write_dataset(full, dest, transfer_syntax=target)
                self._converted(inst, target, str(full.get("SOPInstanceUID") or ""))
            else:
                os.rename(tmp, dest)
            inst.source = None
            inst._data = None
            self._stored.append(inst)
            return inst
        except BaseException as e:
            if isinstance(e, DicomError) and e.path == tmp:
                e.path = None  # a name of ours, not the instance's
            if placed is not None:
                _unlink(placed)
            if inst is not None and inst.for_addition:
                self.remove(inst)
            raise
        finally:
            _unlink(tmp)

    def _store_root(self, folder: str | os.PathLike[str] | None) -> str:
        if folder is not None:
            root = os.path.abspath(os.fspath(folder))
            if self.path is None:
                self.path = root
            elif root != os.path.abspath(self.path):
                raise DicomError(f"the file-set is in {self.path}, not here", path=root)
        if self.path is None:
            raise DicomError("the file-set has no folder yet: store(..., folder=...)")
        if not os.path.isdir(self.path):
            self._stored_dirs.extend(_missing_dirs(self.path))
            os.makedirs(self.path, exist_ok=True)
        return self.path

    def discard(self) -> None:
        """Delete the files :meth:`store` wrote since the last :meth:`write` (and the
        folders it made, once empty); their instances leave the file-set."""
        for inst in self._stored:
            path = inst.path
            self._instances.remove(inst)
            self._by_uid.pop(inst.SOPInstanceUID, None)
            self._detach(inst.node)
            if path is not None:
                _unlink(path)
        for d in reversed(self._stored_dirs):
            _remove_empty_tree(d)
        if self.path is not None and not os.path.isdir(self.path):
            self.path = None  # its folder was made by store() and is gone again
        self._stored, self._stored_dirs, self._store_namer = [], [], None

    def _undo_removal(self, inst: FileInstance) -> None:
        raise DicomError(
            f"SOP Instance {inst.SOPInstanceUID} is to be removed: write() before adding it again"
        )

    def _detach(self, node: RecordNode) -> None:
        """Take ``node`` out of the tree, and the records above it left empty."""
        self._child.clear()
        while node is not None:
            siblings = node.parent.children if node.parent is not None else self.roots
            siblings.remove(node)
            parent = node.parent
            if parent is None or parent.children or parent.instance is not None:
                return
            node = parent

    # -- writing --------------------------------------------------------------
    def write(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        transfer_syntax_of: Any = None,
        fsync: bool = True,
    ) -> None:
        """Write the file-set to ``path`` (default: where it was read).  New instances
        get File IDs and are copied in; removed ones are taken out and their files
        deleted.  ``transfer_syntax_of(ds) -> uid | None`` may ask for an instance to be
        re-encoded (media profiles).  Unless ``fsync`` is false, the files copied or
        stored in are flushed to disk (one ``syncfs``), then the new DICOMDIR, before it
        is renamed into place: a DICOMDIR on disk never names a file that is not."""
        root = os.path.abspath(os.fspath(path)) if path is not None else self.path
        if root is None:
            raise DicomError("the file-set has no folder yet: write(path)")
        moving = self.path is not None and os.path.abspath(self.path) != root
        made = [] if os.path.isdir(root) else [root]
        os.makedirs(root, exist_ok=True)
        if moving and os.path.exists(os.path.join(root, "DICOMDIR")):
            raise DicomError("a DICOMDIR is already there", path=root)
        for inst in [i for i in self._instances if i.for_removal]:
            self._detach(inst.node)
        keep = [i for i in self._instances if not i.for_removal]
        removed = [i for i in self._instances if i.for_removal]
        fresh_ids = moving or any(i.for_addition for i in keep)  # else no File ID is made
        namer = Namer(
            {p for i in keep if not i.for_addition and i.FileID for p in Namer.prefixes(i.FileID)}
            if fresh_ids
            else set()
        )
        placed: list[str] = []  # files written, deleted again if anything fails
        self._made: set[str] = set()
        try:
            jobs: list[tuple[FileInstance, tuple[str, ...], str]] = []
            fresh: set[str] = set()  # folders made now: no file can be in the way there
            for inst in keep:
                if inst.for_addition or moving:
                    fid = (
                        inst.FileID if (moving and inst.FileID and is_valid(inst.FileID)) else None
                    )
                    if fid is None:
                        fid = self._new_file_id(inst.node, namer)
                    check(fid)
                    dest = os.path.join(root, *fid)
                    folder = os.path.dirname(dest)
                    if folder not in self._made:
                        new_dirs = _missing_dirs(folder)
                        made.extend(new_dirs)
                        fresh.update(new_dirs)
                        os.makedirs(folder, exist_ok=True)
                        self._made.add(folder)
                    if folder not in fresh:
                        _free_dest(root, fid)
                    jobs.append((inst, fid, dest))
            placed.extend(dest for _, _, dest in jobs)
            failed: BaseException | None = None
            for (inst, fid, dest), (changed, error) in zip(
                jobs, self._place_all(jobs, transfer_syntax_of), strict=True
            ):
                if isinstance(error, FileExistsError):
                    placed.remove(dest)  # someone else's file: not ours to delete
                    error = DicomError("the file appeared while writing", path=dest)
                if error is not None:
                    failed = failed or error
                    continue
                inst.node.dataset.add_new(0x00041500, "CS", list(fid))
                if changed is not None:
                    self._converted(inst, *changed)
            if failed is not None:
                raise failed
            chunks = encode_dicomdir(
                self.roots,
                fileset_uid=self.UID,
                fileset_id=self.ID,
                descriptor_file_id=self.descriptor_file_id,
                descriptor_charset=self.descriptor_character_set,
            )
            if fsync:  # the files the new DICOMDIR names are on disk before it
                stored = [os.path.join(root, *i.FileID) for i in self._stored if i.FileID]
                sync_files([*placed, *stored])
            publish(os.path.join(root, "DICOMDIR"), chunks, fsync)
        except BaseException:
            for p in placed:
                try:
                    os.unlink(p)
                except OSError:
                    pass
            for d in reversed(made):
                _remove_empty_tree(d)
            raise
        old_root = self.path
        self.path = root
        self._listing.clear()
        for inst in keep:
            inst.source = None
            inst._data = None
        if not moving:
            gone = []
            for inst in removed:
                old = self.resolve(inst.FileID) if inst.FileID and old_root else None
                if old and os.path.isfile(old):
                    os.unlink(old)
                    gone.append(old)
            _prune(root, gone)
        self._instances = keep
        self._by_uid = {i.SOPInstanceUID: i for i in keep}
        self._removed = []
        self._stored, self._stored_dirs, self._store_namer = [], [], None
        self._kept = 0

    def _new_file_id(self, node: RecordNode, namer: Namer) -> tuple[str, ...]:
        return namer.new(
            self._folder_of(node.parent, namer), FILE_PREFIX.get(node.record_type, "OB")
        )

    def _folder_of(self, node: RecordNode | None, namer: Namer) -> tuple[str, ...]:
        """The folder of a patient, study or series record: the one its instances already
        use when they all agree, else a new one under its parent's."""
        if node is None:
            return ()
        if node._dir is None:
            depth = LEVELS.get(node.record_type, 0) + 1
            known = {
                i.FileID[:depth]
                for n in node
                for i in [n.instance]
                if i is not None and not i.for_addition and i.FileID and len(i.FileID) > depth
            }
            if len(known) == 1:
                node._dir = known.pop()
            else:
                node._dir = namer.new(
                    self._folder_of(node.parent, namer), DIR_PREFIX.get(node.record_type, "DR")
                )
        return node._dir

    def _place_all(
        self, jobs: list[tuple[FileInstance, tuple[str, ...], str]], transfer_syntax_of: Any
    ) -> list[tuple[str | None, BaseException | None]]:
        """:meth:`_place` each (instance, File ID, dest): (new transfer syntax, error)
        for each.  Plain copies run on a few threads: creating and writing files is
        kernel work that releases the GIL (their folders exist already)."""

        def place(job: tuple[FileInstance, tuple[str, ...], str]) -> Any:
            try:
                return self._place(job[0], job[2], transfer_syntax_of), None
            except Exception as e:  # noqa: BLE001 - given back, raised by write()
                return None, e

        if len(jobs) < 2 * COPY_THREADS or not (
            transfer_syntax_of is None or isinstance(transfer_syntax_of, Conformer)
        ):
            return [place(j) for j in jobs]
        from concurrent.futures import ThreadPoolExecutor

        n = COPY_THREADS  # one task per thread, not one per file

        def place_share(i: int) -> list[Any]:
            return [place(j) for j in jobs[i::n]]

        with ThreadPoolExecutor(n, thread_name_prefix="dicomfast-media") as pool:
            shares = list(pool.map(place_share, range(n)))
        out: list[Any] = [None] * len(jobs)
        for i, share in enumerate(shares):
            out[i::n] = share
        return out

    def _converted(self, inst: FileInstance, ts: str, sop_uid: str) -> None:
        """The record of ``inst`` after its file was written in ``ts`` (a lossy syntax
        gave the instance a new SOP Instance UID: ``sop_uid``)."""
        inst.node.dataset.add_new(0x00041512, "UI", ts)
        old = inst.SOPInstanceUID
        if sop_uid and sop_uid != old:
            inst.node.dataset.add_new(0x00041511, "UI", sop_uid)
            if self._by_uid.get(old) is inst:
                del self._by_uid[old]
            self._by_uid[sop_uid] = inst

    def _place(
        self, inst: FileInstance, dest: str, transfer_syntax_of: Any
    ) -> tuple[str, str] | None:
        """Copy (or write) the instance to ``dest``; (transfer syntax, SOP Instance UID)
        if it was written in another syntax.

        ``dest`` is a new name (never an existing file: O_EXCL) in a folder that
        exists, that no DICOMDIR references yet: the rename of the new DICOMDIR is
        what makes it part of the file-set, so the file is written under its name
        directly, and deleted again if the write fails."""
        # an instance already in the file-set has a File ID, so a path
        src = inst.source if inst.for_addition else cast(str, inst.path)
        data = inst._data
        as_is = transfer_syntax_of is None or _keeps(transfer_syntax_of, inst.TransferSyntaxUID)
        if isinstance(src, str) and as_is and not inst._rewrite:
            if data is not None:
                _write_new(dest, data)
            else:
                _copy_new(src, dest)
            return None
        ds = src if isinstance(src, Dataset) else read(src)
        if ds is src and not as_is:
            ds = copy.deepcopy(src)  # converted: the caller's data set stays as it is
        target = None if as_is else transfer_syntax_of(ds)
        if target is None and isinstance(src, str) and ds.file_meta is not None:
            _copy_new(src, dest)
            return None
        write_dataset(ds, dest, transfer_syntax=target)
        ts = target or ds.transfer_syntax or uids.ExplicitVRLittleEndian
        return ts, str(ds.get("SOPInstanceUID") or "")


def _keeps(transfer_syntax_of: Any, ts: str | None) -> bool:
    """Whether ``transfer_syntax_of`` (a profile's :class:`Conformer`) keeps an instance
    in ``ts`` as it is, known without reading it."""
    return isinstance(transfer_syntax_of, Conformer) and transfer_syntax_of.keeps(ts)


def _free_dest(root: str, fid: tuple[str, ...]) -> str:
    """The path of a new File ID: a valid one, and no file there yet."""
    check(fid)
    dest = os.path.join(root, *fid)
    if os.path.lexists(dest):
        raise DicomError(
            f"File ID {'/'.join(fid)} is taken by a file that is no instance of the file-set",
            path=dest,
        )
    return dest


def _write_new(dest: str, data: bytes) -> None:
    """Write ``data`` to the new file ``dest`` (O_EXCL: never over a file)."""
    fd = os.open(dest, _NEW_FILE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


_NEW_FILE = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
)


def _copy_new(src: str, dest: str) -> None:
    """Copy ``src`` to the new file ``dest`` (kernel-side copy where the OS has one)."""
    with open(src, "rb") as fi, open(dest, "xb") as fo:
        size = os.fstat(fi.fileno()).st_size
        done = 0
        try:
            while done < size:
                n = os.sendfile(fo.fileno(), fi.fileno(), done, size - done)
                if n == 0:
                    break
                done += n
        except (AttributeError, OSError):
            fi.seek(done)
            fo.seek(done)
            shutil.copyfileobj(fi, fo)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _missing_dirs(folder: str) -> list[str]:
    """``folder`` and the folders above it that do not exist yet, topmost first."""
    out = []
    while folder and not os.path.isdir(folder):
        out.append(folder)
        folder = os.path.dirname(folder)
    return out[::-1]


def _remove_empty_tree(folder: str) -> None:
    """Remove ``folder`` and the folders under it if no file is left in them."""
    for d, _dirs, _files in sorted(os.walk(folder), key=lambda w: -len(w[0])):
        try:
            os.rmdir(d)
        except OSError:
            pass


def _prune(root: str, files: list[str]) -> None:
    """Remove folders left empty by deleted files (never ``root`` itself)."""
    for p in files:
        d = os.path.dirname(p)
        while os.path.abspath(d) != os.path.abspath(root) and d.startswith(root):
            try:
                os.rmdir(d)
            except OSError:
                break
            d = os.path.dirname(d)


def _read_header(path: str) -> tuple[Dataset, bytes | None]:
    """The data set of a file up to its pixel data; and the file's bytes when it is
    small (read whole: one read instead of a memory map, and no second read to copy it)."""
    # Opened without waiting (a FIFO's open waits for a writer), then taken only if it
    # is a regular file.
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DicomError("not a regular file", path=path)
        data = b""
        while len(data) <= SMALL_FILE:
            more = os.read(fd, SMALL_FILE + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    if len(data) > SMALL_FILE or not data:
        return read(path, stop_before_pixels=True), None
    try:
        ds = read(data, stop_before_pixels=True)
    except DicomError as e:
        e.path = e.path or path
        raise
    ds.filename = path
    return ds, data


def _read_headers(paths: list[str]) -> list[tuple[Any, BaseException | None]]:
    """:func:`_read_header` of each path, on a few threads, a slice of paths per task:
    ((data set, bytes) or None, error) for each, in order."""

    def one(path: str) -> tuple[Any, BaseException | None]:
        try:
            return _read_header(path), None
        except Exception as e:  # noqa: BLE001 - given back, raised by add_many()
            return None, e

    step = 64
    if len(paths) <= step:
        return [one(p) for p in paths]
    from concurrent.futures import ThreadPoolExecutor

    def share(start: int) -> list[tuple[Any, BaseException | None]]:
        return [one(p) for p in paths[start : start + step]]

    with ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="dicomfast-media") as pool:
        return [r for part in pool.map(share, range(0, len(paths), step)) for r in part]


#: Every tag a record of any type takes from its instance, the identifiers of the
#: levels and the SOP Class / Instance UIDs: looked up in one call to the index.
_FIND_TAGS: list[int] = sorted(
    {0x00080016, 0x00080018, *IDENTIFIER.values()}
    | {tag for keys in RECORD_KEYS.values() for tag, _, _ in keys}
)
_FIND_AT = {tag: i for i, tag in enumerate(_FIND_TAGS)}


class _InstanceKeys:
    """The elements of an instance that its records take.  A data set as read (its
    element table not built) is looked up in its file's index in one call
    (``RawFile.find``): the records then hold the nodes of those elements, turned into
    DataElements only when looked at (the DICOMDIR is encoded from the index); any
    other data set goes through its elements."""

    __slots__ = ("ds", "raw", "found")

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        raw = ds._raw
        if raw is None or ds._map is not None or ds._node != -1:
            self.raw: Any = None
            self.found: list[Any] | None = None
        else:
            self.raw = raw
            self.found = raw.find(-1, _FIND_TAGS)

    def element(self, tag: int) -> Any:
        """The node (int) of ``tag`` as read, or its DataElement; None if absent."""
        found = self.found
        if found is None:
            return self.ds.get(tag)
        f = found[_FIND_AT[tag]]
        return None if f is None else f[0]

    def value(self, tag: int) -> Any:
        found = self.found
        if found is not None:
            f = found[_FIND_AT[tag]]
            if f is None:
                return None
            if f[1]:  # a value that needs no context: converted by find
                return f[2]
            b = self.raw.value_bytes_of(f[0])
            text = b.rstrip(b" ")
            if text.isascii() and text == b.strip(b" \0") and b"\\" not in text:
                return text.decode()  # one ASCII value: what its element would give
        e = self.ds.get(tag)
        return None if e is None else e.value

    def transfer_syntax(self) -> str | None:
        """The file meta's Transfer Syntax UID, else the one the data set was read with."""
        if self.raw is not None and self.ds.file_meta is not None:
            fm = self.ds.file_meta
            if fm._raw is self.raw and fm._map is None:
                (f,) = self.raw.find(fm._node, [0x00020010])
                if f is not None and f[1] and f[2]:
                    return str(f[2])
        ds = self.ds
        meta_ts = ds.file_meta.get(0x00020010) if ds.file_meta is not None else None
        return (meta_ts.value if meta_ts is not None else None) or ds.transfer_syntax


def _meta_or(ds: Dataset, keys: _InstanceKeys, meta_tag: int, tag: int) -> str | None:
    v = keys.value(tag)
    if not v and ds.file_meta is not None and meta_tag in ds.file_meta:
        v = ds.file_meta[meta_tag].value
    return str(v).strip() if v else None


def _match(value: Any, wanted: Any) -> bool:
    if isinstance(value, list) and not isinstance(wanted, list):
        return wanted in value
    return value == wanted or (value is not None and str(value) == str(wanted))


def _keys(
    keys: _InstanceKeys,
    record_type: str,
    where: str | None,
    header: dict[int, Any] | None = None,
) -> Dataset:
    """The record of ``record_type`` for the instance ``keys`` looks up: its keys
    (PS3.3 F.5), after the record header elements ``header`` (tag -> DataElement)."""
    elems: dict[int, Any] = dict(header or ())
    if record_type in LEVELS:
        elems[0x00041430] = DataElement(0x00041430, "CS", record_type)
    for tag, keyword, kind in RECORD_KEYS.get(record_type, ()):
        elem = keys.element(tag)
        if kind == "1" and (elem is None or keys.value(tag) in (None, "", [])):
            raise DicomError(
                f"{keyword} is needed for the {record_type} record (PS3.3 F.5) but missing or empty",
                path=where,
                tag=tag,
            )
        if elem is not None:
            elems[tag] = elem
        elif kind == "2":
            elems[tag] = DataElement(tag, dictionary_vr(tag), None)
    if record_type == "STUDY":
        uid = keys.element(0x0020000D)
        if uid is not None:
            elems[0x0020000D] = uid
    return record_dataset(elems, keys.raw)


__all__ = ["FileInstance", "FileSet", "RecordNode", "record_type_of", "level_of"]
