"""The files a benchmark runs on, and what the tasks derive from them once
(untimed): which files have pixels, our decoded arrays, the transcode targets."""

from __future__ import annotations

import shutil
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Any

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
RLE = "1.2.840.10008.1.2.5"
JPEG_LL = "1.2.840.10008.1.2.4.57"
JPEG_LL_SV1 = "1.2.840.10008.1.2.4.70"
JPEG_LS = "1.2.840.10008.1.2.4.80"
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
NATIVE = {EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED}
LOSSLESS = NATIVE | {
    RLE,
    JPEG_LL,
    JPEG_LL_SV1,
    JPEG_LS,
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
    HTJ2K_LOSSLESS,
    "1.2.840.10008.1.2.4.202",  # HTJ2K RPCL lossless
}
#: --codec names -> transfer syntax
CODECS = {
    "rle": RLE,
    "jpeg-ll-sv1": JPEG_LL_SV1,
    "jpeg-ls": JPEG_LS,
    "htj2k": HTJ2K_LOSSLESS,
    "explicit-le": EXPLICIT_LE,
}
PIXEL_DATA = 0x7FE00010


def find_files(paths: list[str | Path]) -> list[Path]:
    """Files given and files under folders given (sorted), DICOMDIRs left out."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.name.upper() != "DICOMDIR")
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")
    return out


class Workload:
    """``files`` (the same for every contender) and derived inputs, computed on
    first use with dicomfast and kept for the whole run."""

    def __init__(
        self,
        files: list[Path],
        *,
        codec: str = "rle",
        transcode_to: str | None = None,
        threads: int = 1,
        tolerance: float = 0.0,
        tmp: Path | None = None,
    ) -> None:
        self.files = [Path(f) for f in files]
        self.codec = CODECS.get(codec, codec)
        self.transcode_to = CODECS.get(transcode_to, transcode_to) if transcode_to else None
        self.threads = threads
        self.tolerance = tolerance
        self._tmp = tmp
        self._own_tmp: Path | None = None
        #: the workload this one is a part of (:meth:`only`), whose scratch space it uses
        self._parent: Workload | None = None
        #: files dicomfast does not read, or whose Pixel Data it does not decode, and why
        self.unreadable: dict[Path, str] = {}
        self.undecodable: dict[Path, str] = {}
        #: files with nothing to send them under (no SOP Class or Instance UID), and why
        self.unstorable: dict[Path, str] = {}
        #: pixel files whose frames dicomfast does not encode for a task (encode: with
        #: :attr:`codec`; transcode: in their :meth:`transcode_target`), and why
        self.unencodable: dict[str, dict[Path, str]] = {"encode": {}, "transcode": {}}
        #: the pixel files dicomfast encodes so, per task, once tried (:meth:`encodable`)
        self._encodable: dict[str, list[Path]] = {}

    # -- sizes -----------------------------------------------------------------------------
    @cached_property
    def nbytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    @cached_property
    def readable(self) -> list[Path]:
        """The files dicomfast reads (the others are left out of every task, and said
        so: :attr:`unreadable`)."""
        import dicomfast

        out = []
        for f in self.files:
            try:
                dicomfast.read(f)
            except Exception as e:  # noqa: BLE001 - the reason is reported
                self.unreadable[f] = f"{type(e).__name__}: {e}"
                continue
            out.append(f)
        return out

    @cached_property
    def syntax(self) -> dict[Path, str]:
        import dicomfast

        return {f: str(dicomfast.read(f).transfer_syntax) for f in self.readable}

    @cached_property
    def pixel_files(self) -> list[Path]:
        """The files whose Pixel Data dicomfast decodes."""
        import dicomfast

        out = []
        for f in self.readable:
            ds = dicomfast.read(f)
            if PIXEL_DATA not in ds:
                continue
            try:
                ds.pixel_array_as(threads=1)
            except Exception as e:  # noqa: BLE001 - the reason is reported
                self.undecodable[f] = f"{type(e).__name__}: {e}"
                continue
            out.append(f)
        return out

    @cached_property
    def storable(self) -> list[Path]:
        """The files a C-STORE to ``dicomfast serve`` keeps: a storage SOP class (current
        or retired) to send the data set under, and the valid SOP Instance, Study and
        Series Instance UIDs its archive files it under (the others, a DICOMDIR or a bare data set, are in
        :attr:`unstorable`, with the reason)."""
        import dicomfast
        from dicomfast import uid as uids
        from dicomfast.archive.index import instance_uids

        accepted = {*uids.storage_sop_classes(), *uids.retired_storage_sop_classes()}
        out = []
        for f in self.readable:
            ds = dicomfast.read(f, stop_before_pixels=True)
            sop = str(ds.get("SOPClassUID") or "")
            why = "" if sop else "no SOP Class UID to send it under"
            if sop and sop not in accepted:
                why = f"{uids.name_of(sop)} is not a storage SOP class (those serve accepts)"
            if not why:
                try:
                    instance_uids(ds)
                except ValueError as e:
                    why = f"{e} (the archive files instances under them)"
            if why:
                self.unstorable[f] = why
                continue
            out.append(f)
        return out

    def encodable(self, task: str) -> list[Path]:
        """For a task that encodes frames (encode: with :attr:`codec`; transcode: in each
        file's :meth:`transcode_target`, when compressed), the pixel files dicomfast
        encodes so, each tried once, when the task first asks; the others (a 32-bit dose
        has no JPEG-LS, say) are in :attr:`unencodable`, with the reason."""
        known = self._encodable.get(task)
        if known is not None:
            return known
        from dicomfast.pixels.encode import encode_frames

        out = []
        for f, a, info in zip(self.pixel_files, self.arrays, self.infos, strict=True):
            ts = self.codec if task == "encode" else self.transcode_target(f)
            if task == "transcode" and ts in NATIVE:
                out.append(f)
                continue
            try:
                encode_frames(a, info, ts, threads=1)
            except Exception as e:  # noqa: BLE001 - the reason is reported
                self.unencodable[task][f] = f"{type(e).__name__}: {e}"
                continue
            out.append(f)
        self._encodable[task] = out
        return out

    def files_for(self, task: str) -> list[Path]:
        if task == "store":
            return self.storable
        if task in ("encode", "transcode"):
            return self.encodable(task)
        return self.readable if task in ("parse", "values") else self.pixel_files

    def for_task(self, task: str) -> Workload:
        """This workload, or for a task that leaves out some of :attr:`pixel_files` (the
        files dicomfast does not encode so), the same on the others only, so that
        :attr:`arrays` and :attr:`infos` are those of the task's files."""
        if task in ("encode", "transcode") and self.encodable(task) != self.pixel_files:
            return self.only(self.encodable(task))
        return self

    def left_out_of(self, task: str) -> dict[Path, str]:
        """The files given that a task leaves out because dicomfast, the reference, does
        not read them (or, for the pixel tasks, decode their Pixel Data; for store,
        finds nothing to send them under), and why."""
        self.files_for(task)
        if task in ("parse", "values"):
            return dict(self.unreadable)
        if task == "store":
            return {**self.unreadable, **self.unstorable}
        if task in ("encode", "transcode"):
            return {**self.unencodable[task], **self.unreadable, **self.undecodable}
        return {**self.unreadable, **self.undecodable}

    def nbytes_for(self, task: str) -> int:
        """Bytes a task's throughput counts: decoded pixel bytes for decode and
        encode, file bytes for the others."""
        if task in ("decode", "encode"):
            return sum(a.nbytes for a in self.arrays)
        return sum(f.stat().st_size for f in self.files_for(task))

    # -- pixels ------------------------------------------------------------------------------
    @cached_property
    def arrays(self) -> list[Any]:
        """Our decoded pixel arrays of :attr:`pixel_files` (pydicom's shapes)."""
        import dicomfast

        return [dicomfast.read(f).pixel_array_as(threads=1) for f in self.pixel_files]

    @cached_property
    def infos(self) -> list[Any]:
        import dicomfast
        from dicomfast.pixels.info import pixel_info

        return [pixel_info(dicomfast.read(f)) for f in self.pixel_files]

    def lossy(self, f: Path) -> bool:
        return self.syntax.get(f, EXPLICIT_LE) not in LOSSLESS

    def transcode_target(self, f: Path) -> str:
        """``--transcode-to``, else: compressed input -> explicit VR little endian,
        native input -> RLE Lossless."""
        if self.transcode_to:
            return self.transcode_to
        return RLE if self.syntax[f] in NATIVE else EXPLICIT_LE

    # -- a part of the files ------------------------------------------------------------------
    def only(self, files: list[Path]) -> Workload:
        """The same workload on ``files`` (some of :attr:`files`): what one contender is
        timed on when it fails on the others. What is known of those files already is
        shared, and so is the scratch space (this one's :meth:`close` removes it)."""
        keep = set(files)
        part = Workload(
            [f for f in self.files if f in keep],
            codec=self.codec,
            transcode_to=self.transcode_to,
            threads=self.threads,
            tolerance=self.tolerance,
        )
        part._parent = self
        part._encodable = {t: [f for f in v if f in keep] for t, v in self._encodable.items()}
        # The cached properties known here, narrowed (each is one value per file).
        known, seed = self.__dict__, part.__dict__
        if "readable" in known:
            seed["readable"] = [f for f in self.readable if f in keep]
        if "storable" in known:
            seed["storable"] = [f for f in self.storable if f in keep]
        if "syntax" in known:
            seed["syntax"] = {f: s for f, s in self.syntax.items() if f in keep}
        if "pixel_files" in known:
            seed["pixel_files"] = [f for f in self.pixel_files if f in keep]
            for name in ("arrays", "infos"):
                if name in known:
                    pairs = zip(self.pixel_files, known[name], strict=True)
                    seed[name] = [x for f, x in pairs if f in keep]
        return part

    # -- scratch space ---------------------------------------------------------------------------
    def scratch(self, name: str) -> Path:
        """A new empty folder for one job's outputs, named after ``name`` (removed by
        :meth:`close`): a job timed on part of the files (:meth:`only`) gets one of its
        own beside the whole set's, which is timed in the same rounds."""
        if self._parent is not None:
            return self._parent.scratch(name)
        if self._own_tmp is None:
            self._own_tmp = Path(tempfile.mkdtemp(prefix="dicomfast-bench-", dir=self._tmp))
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self._own_tmp))

    def close(self) -> None:
        if self._own_tmp is not None:
            shutil.rmtree(self._own_tmp, ignore_errors=True)
            self._own_tmp = None
