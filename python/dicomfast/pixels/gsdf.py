"""The Grayscale Standard Display Function (PS3.14) and display/printer calibration.

* :func:`luminance` and :func:`jnd_index`: the GSDF of PS3.14 §7.1, luminance
  L (cd/m²) as a function of the Just-Noticeable Difference index j (1..1023),
  and the inverse given in §7.1 Note 1 (optionally refined to the exact inverse
  of L(j), which §7.1 Note 3 allows).
* :func:`density_to_luminance` and :func:`luminance_to_density`: hardcopy
  optical density against luminance on a light-box of luminance L0 with
  reflected ambient light La (§7.2; §7.3 for reflective prints, where La = 0).
* :func:`pvalues_to_luminance` and :func:`pvalues_to_density`: the targets of
  §7.2/§7.3 and Annex D.2, equal JND steps from P-Value 0 (j_min) to 2^N-1
  (j_max), for a print renderer.
* :func:`read_lut`, :func:`calibrate`, :func:`apply_gsdf`: a device's measured
  Characteristic Curve (PS3.14 §3.1, Annex C/D) read from a DCMTK-style
  ``.lut`` file, the calibration table that makes the device follow the GSDF,
  and that table applied to an image of P-Values.

The calibration is built the way DCMTK's ``dcmdspfn`` builds it (checked value
for value against its output in ``tests/pixels/test_gsdf.py``): the measured
points are interpolated to every driving level by a natural cubic spline
(optical densities are interpolated as densities), or fitted by a least-squares
polynomial when the file (``ord``) or the caller asks for one; the JND range is
j(L_min)..j(L_max) of the measured luminances including ambient light; P-Value
p aims at L(j_min + p (j_max - j_min) / (n - 1)); and each P-Value is given the
driving level whose luminance is nearest to its target (Annex D.1.3).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import CalibrationFileError

__all__ = [
    "JND_MAX",
    "JND_MIN",
    "Calibration",
    "CharacteristicCurve",
    "apply_gsdf",
    "calibrate",
    "density_to_luminance",
    "jnd_index",
    "luminance",
    "luminance_to_density",
    "pvalues_to_density",
    "pvalues_to_luminance",
    "read_lut",
]

Device = Literal["monitor", "printer", "camera", "scanner"]
DEVICES: tuple[str, ...] = ("monitor", "printer", "camera", "scanner")
#: devices whose ``.lut`` values are optical densities (the others: luminance)
DENSITY_DEVICES = frozenset({"printer", "scanner"})
#: devices that show images (P-Value -> DDL); cameras and scanners acquire them
OUTPUT_DEVICES = frozenset({"monitor", "printer"})

#: The JND index range of the GSDF (PS3.14 §7.1: j = 1 .. 1023).
JND_MIN = 1
JND_MAX = 1023

# PS3.14 §7.1: log10 L(j) is a rational function of Ln(j) with these coefficients.
_A, _B, _C, _D, _E = -1.3011877, -2.5840191e-2, 8.0242636e-2, -1.0320229e-1, 1.3646699e-1
_F, _G, _H, _K, _M = 2.8745620e-2, -2.5468404e-2, -3.1978977e-3, 1.2992634e-4, 1.3635334e-3
# PS3.14 §7.1 Note 1: j(L) is a polynomial of degree 8 in Log10(L) (A .. I).
_INVERSE = (
    71.498068,
    94.593053,
    41.912053,
    9.8247004,
    0.28175407,
    -1.1878455,
    -0.18014349,
    0.14710899,
    -0.017046845,
)


def _log10_luminance(j: NDArray[np.float64]) -> NDArray[np.float64]:
    x = np.log(j)
    num = _A + x * (_C + x * (_E + x * (_G + x * _M)))
    den = 1.0 + x * (_B + x * (_D + x * (_F + x * (_H + x * _K))))
    return num / den


def luminance(j: ArrayLike) -> Any:
    """Luminance in cd/m² of JND index ``j`` (scalar or array): the GSDF of PS3.14 §7.1.

    The standard defines the function for j in 1..1023 (0.05 to ~4000 cd/m²);
    other positive values are evaluated by the same formula.  Returns a float
    for a scalar, else a float64 array.
    """
    arr = np.asarray(j, dtype=np.float64)
    if np.any(arr <= 0):
        raise ValueError("JND index must be positive")
    out = 10.0 ** _log10_luminance(arr)
    return float(out) if out.ndim == 0 else out


def jnd_index(lum: ArrayLike, *, exact: bool = False) -> Any:
    """JND index of luminance ``lum`` (cd/m², > 0).

    By default the inverse polynomial of PS3.14 §7.1 Note 1 (what DCMTK uses;
    ``luminance(jnd_index(L))`` then differs from L by up to ~0.03 %).
    ``exact=True`` refines it by Newton steps on log10 L(j) until
    ``luminance(jnd_index(L, exact=True)) == L`` to double precision, as §7.1
    Note 3 allows.
    """
    arr = np.asarray(lum, dtype=np.float64)
    if np.any(~(arr > 0)):
        raise ValueError("luminance must be positive")
    logl = np.log10(arr)
    j = np.zeros_like(logl)
    for c in reversed(_INVERSE):
        j = j * logl + c
    if exact:
        j = np.maximum(j, 1e-3)
        for _ in range(8):
            step = 1e-6 * j
            f = _log10_luminance(j) - logl
            slope = (_log10_luminance(j + step) - _log10_luminance(j - step)) / (2 * step)
            j = np.maximum(j - f / slope, 1e-3)
    return float(j) if j.ndim == 0 else j


def density_to_luminance(density: ArrayLike, illumination: float, ambient: float = 0.0) -> Any:
    """Luminance of optical density ``density``: L = La + L0 · 10^-D.

    PS3.14 §7.2 (transmissive film on a light-box of luminance L0 =
    ``illumination``, with ambient light La = ``ambient`` reflected by the film)
    and §7.3 (reflective prints: L0 is the luminance of the unprinted paper and
    La = 0).  Luminances in cd/m².
    """
    out = ambient + illumination * 10.0 ** -np.asarray(density, dtype=np.float64)
    return float(out) if out.ndim == 0 else out


def luminance_to_density(lum: ArrayLike, illumination: float, ambient: float = 0.0) -> Any:
    """Optical density giving luminance ``lum``: D = -log10((L - La) / L0) (§7.2/§7.3)."""
    net = (np.asarray(lum, dtype=np.float64) - ambient) / illumination
    if np.any(~(net > 0)):
        raise ValueError("luminance must exceed the ambient light")
    out = -np.log10(net)
    return float(out) if out.ndim == 0 else out


def _targets(jmin: float, jmax: float, count: int) -> NDArray[np.float64]:
    """GSDF luminance of ``count`` P-Values spread evenly in JND from jmin to jmax."""
    if count < 2:
        raise ValueError("at least two P-Values are needed")
    j = jmin + np.arange(count, dtype=np.float64) * ((jmax - jmin) / (count - 1))
    return 10.0 ** _log10_luminance(j)


def pvalues_to_luminance(
    bits: int, min_luminance: float, max_luminance: float, *, exact: bool = True
) -> NDArray[np.float64]:
    """Target luminance of each of the 2^bits P-Values (PS3.14 §7.2, Annex D.2.2).

    P-Value 0 maps to j_min = j(``min_luminance``), 2^bits - 1 to
    j_max = j(``max_luminance``), the others proportionally in j; the result is
    L(j(p)).  ``exact`` uses the exact inverse of L(j) so that the end points
    are the given luminances (the §7.1 polynomial misses them by up to 0.03 %).
    """
    _check_bits(bits)
    if not 0 < min_luminance < max_luminance:
        raise ValueError("need 0 < min_luminance < max_luminance")
    jmin, jmax = jnd_index(np.array([min_luminance, max_luminance]), exact=exact)
    return _targets(float(jmin), float(jmax), 1 << bits)


def pvalues_to_density(
    bits: int,
    min_density: float,
    max_density: float,
    *,
    illumination: float = 2000.0,
    ambient: float = 10.0,
    exact: bool = True,
) -> NDArray[np.float64]:
    """Target optical density of each of the 2^bits P-Values, for a printer.

    PS3.14 §7.2 and Annex D.2.2: L_min = La + L0·10^-Dmax and
    L_max = La + L0·10^-Dmin, P-Values evenly spaced in JND between them, and
    each target luminance turned back into a density.  P-Value 0 is
    ``max_density`` (darkest), 2^bits - 1 is ``min_density``.  The defaults
    are the standard's example viewing conditions (L0 = 2000 cd/m², La = 10 cd/m²);
    for reflective prints (§7.3) pass ``ambient=0`` and the paper's luminance
    as ``illumination``.  With Dmin 0.20 and Dmax 3.00 this is Table D.2-1.
    """
    if not 0 <= min_density < max_density:
        raise ValueError("need 0 <= min_density < max_density")
    if illumination <= 0 or ambient < 0:
        raise ValueError("illumination must be positive and ambient light not negative")
    lmin = density_to_luminance(max_density, illumination, ambient)
    lmax = density_to_luminance(min_density, illumination, ambient)
    lum = pvalues_to_luminance(bits, lmin, lmax, exact=exact)
    return np.asarray(luminance_to_density(lum, illumination, ambient))


def _check_bits(bits: int) -> None:
    if not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 16:
        raise ValueError(f"bits must be 1..16, not {bits!r}")


# --- interpolation of the measured curve -------------------------------------


def _natural_spline(x: NDArray[np.float64], y: NDArray[np.float64], t: NDArray[np.float64]) -> Any:
    """Natural cubic spline through (x, y), evaluated at ``t`` (x increasing).

    The second derivatives M_i solve the tridiagonal system
    h_{i-1} M_{i-1} + 2 (h_{i-1} + h_i) M_i + h_i M_{i+1} = 6 (s_i - s_{i-1}),
    with h_i = x_{i+1} - x_i, s_i the slope of segment i and M_0 = M_{n-1} = 0
    (the "natural" end conditions); solved by the Thomas algorithm.
    """
    n = len(x)
    if n == 2:
        return np.interp(t, x, y)
    h = np.diff(x)
    s = np.diff(y) / h
    m = np.zeros(n)
    diag = 2.0 * (h[:-1] + h[1:])
    rhs = 6.0 * np.diff(s)
    off = h[1:-1]
    # forward elimination
    for i in range(1, n - 2):
        w = off[i - 1] / diag[i - 1]
        diag[i] -= w * off[i - 1]
        rhs[i] -= w * rhs[i - 1]
    inner = np.zeros(n - 2)
    inner[-1] = rhs[-1] / diag[-1]
    for i in range(n - 4, -1, -1):
        inner[i] = (rhs[i] - off[i] * inner[i + 1]) / diag[i]
    m[1:-1] = inner
    hi = np.clip(np.searchsorted(x, t, side="right"), 1, n - 1)
    lo = hi - 1
    width = x[hi] - x[lo]
    a = (x[hi] - t) / width
    b = 1.0 - a
    return a * y[lo] + b * y[hi] + ((a**3 - a) * m[lo] + (b**3 - b) * m[hi]) * width**2 / 6.0


def _polynomial_fit(
    x: NDArray[np.float64], y: NDArray[np.float64], order: int, t: NDArray[np.float64]
) -> Any:
    """Least-squares polynomial of degree ``order`` through (x, y), evaluated at ``t``.

    x is scaled to [0, 1] for a well-conditioned solve; the fitted polynomial
    is the same as without scaling.
    """
    scale = float(x.max()) or 1.0
    coef = np.polynomial.polynomial.polyfit(x / scale, y, order)
    return np.polynomial.polynomial.polyval(t / scale, coef)


# --- the .lut file --------------------------------------------------------------


@dataclass(frozen=True)
class CharacteristicCurve:
    """A device's measured Characteristic Curve (PS3.14 §3.1), as in a ``.lut`` file.

    ``ddl`` are the measured Digital Driving Levels (increasing, 0..``max_ddl``),
    ``values`` their luminance in cd/m² without ambient light (monitor, camera)
    or optical density (printer, scanner).  ``ambient`` (``amb``),
    ``illumination`` (``lum``) and ``order`` (``ord``) are the file's optional
    settings, ``None`` when absent.
    """

    ddl: NDArray[np.float64]
    values: NDArray[np.float64]
    max_ddl: int
    ambient: float | None = None
    illumination: float | None = None
    order: int | None = None
    path: str | None = None

    def interpolate(self, order: int | None = None) -> NDArray[np.float64]:
        """The curve's value at every DDL 0..max_ddl, in the file's quantity.

        The measured values themselves when every DDL was measured (then
        ``order`` is ignored, as by DCMTK); otherwise a least-squares polynomial
        of degree ``order`` (default: the file's ``ord``) when it is positive,
        else a natural cubic spline through the measured points.
        """
        if self.complete:
            return self.values.copy()
        order = self.order if order is None else order
        t = np.arange(self.max_ddl + 1, dtype=np.float64)
        if order is not None and order > 0:
            if order >= len(self.ddl):
                raise ValueError(
                    f"a polynomial of order {order} needs more than {len(self.ddl)} points"
                )
            return np.asarray(_polynomial_fit(self.ddl, self.values, order, t))
        return np.asarray(_natural_spline(self.ddl, self.values, t))

    @property
    def complete(self) -> bool:
        """Every DDL 0..max_ddl was measured (nothing to interpolate)."""
        return len(self.ddl) == self.max_ddl + 1


_KEYWORDS = {"max", "amb", "lum", "ord"}


def read_lut(path: str | os.PathLike[str], *, text: str | None = None) -> CharacteristicCurve:
    """Read a DCMTK-style characteristic curve file (``monitor.lut``, ``printer.lut``...).

    Format: ``#`` starts a comment; ``max N`` (required) is the highest DDL;
    ``amb L`` the ambient light and ``lum L0`` the illumination in cd/m²,
    ``ord N`` a polynomial order for curve fitting (all optional); every other
    line is ``DDL VALUE``.  Whether VALUE is a luminance or an optical density
    depends on the device (see :func:`calibrate`).  ``text`` parses that string
    instead of reading the file.  Errors: :class:`~dicomfast.errors.CalibrationFileError`
    naming the line.
    """
    name = os.fspath(path)
    if text is None:
        try:
            with open(name, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as e:
            raise CalibrationFileError(f"cannot read: {e.strerror or e}", path=name) from e

    def fail(lineno: int, msg: str) -> CalibrationFileError:
        return CalibrationFileError(f"line {lineno}: {msg}", path=name)

    settings: dict[str, float] = {}
    points: dict[int, tuple[float, int]] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        fields = raw.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            raise fail(lineno, f"expected two fields, found {len(fields)}: {raw.strip()!r}")
        key, value = fields
        try:
            number = float(value)
        except ValueError:
            raise fail(lineno, f"not a number: {value!r}") from None
        if not math.isfinite(number):
            raise fail(lineno, f"not a finite number: {value!r}")
        lowered = key.lower()
        if lowered in _KEYWORDS:
            if lowered in settings:
                raise fail(lineno, f"{lowered!r} given twice")
            if lowered in ("max", "ord") and (number != int(number) or number < 0):
                raise fail(lineno, f"{lowered!r} must be a non-negative integer")
            if lowered in ("amb", "lum") and number < 0:
                raise fail(lineno, f"{lowered!r} must not be negative")
            settings[lowered] = number
            continue
        if not key.isdigit():
            raise fail(lineno, f"unknown keyword or bad driving level {key!r}")
        ddl = int(key)
        if ddl in points:
            raise fail(lineno, f"driving level {ddl} given twice (line {points[ddl][1]})")
        points[ddl] = (number, lineno)
    if "max" not in settings:
        raise CalibrationFileError("missing 'max' (the highest driving level)", path=name)
    max_ddl = int(settings["max"])
    if not 1 <= max_ddl <= 65535:
        raise CalibrationFileError(f"'max' must be 1..65535, not {max_ddl}", path=name)
    if len(points) < 2:
        raise CalibrationFileError("fewer than two measured driving levels", path=name)
    for ddl, (_, lineno) in points.items():
        if ddl > max_ddl:
            raise fail(lineno, f"driving level {ddl} above 'max' {max_ddl}")
    keys = sorted(points)
    order = settings.get("ord")
    return CharacteristicCurve(
        ddl=np.array(keys, dtype=np.float64),
        values=np.array([points[k][0] for k in keys], dtype=np.float64),
        max_ddl=max_ddl,
        ambient=settings.get("amb"),
        illumination=settings.get("lum"),
        order=None if order is None else int(order),
        path=name,
    )


# --- calibration --------------------------------------------------------------------


def _nearest(candidates: NDArray[np.float64], targets: NDArray[np.float64]) -> NDArray[np.intp]:
    """Index of the candidate nearest to each target (the lower one on a tie)."""
    if len(candidates) > 1 and np.all(np.diff(candidates) > 0):
        hi = np.clip(np.searchsorted(candidates, targets), 1, len(candidates) - 1)
        lo = hi - 1
        pick_lo = np.abs(candidates[lo] - targets) <= np.abs(candidates[hi] - targets)
        return np.where(pick_lo, lo, hi)
    # not increasing (a fitted curve that overshoots): search all, in blocks
    out = np.empty(len(targets), dtype=np.intp)
    for start in range(0, len(targets), 1024):
        block = targets[start : start + 1024]
        out[start : start + 1024] = np.argmin(np.abs(candidates[None, :] - block[:, None]), axis=1)
    return out


@dataclass(frozen=True)
class Calibration:
    """A device's GSDF calibration (what DCMTK's ``dcmdspfn +Og`` tabulates).

    Per driving level ``ddl`` (0..max): ``cc`` the Characteristic Curve
    (luminance including ambient light, cd/m²), ``gsdf`` the GSDF target of the
    P-Value with the same number, ``psc`` the value after calibration.  For a
    display or printer, ``lut[p]`` is the DDL that P-Value p drives (the DDL
    whose luminance is nearest to the target) and ``psc = cc[lut]``.  For a
    camera or scanner, ``lut[d]`` is the P-Value for device value d (the target
    nearest to ``cc[d]``) and ``psc = gsdf[lut]``.
    """

    device: str
    curve: CharacteristicCurve
    ambient: float
    illumination: float | None
    order: int | None
    ddl: NDArray[np.intp]
    cc: NDArray[np.float64]
    gsdf: NDArray[np.float64]
    psc: NDArray[np.float64]
    lut: NDArray[np.intp]
    min_luminance: float
    max_luminance: float
    jnd_min: float
    jnd_max: float
    _cache: dict[Any, NDArray[Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def max_ddl(self) -> int:
        return self.curve.max_ddl

    def pvalue_lut(self, bits: int) -> NDArray[Any]:
        """DDL for each of the 2^bits P-Values (displays and printers only).

        Targets evenly spaced in JND from ``jnd_min`` (P-Value 0) to ``jnd_max``
        (2^bits - 1), each given the driving level of nearest luminance.  uint8
        when the device's DDLs fit, else uint16.  Cached per ``bits``.
        """
        _check_bits(bits)
        if self.device not in OUTPUT_DEVICES:
            raise ValueError(f"a {self.device} acquires images; P-Value LUTs are for displays")
        lut = self._cache.get(bits)
        if lut is None:
            targets = _targets(self.jnd_min, self.jnd_max, 1 << bits)
            dtype = np.uint8 if self.max_ddl <= 0xFF else np.uint16
            lut = _nearest(self.cc, targets).astype(dtype)
            lut.setflags(write=False)
            self._cache[bits] = lut
        return lut

    def rows(self) -> Iterator[dict[str, Any]]:
        """One dict per driving level: ``ddl``, ``cc``, ``gsdf``, ``psc`` (cd/m²)."""
        for d, c, g, p in zip(
            self.ddl.tolist(),
            self.cc.tolist(),
            self.gsdf.tolist(),
            self.psc.tolist(),
            strict=True,
        ):
            yield {"ddl": d, "cc": c, "gsdf": g, "psc": p}


def calibrate(
    curve: CharacteristicCurve | str | os.PathLike[str],
    *,
    device: Device = "monitor",
    ambient: float | None = None,
    illumination: float | None = None,
    order: int | None = None,
) -> Calibration:
    """The GSDF calibration of a device with the measured ``curve`` (PS3.14 Annex D).

    ``device``: ``monitor``/``camera`` (the curve holds luminances) or
    ``printer``/``scanner`` (optical densities, turned into luminance with
    ``illumination`` L0 and ``ambient`` La by §7.2).  ``ambient`` and
    ``illumination`` override the file's ``amb``/``lum`` (ambient defaults to 0;
    printers and scanners need an illumination), ``order`` its ``ord`` (0 = the
    cubic spline).  Equals ``dcmdspfn +Im/+Ip/+Ic/+Is FILE [+Ca L] [+Ci L0]
    [+Cf N] +Og OUT``.
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if not isinstance(curve, CharacteristicCurve):
        curve = read_lut(curve)
    amb = ambient if ambient is not None else (curve.ambient or 0.0)
    if amb < 0:
        raise ValueError("ambient light must not be negative")
    fit_order = None if curve.complete else (curve.order if order is None else order)
    values = curve.interpolate(fit_order)
    illum: float | None = None
    if device in DENSITY_DEVICES:
        illum = illumination if illumination is not None else curve.illumination
        if illum is None or illum <= 0:
            raise CalibrationFileError(
                f"a {device} curve holds optical densities: give the illumination "
                "('lum' in the file or --illumination)",
                path=curve.path,
            )
        measured = density_to_luminance(curve.values, illum, amb)
        cc = density_to_luminance(values, illum, amb)
    else:
        measured = curve.values + amb
        cc = values + amb
    lmin, lmax = float(np.min(measured)), float(np.max(measured))
    if not 0 < lmin < lmax:
        raise CalibrationFileError(
            "the measured luminances (with ambient light) must be positive and not all equal",
            path=curve.path,
        )
    jmin, jmax = (float(v) for v in jnd_index(np.array([lmin, lmax])))
    count = curve.max_ddl + 1
    gsdf = _targets(jmin, jmax, count)
    if device in OUTPUT_DEVICES:
        lut = _nearest(cc, gsdf)
        psc = cc[lut]
    else:
        lut = _nearest(gsdf, cc)
        psc = gsdf[lut]
    return Calibration(
        device=device,
        curve=curve,
        ambient=float(amb),
        illumination=None if illum is None else float(illum),
        order=fit_order if fit_order else None,
        ddl=np.arange(count),
        cc=np.asarray(cc, dtype=np.float64),
        gsdf=gsdf,
        psc=np.asarray(psc, dtype=np.float64),
        lut=lut,
        min_luminance=lmin,
        max_luminance=lmax,
        jnd_min=jmin,
        jnd_max=jmax,
    )


