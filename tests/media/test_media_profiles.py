"""``media create --profile`` with the codecs: an instance in a transfer syntax the
profile does not allow is converted on the way (images to the profile's lossless
compression, never to a lossy one unless named with ``-t``); DCMTK's ``dcmmkdir``
with the profile's option accepts the result (and refuses the inputs), dciodvfy finds
no error in a converted file, and the pixels decode equal to the input's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import dicomfast  # noqa: E402
from dicomfast import uid as uids  # noqa: E402
from dicomfast.media import FileSet  # noqa: E402
from dicomfast.media.profiles import Conformer  # noqa: E402
from dicomfast.media.verify import verify  # noqa: E402
from media_helpers import make_instance, media_cli  # noqa: E402

DCMMKDIR = Path("/usr/bin/dcmmkdir")
DCIODVFY = Path("/usr/bin/dciodvfy")
#: dcmmkdir's option for each profile
DCMMKDIR_PROFILE = {
    "STD-GEN-DVD-JPEG": "-Pdv",
    "STD-GEN-USB-JPEG": "-Pfl",
    "STD-GEN-DVD-J2K": "-Pd2",
    "STD-GEN-USB-J2K": "-Pf2",
    "STD-GEN-CD": "-Pgp",
}


_cli = media_cli


def _image(path: Path, number: int, bits: int, samples: int, ts: str) -> np.ndarray:
    """A 64x48 Secondary Capture image of random pixels (``bits`` stored, 1 or 3
    samples) in ``ts``, with what dciodvfy asks of it; returns its pixels."""
    make_instance(path, "1", "1", "1", number)
    ds = dicomfast.read(path)
    ds.ReferringPhysicianName = ""
    ds.Laterality = ""
    ds.PatientOrientation = ""
    shape = (48, 64, 3) if samples == 3 else (48, 64)
    dtype = np.uint16 if bits > 8 else np.uint8
    arr = np.random.default_rng(number).integers(0, 1 << bits, shape, dtype=dtype)
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 48, 64, samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 16 if bits > 8 else 8
    ds.BitsStored, ds.HighBit = bits, bits - 1
    ds.add_new(0x7FE00010, "OW" if bits > 8 else "OB", arr.tobytes())
    if dicomfast.syntaxes.get(ts).encapsulated:
        ds.compress(ts)
    dicomfast.write(ds, path, transfer_syntax=ts)
    return arr


def _no_pixels(path: Path, number: int, ts: str) -> None:
    """An instance without Pixel Data (the same SC keys) in ``ts``."""
    make_instance(path, "1", "1", "2", number)
    ds = dicomfast.read(path)
    del ds[0x7FE00010]
    dicomfast.write(ds, path, transfer_syntax=ts)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, np.ndarray | None]]:
    """Images in syntaxes no general profile allows (JPEG-LS, RLE, implicit VR), one in
    JPEG 2000 Lossless, one already in JPEG Lossless SV1, one explicit VR little
    endian, and an instance without pixels in implicit VR."""
    d = tmp_path_factory.mktemp("profile-in")
    made: dict[str, tuple[Path, np.ndarray | None]] = {}
    for n, (name, bits, samples, ts) in enumerate(
        [
            ("jls8", 8, 1, uids.JPEGLSLossless),
            ("j2k12", 12, 1, uids.JPEG2000Lossless),
            ("rle_rgb", 8, 3, uids.RLELossless),
            ("implicit12", 12, 1, uids.ImplicitVRLittleEndian),
            ("sv1", 16, 1, uids.JPEGLosslessSV1),
            ("explicit8", 8, 1, uids.ExplicitVRLittleEndian),
        ],
        start=1,
    ):
        made[name] = (d / name.upper(), _image(d / name.upper(), n, bits, samples, ts))
    _no_pixels(d / "NOPIX", 99, uids.ImplicitVRLittleEndian)
    made["nopix"] = (d / "NOPIX", None)
    return made


def _by_uid(paths: list[Path]) -> dict[str, Path]:
    return {dicomfast.read(p, stop_before_pixels=True).SOPInstanceUID: p for p in paths}


def _dcmmkdir(profile: str, folder: Path, files: list[str]) -> subprocess.CompletedProcess[str]:
    """DCMTK's profile check: dcmmkdir with the profile's option over ``files`` (File
    IDs relative to ``folder``), its DICOMDIR written beside ours."""
    return subprocess.run(
        [str(DCMMKDIR), DCMMKDIR_PROFILE[profile], "+D", "DCMTKDIR", *files],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("profile", "lossless"),
    [
        ("STD-GEN-DVD-JPEG", uids.JPEGLosslessSV1),
        ("STD-GEN-USB-JPEG", uids.JPEGLosslessSV1),
        ("STD-GEN-USB-J2K", uids.JPEG2000Lossless),
    ],
)
def test_profile_converts_with_the_codecs(
    tmp_path: Path,
    inputs: dict[str, tuple[Path, np.ndarray | None]],
    profile: str,
    lossless: str,
) -> None:
    paths = [p for p, _ in inputs.values()]
    before = {p: p.read_bytes() for p in paths}
    out = tmp_path / "OUT"
    r = _cli("create", str(out), *map(str, paths), "--profile", profile)
    assert r.returncode == 0, r.stderr
    assert {p: p.read_bytes() for p in paths} == before  # inputs untouched
    fs = FileSet(out)
    assert verify(fs) == []
    allowed = set(dicomfast.media.profiles.allowed(profile))
    src = _by_uid(paths)
    name_of = {p: name for name, (p, _) in inputs.items()}
    for inst in fs:
        name = name_of[src[inst.SOPInstanceUID]]
        got = inst.load()
        assert got.transfer_syntax == inst.TransferSyntaxUID
        assert got.transfer_syntax in allowed
        original = dicomfast.read(src[inst.SOPInstanceUID]).transfer_syntax
        if original in allowed:
            assert got.transfer_syntax == original, name  # allowed: copied as it is
            assert inst.path is not None
            assert Path(inst.path).read_bytes() == before[src[inst.SOPInstanceUID]]
        elif name == "nopix":
            assert got.transfer_syntax == uids.ExplicitVRLittleEndian
        else:  # converted to the profile's lossless compression, never a lossy one
            assert got.transfer_syntax == lossless, name
            assert "LossyImageCompression" not in got
        arr = inputs[name][1]
        if arr is not None:
            assert np.array_equal(got.pixel_array, arr), name
    files = [str(Path(*inst.FileID)) for inst in fs if inst.FileID]
    if DCMMKDIR.exists():
        r = _dcmmkdir(profile, out, files)
        assert r.returncode == 0 and (out / "DCMTKDIR").exists(), r.stdout + r.stderr
        # ... and the same check refuses the inputs (JPEG-LS, RLE, implicit VR)
        bad = [inputs[n][0] for n in ("jls8", "rle_rgb", "implicit12")]
        r = _dcmmkdir(profile, bad[0].parent, [p.name for p in bad])
        assert r.returncode != 0 and "expected but" in r.stdout + r.stderr
    if DCIODVFY.exists():  # the images (an SC image without pixels is no valid one)
        for inst in fs:
            if name_of[src[inst.SOPInstanceUID]] != "nopix":
                v = subprocess.run([str(DCIODVFY), str(inst.path)], capture_output=True, text=True)
                assert "Error" not in v.stdout + v.stderr, (inst, v.stderr)


def test_lossy_only_when_named(
    tmp_path: Path, inputs: dict[str, tuple[Path, np.ndarray | None]]
) -> None:
    """``-t jpeg``: 8-bit images become JPEG Baseline (marked lossy, a new SOP Instance
    UID in the file and its record); a 12-bit one, which baseline cannot hold, is said
    so and written as the profile alone asks (lossless)."""
    eight, twelve = inputs["explicit8"][0], inputs["implicit12"][0]
    out = tmp_path / "OUT"
    r = _cli("create", str(out), str(eight), str(twelve), "--profile", "STD-GEN-USB-JPEG")
    assert r.returncode == 0, r.stderr
    assert {i.TransferSyntaxUID for i in FileSet(out)} == {
        uids.ExplicitVRLittleEndian,
        uids.JPEGLosslessSV1,
    }
    out = tmp_path / "LOSSY"
    args = ["create", str(out), str(eight), str(twelve), "--profile", "STD-GEN-USB-JPEG"]
    r = _cli(*args, "-t", "jpeg")
    assert r.returncode == 0, r.stderr
    assert "not 1.2.840.10008.1.2.4.50" in r.stderr  # the 12-bit one
    fs = FileSet(out)
    assert verify(fs) == []
    old = _by_uid([eight, twelve])
    got = {i.TransferSyntaxUID: i for i in fs}
    assert set(got) == {uids.JPEGBaseline8Bit, uids.JPEGLosslessSV1}
    jpeg = got[uids.JPEGBaseline8Bit]
    assert jpeg.SOPInstanceUID not in old  # lossy: a new instance
    ds = jpeg.load()
    assert ds.SOPInstanceUID == jpeg.SOPInstanceUID
    assert ds.LossyImageCompression == "01"
    assert got[uids.JPEGLosslessSV1].SOPInstanceUID in old
    if DCMMKDIR.exists():
        files = [str(Path(*i.FileID)) for i in fs if i.FileID]
        r = _dcmmkdir("STD-GEN-USB-JPEG", out, files)
        assert r.returncode == 0, r.stdout + r.stderr
    # a syntax the profile does not allow, or nothing knows: a usage error, nothing made
    r = _cli("create", str(tmp_path / "CD"), str(eight), "--profile", "STD-GEN-CD", "-t", "jpeg")
    assert r.returncode == 2 and "does not allow" in r.stderr
    r = _cli("create", str(tmp_path / "CD"), str(eight), "-t", "nonsense")
    assert r.returncode == 2 and not (tmp_path / "CD").exists()


def test_media_add_converts_and_api_keeps_the_callers_dataset(
    tmp_path: Path, inputs: dict[str, tuple[Path, np.ndarray | None]]
) -> None:
    out = tmp_path / "OUT"
    assert _cli("create", str(out), str(inputs["explicit8"][0])).returncode == 0
    r = _cli("add", str(out), str(inputs["jls8"][0]), "--profile", "STD-GEN-DVD-JPEG")
    assert r.returncode == 0, r.stderr
    fs = FileSet(out)
    assert sorted(i.TransferSyntaxUID or "" for i in fs) == sorted(
        [uids.ExplicitVRLittleEndian, uids.JPEGLosslessSV1]
    )
    assert verify(fs) == []
    # FileSet.add(Dataset) + write(transfer_syntax_of=...): the caller's data set is
    # converted in a copy
    ds = dicomfast.read(inputs["rle_rgb"][0])
    fs = FileSet()
    fs.add(ds)
    fs.write(tmp_path / "API", transfer_syntax_of=Conformer("STD-GEN-DVD-J2K"))
    assert ds.transfer_syntax == uids.RLELossless
    (inst,) = list(FileSet(tmp_path / "API"))
    assert inst.TransferSyntaxUID == uids.JPEG2000Lossless
    assert np.array_equal(inst.load().pixel_array, inputs["rle_rgb"][1])


def test_conversions_on_the_copy_threads(tmp_path: Path) -> None:
    """Enough instances for ``write`` to place them on its threads: each converted
    one (JPEG-LS, RLE, implicit VR, JPEG 2000 in turn) decodes to its pixels."""
    syntaxes = [uids.JPEGLSLossless, uids.RLELossless, uids.ImplicitVRLittleEndian]
    syntaxes.append(uids.JPEG2000Lossless)
    src = tmp_path / "src"
    src.mkdir()
    pixels = {}
    for i in range(12):
        p = src / f"I{i:02d}"
        arr = _image(p, 100 + i, 12 if i % 2 else 8, 1, syntaxes[i % 4])
        pixels[dicomfast.read(p, stop_before_pixels=True).SOPInstanceUID] = arr
    out = tmp_path / "OUT"
    r = _cli("create", str(out), str(src), "--profile", "STD-GEN-DVD-JPEG")
    assert r.returncode == 0, r.stderr
    fs = FileSet(out)
    assert len(fs) == 12 and verify(fs) == []
    for inst in fs:
        ds = inst.load()
        assert inst.TransferSyntaxUID == ds.transfer_syntax == uids.JPEGLosslessSV1
        assert np.array_equal(ds.pixel_array, pixels[inst.SOPInstanceUID])


def test_failed_conversion_in_add_leaves_the_old_fileset(
    tmp_path: Path, inputs: dict[str, tuple[Path, np.ndarray | None]]
) -> None:
    """``media add --profile``: one instance converts, the next cannot be decoded
    (JPEG 2000 relabelled as Part 2 multi-component): exit 1, and the File-set is the
    one before, byte for byte, with no file of the attempt left."""
    out = tmp_path / "OUT"
    assert _cli("create", str(out), str(inputs["explicit8"][0])).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    data = inputs["j2k12"][0].read_bytes()
    at = data.index(b"1.2.840.10008.1.2.4.90")  # the file meta's (0002,0010)
    bad = tmp_path / "MC"
    bad.write_bytes(data[:at] + b"1.2.840.10008.1.2.4.92" + data[at + 22 :])
    r = _cli("add", str(out), str(inputs["jls8"][0]), str(bad), "--profile", "STD-GEN-DVD-JPEG")
    assert r.returncode == 1 and "cannot decode" in r.stderr, r.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert verify(FileSet(out)) == []
