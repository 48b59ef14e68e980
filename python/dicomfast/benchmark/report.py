"""The report: a table per task (text), and a bar chart (matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _t(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def _n(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}" if x < 1000 else f"{x:,.0f}"


#: the files left out of a contender's timing named in the table, at most
LEFT_OUT_SHOWN = 3


def _clip(text: str, n: int) -> str:
    """The first line of ``text``, cut to ``n`` characters with "..." where cut."""
    line = (text.splitlines() or [""])[0]
    return line if len(line) <= n else line[: n - 3].rstrip() + "..."


def _left_out(row: dict[str, Any], total: int) -> str:
    """``k of n files; left out: NAME (status: reason), ...`` (the first few)."""
    gone = row["excluded"]
    shown = [
        f"{Path(e['path']).name} ({e['status']}: {_clip(e['reason'], 100)})"
        for e in gone[:LEFT_OUT_SHOWN]
    ]
    more = f", and {len(gone) - LEFT_OUT_SHOWN} more" if len(gone) > LEFT_OUT_SHOWN else ""
    head = f"{row['files']} of {total} files, ours on the same; " if total else ""
    return f"{head}left out: {', '.join(shown)}{more}"


def table(doc: dict[str, Any]) -> str:
    """Every task's table, one after the other."""
    out = []
    for task, sec in doc["tasks"].items():
        mb = sec["bytes"] / 1e6
        out.append(f"{task}: {sec['files']} files, {mb:.1f} MB - compared on {sec['compared_on']}")
        if sec.get("left_out"):
            gone = sec["left_out"]
            shown = [
                f"{Path(e['path']).name} ({_clip(e['reason'], 100)})" for e in gone[:LEFT_OUT_SHOWN]
            ]
            more = f", and {len(gone) - LEFT_OUT_SHOWN} more" if len(gone) > LEFT_OUT_SHOWN else ""
            does = {
                "parse": "read",
                "values": "read",
                "store": "read or store",
                "encode": "encode so, read or decode",
                "transcode": "encode so, read or decode",
            }.get(task, "read or decode")
            out.append(
                f"  left out: {len(gone)} file(s) dicomfast does not {does}: "
                f"{', '.join(shown)}{more}"
            )
        if sec.get("note"):
            out.append(f"  {sec['note']}")
            out.append("")
            continue
        head = ("contender", "kind", "median", "IQR", "min-max", "files/s", "MB/s", "time/ours")
        rows = [head]
        notes = []
        for r in sec["results"]:
            name = r["contender"] + (f" {r['version']}" if r.get("version") else "")
            if r["status"] != "ok" or "median_s" not in r:
                rows.append((name, r.get("kind") or "", r["status"], "", "", "", "", ""))
                if r.get("reason"):
                    notes.append(
                        f"  {r['contender']}: {r['status']}: {r['reason'].splitlines()[0]}"
                    )
                if r.get("excluded"):
                    notes.append(f"  {r['contender']}: on each file alone: {_left_out(r, 0)}")
                continue
            left_out = r.get("excluded") or []
            if left_out:
                notes.append(f"  {r['contender']}: timed on {_left_out(r, sec['files'])}")
            rows.append(
                (
                    name,
                    r["kind"],
                    _t(r["median_s"]),
                    f"{_t(r['q1_s'])}-{_t(r['q3_s'])}",
                    f"{_t(r['min_s'])}-{_t(r['max_s'])}",
                    _n(r["files_per_s"]),
                    _n(r["mb_per_s"]),
                    f"{r['ratio']:.2f}x" if r.get("ratio") is not None else "-",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        for row in rows:
            out.append(
                "  "
                + "  ".join(
                    c.ljust(w) if i < 2 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                ).rstrip()
            )
        out.extend(notes)
        out.append("")
    out.append(
        "time/ours: the contender's median time over dicomfast's in the same interleaved "
        "rounds (above 1: dicomfast is faster); for a contender timed on some of the files, "
        "over dicomfast's on the same files."
    )
    return "\n".join(out)


class PlotUnavailable(RuntimeError):
    pass


def plot(doc: dict[str, Any], path: str) -> None:
    """Bars of each contender's throughput (files/s) per task, the interquartile
    range as error bars, one panel per task."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable(
            "--plot needs matplotlib: pip install 'dicomfast[plot]' (or matplotlib)"
        ) from None
    tasks = [t for t, s in doc["tasks"].items() if any("median_s" in r for r in s["results"])]
    fig, axes = plt.subplots(
        len(tasks) or 1, 1, figsize=(7, 1.2 + 1.6 * max(1, len(tasks))), squeeze=False
    )
    for ax, task in zip(axes[:, 0], tasks, strict=False):
        sec = doc["tasks"][task]
        rows = [r for r in sec["results"] if "median_s" in r]
        n = sec["files"]
        names = [r["contender"] for r in rows]
        # a contender timed on some of the files: its own count (its ratio is to ours on them)
        m = [r.get("files", n) for r in rows]
        rate = [k / r["median_s"] for k, r in zip(m, rows, strict=True)]
        lo = [k / r["median_s"] - k / r["q3_s"] for k, r in zip(m, rows, strict=True)]
        hi = [k / r["q1_s"] - k / r["median_s"] for k, r in zip(m, rows, strict=True)]
        colours = ["tab:red" if c == "dicomfast" else "tab:blue" for c in names]
        ax.barh(names, rate, xerr=[lo, hi], color=colours)
        ax.invert_yaxis()
        ax.set_title(f"{task} ({n} files)", fontsize=10)
        ax.set_xlabel("files/s (higher is better)")
        for i, r in enumerate(rows):
            ax.text(rate[i], i, f" {r['ratio']:.2f}x" if r.get("ratio") else "", va="center")
    if not tasks:
        axes[0, 0].text(0.5, 0.5, "nothing timed", ha="center")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
