"""``dicomfast gsdf DEVICE.lut``: a device's GSDF calibration table (PS3.14), per driving
level the measured characteristic curve, the GSDF target and the calibrated value, as
DCMTK's ``dcmdspfn +Og`` writes it; ``--json`` gives JSON Lines."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import DicomError
from ..pixels.gsdf import Calibration, calibrate


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gsdf",
        help="GSDF calibration table of a display or printer (PS3.14)",
        description="For every driving level: the device's characteristic curve (CC, "
        "cd/m² including ambient light), the Grayscale Standard Display Function target "
        "(GSDF) and the value after calibration (PSC), like dcmdspfn +Og.",
    )
    p.add_argument("lut", metavar="DEVICE.lut", help="characteristic curve (DCMTK .lut format)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument(
        "--printer",
        dest="device",
        action="store_const",
        const="printer",
        help="the file holds optical densities of a printer (default: monitor luminances)",
    )
    kind.add_argument(
        "--scanner",
        dest="device",
        action="store_const",
        const="scanner",
        help="a film scanner's optical densities (PSC: the GSDF value each level maps to)",
    )
    kind.add_argument(
        "--camera",
        dest="device",
        action="store_const",
        const="camera",
        help="a camera's luminances (PSC as for --scanner)",
    )
    p.add_argument(
        "--ambient", type=float, metavar="L", help="reflected ambient light, cd/m² (default: file)"
    )
    p.add_argument(
        "--illumination",
        type=float,
        metavar="L0",
        help="light-box / paper illumination for printers, cd/m² (default: file)",
    )
    p.add_argument(
        "--order",
        type=int,
        metavar="N",
        help="fit a polynomial of order N to the curve (0: cubic spline; default: file)",
    )
    p.add_argument("--json", action="store_true", help="JSON Lines, one object per driving level")
    p.set_defaults(run=run, device="monitor")


def _header(cal: Calibration) -> list[str]:
    hardcopy = cal.illumination is not None
    kind = {"monitor": "softcopy", "camera": "softcopy"}.get(cal.device, "hardcopy")
    lines = [
        f"# device                 : {cal.device} ({kind})",
        f"# digital driving levels : {cal.max_ddl + 1}",
    ]
    if hardcopy:
        lines.append(f"# illumination  [cd/m^2] : {cal.illumination:g}")
    lines.append(f"# ambient light [cd/m^2] : {cal.ambient:g}")
    lines.append(
        f"# luminance     [cd/m^2] : {cal.min_luminance:g} - {cal.max_luminance:g}"
        " (with ambient light)"
    )
    if hardcopy:
        od = cal.curve.values
        lines.append(f"# optical density   [OD] : {od.min():g} - {od.max():g}")
    lines.append(
        f"# Barten JND index range : {cal.jnd_min:g} - {cal.jnd_max:g}"
        f" ({cal.jnd_max - cal.jnd_min:g})"
    )
    if cal.curve.complete:
        method = "none (every level measured)"
    elif cal.order:
        method = f"least-squares polynomial of order {cal.order}"
    else:
        method = "natural cubic spline"
    lines.append(f"# interpolation          : {method}")
    lines.append("# CC, GSDF and PSC in cd/m^2")
    lines.append("")
    lines.append("DDL\tCC\tGSDF\tPSC")
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        cal = calibrate(
            args.lut,
            device=args.device,
            ambient=args.ambient,
            illumination=args.illumination,
            order=args.order,
        )
    except (DicomError, ValueError) as e:
        print(f"dicomfast gsdf: {e}", file=sys.stderr)
        return 1
    out = sys.stdout
    if args.json:
        for row in cal.rows():
            out.write(json.dumps(row) + "\n")
        return 0
    out.write("\n".join(_header(cal)) + "\n")
    for row in cal.rows():
        out.write(f"{row['ddl']}\t{row['cc']:.6f}\t{row['gsdf']:.6f}\t{row['psc']:.6f}\n")
    return 0
