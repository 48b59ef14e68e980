"""dicomfast itself: the reference every other contender is compared with
(in-process; ``--threads`` codec threads, 1 by default like the others)."""

from __future__ import annotations

from ..compare import decode_frames_ours, parse_form, pixels_of_file, values_form
from ..registry import Contender, Job
from ..workload import NATIVE, Workload


def _version() -> str:
    import dicomfast

    return dicomfast.__version__


def parse(w: Workload) -> Job:
    import dicomfast

    files = w.files_for("parse")
    return Job(
        lambda: [list(dicomfast.read(f).keys()) for f in files],
        lambda out: [parse_form(x) for x in out],
        how="dicomfast.read",
    )


def values(w: Workload) -> Job:
    import dicomfast

    files = w.files_for("values")

    def run() -> list:
        return [[(e.tag, e.VR, e.value) for e in dicomfast.read(f).iterall()] for f in files]

    return Job(run, lambda out: [values_form(x) for x in out], how="read + iterall() .value")


def decode(w: Workload) -> Job:
    import dicomfast

    files, t = w.files_for("decode"), w.threads
    return Job(
        lambda: [dicomfast.read(f).pixel_array_as(threads=t) for f in files],
        how=f"read + pixel_array_as(threads={t})",
    )


def encode(w: Workload) -> Job:
    from dicomfast.pixels.encode import encode_frames

    arrays, infos, ts, t = w.arrays, w.infos, w.codec, w.threads

    def run() -> list:
        return [encode_frames(a, i, ts, threads=t) for a, i in zip(arrays, infos, strict=True)]

    def result(out: list) -> list:
        return [decode_frames_ours(fr, i, ts) for fr, i in zip(out, infos, strict=True)]

    return Job(run, result, how=f"pixels.encode.encode_frames({ts}, threads={t})")


def transcode(w: Workload) -> Job:
    import dicomfast

    files, t = w.files_for("transcode"), w.threads
    out = w.scratch("transcode-dicomfast")
    outputs = [out / f"{i:06d}.dcm" for i in range(len(files))]

    def run() -> None:
        for f, o in zip(files, outputs, strict=True):
            ds = dicomfast.read(f)
            target = w.transcode_target(f)
            if target in NATIVE:
                if w.syntax[f] not in NATIVE:
                    ds.decompress(threads=t)
                with open(o, "wb") as fh:  # a file object: no fsync, like the others
                    dicomfast.write(ds, fh, transfer_syntax=target)
            else:
                ds.compress(target, threads=t)
                with open(o, "wb") as fh:
                    dicomfast.write(ds, fh)

    return Job(
        run,
        lambda _: [pixels_of_file(o) for o in outputs],
        how="read + compress()/decompress() + write",
    )


def store(w: Workload) -> Job:
    from ..store import Receiver, send_dicomfast

    files = [str(f) for f in w.files_for("store")]
    rx = Receiver.start("dicomfast", w.scratch("store-dicomfast"))
    return Job(
        lambda: send_dicomfast(rx, files),
        lambda _: rx.received_uids(),
        how="dicomfast.net send_c_stores -> dicomfast serve",
        cleanup=rx.stop,
    )


CONTENDER = Contender(
    "dicomfast",
    _version,
    {
        "parse": parse,
        "values": values,
        "decode": decode,
        "encode": encode,
        "transcode": transcode,
        "store": store,
    },
    "the reference",
)