def apply_gsdf(pvalues: ArrayLike, calibration: Calibration, bits: int = 8) -> NDArray[Any]:
    """Driving levels that show the P-Values ``pvalues`` on the calibrated device.

    ``pvalues`` is an integer array of ``bits``-bit P-Values (the output of the
    display pipeline, e.g. 8-bit after windowing); values above 2^bits - 1 are
    taken as 2^bits - 1 and negative ones as 0.  The result has the same shape,
    uint8 when the device's DDLs fit, else uint16.  One table look-up per pixel
    (:meth:`Calibration.pvalue_lut`), no formula per pixel.
    """
    lut = calibration.pvalue_lut(bits)
    arr = np.asarray(pvalues)
    if arr.dtype.kind not in "ui":
        raise TypeError(f"P-Values must be integers, not {arr.dtype}")
    top = (1 << bits) - 1
    if arr.dtype in (np.uint8, np.uint16):
        # one table over every value of the dtype: no clipping pass
        full_size = 1 << (8 * arr.dtype.itemsize)
        key = ("full", bits, full_size)
        full = calibration._cache.get(key)
        if full is None:
            full = np.full(full_size, lut[top], dtype=lut.dtype)
            n = min(full_size, top + 1)
            full[:n] = lut[:n]
            full.setflags(write=False)
            calibration._cache[key] = full
        return full[arr]
    return lut[np.clip(arr, 0, top)]
