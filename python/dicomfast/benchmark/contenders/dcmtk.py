"""DCMTK, whole processes (start-up and file I/O included in the time):
``dcmdump`` (one process for all files) for parse and values, ``dcmdrle`` /
``dcmdjpeg`` / ``dcmcrle`` / ``dcmcjpeg`` (one process per file) for transcode,
``storescu`` -> ``storescp`` for store.  Always ``/usr/bin/<tool>`` checked to be
DCMTK's (pynetdicom installs same-named shims)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from ..compare import number_text, parse_form, pixels_of_file, values_form
from ..registry import PROCESS, Contender, Declines, Job, Skip, Unsupported
from ..store import dcmtk_tool
from ..workload import EXPLICIT_LE, JPEG_LL, JPEG_LL_SV1, NATIVE, RLE, Workload

_LINE = re.compile(
    r"^(\s*)\(([0-9a-f]{4}),([0-9a-f]{4})\) (\w\w) (.*) #\s*(\d+|u/l|\?),\s*(\d+) (\S+)\s*$"
)
_HEADER = re.compile(r"^# dcmdump \((\d+)/(\d+)\): ")
_NUMERIC = {"US", "SS", "UL", "SL", "FL", "FD", "SV", "UV", "DS", "IS"}


def _tool(name: str) -> str:
    path = dcmtk_tool(name)
    if path is None:
        raise Skip(f"DCMTK {name} not installed")
    return path


def _per_file(raw: bytes) -> list[list[str]]:
    """dcmdump +F output split into each file's data set lines (meta header left
    out), each file's text decoded as its Specific Character Set says (UTF-8 for
    ISO_IR 192, else Latin-1: other character sets are not converted)."""
    files: list[list[str]] = []
    for chunk in re.split(rb"(?m)^(?=# dcmdump \()", raw):
        utf8 = re.search(rb"(?m)^\(0008,0005\) CS \[[^]]*ISO_IR 192", chunk)
        files += _split(chunk.decode("utf-8" if utf8 else "latin-1", "replace"))
    return files


def _split(text: str) -> list[list[str]]:
    files: list[list[str]] = []
    in_data = False
    for line in text.splitlines():
        if _HEADER.match(line):
            files.append([])
            in_data = False
        elif line.startswith("# Dicom-Data-Set"):
            in_data = True
        elif in_data and files:
            files[-1].append(line)
    return files


def _value(vr: str, text: str) -> str:
    text = text.strip()
    if text.startswith("(no value available)"):
        return ""
    if text.startswith("["):
        text = text[1 : text.rindex("]")] if "]" in text else text[1:]
    if vr == "AT":
        return "\\".join(
            number_text(str(int(g + e, 16)))
            for g, e in re.findall(r"\(([0-9a-f]{4}),([0-9a-f]{4})\)", text)
        )
    if vr in _NUMERIC:
        return "\\".join(number_text(v) for v in text.split("\\"))
    return text


def _dump(w: Workload, task: str, extra: list[str]) -> tuple[list[str], list]:
    files = [str(f) for f in w.files_for(task)]
    return [_tool("dcmdump"), "+F", "-Un", *extra, *files], files


def parse(w: Workload) -> Job:
    cmd, files = _dump(w, "parse", [])

    def result(out: bytes) -> list:
        per = _per_file(out)
        return [
            parse_form(
                int(m[2] + m[3], 16) for line in lines if (m := _LINE.match(line)) and not m[1]
            )
            for lines in per
        ]

    return Job(
        lambda: subprocess.run(cmd, check=True, capture_output=True, timeout=600).stdout,
        result,
        kind=PROCESS,
        how="dcmdump (one process)",
    )


def values(w: Workload) -> Job:
    cmd, files = _dump(w, "values", ["+L", "-M"])  # -M: bulk data not loaded

    def result(out: bytes) -> list:
        per = _per_file(out)
        forms = []
        for lines in per:
            items = []
            for line in lines:
                m = _LINE.match(line)
                if m is None or m[2] == "fffe":
                    continue
                tag = int(m[2] + m[3], 16)
                items.append((tag, m[4], _value(m[4], m[5]) if m[4] not in ("SQ", "na") else ""))
            forms.append(values_form(items))
        return forms

    return Job(
        lambda: subprocess.run(cmd, check=True, capture_output=True, timeout=600).stdout,
        result,
        kind=PROCESS,
        how="dcmdump +L (one process)",
    )


def _command(src: str, dst: str, source_ts: str, target: str) -> list[str]:
    if target in NATIVE:
        if source_ts == RLE:
            return [_tool("dcmdrle"), "+te", src, dst]
        if source_ts in (JPEG_LL, JPEG_LL_SV1) or source_ts.startswith("1.2.840.10008.1.2.4.5"):
            return [_tool("dcmdjpeg"), "+te", src, dst]
        if source_ts in NATIVE and target == EXPLICIT_LE:
            return [_tool("dcmconv"), "+te", src, dst]
    if target == RLE and source_ts in NATIVE:
        return [_tool("dcmcrle"), src, dst]
    if target == JPEG_LL_SV1 and source_ts in NATIVE:
        return [_tool("dcmcjpeg"), "+e1", src, dst]
    raise Unsupported(f"no DCMTK tool chosen for {source_ts} -> {target}")


def transcode(w: Workload) -> Job:
    files = w.files_for("transcode")
    out = w.scratch("transcode-dcmtk")
    outputs = [out / f"{i:06d}.dcm" for i in range(len(files))]
    cmds = [
        _command(str(f), str(o), w.syntax[f], w.transcode_target(f))
        for f, o in zip(files, outputs, strict=True)
    ]

    def run() -> None:
        for c in cmds:
            subprocess.run(c, check=True, capture_output=True, timeout=600)

    return Job(
        run,
        lambda _: [pixels_of_file(o) for o in outputs],
        kind=PROCESS,
        how="dcmdrle/dcmdjpeg/dcmcrle/dcmcjpeg per file",
    )


def store(w: Workload) -> Job:
    _tool("storescu")
    _tool("storescp")
    from ..store import STORESCU_PROPOSE, Receiver, send_storescu

    groups: dict[str, list[str]] = {}
    declined: dict[Any, str] = {}
    for f in w.files_for("store"):
        flag = STORESCU_PROPOSE.get(w.syntax[f])
        if flag is None:
            declined[f] = f"storescu has no option proposing {w.syntax[f]}"
            continue
        groups.setdefault(flag, []).append(str(f))
    if declined:
        raise Declines(declined)
    rx = Receiver.start("dcmtk", w.scratch("store-dcmtk"))
    failed: dict[str, str] = {}

    def run() -> None:
        failed.clear()
        for flag, files in groups.items():  # storescu proposes one kind of syntax per run
            send_storescu(rx, files, flag, failed)

    return Job(
        run,
        lambda _: rx.received_uids(),
        kind=PROCESS,
        how="storescu (one per syntax) -> storescp",
        cleanup=rx.stop,
        failed=lambda: {Path(f): why for f, why in failed.items()},
    )


def _version() -> str | None:
    path = dcmtk_tool("dcmdump")
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    m = re.search(r"v(\d+\.\d+\.\d+)", out.stdout + out.stderr)
    return m.group(1) if m else "?"


CONTENDER = Contender(
    "dcmtk",
    _version,
    {"parse": parse, "values": values, "transcode": transcode, "store": store},
    "DCMTK command-line tools, whole processes",
)
