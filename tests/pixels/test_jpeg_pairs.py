"""JPEG Lossless frames decoded two at a time (one thread decodes a pair in lockstep):
the same pixels as one by one, for even and odd frame counts and any thread count, and a
damaged frame still named in the error."""

from __future__ import annotations

import io

import dicomfast
import numpy as np
import pytest
from dicomfast.errors import PixelDataError
from dicomfast.pixels import decode_frames
from dicomfast.pixels.encode import encode_frames
from dicomfast.pixels.frames import encapsulate
from dicomfast.pixels.info import JPEG_LOSSLESS_SV1, pixel_info

pydicom = pytest.importorskip("pydicom")


def _dataset(frames: list[bytes], shape: tuple[int, int, int]) -> dicomfast.Dataset:
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import generate_uid

    n, rows, cols = shape
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = JPEG_LOSSLESS_SV1
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, n
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = encapsulate(frames)
    ds["PixelData"].VR = "OB"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return dicomfast.read(buf.getvalue())


@pytest.mark.parametrize("count", [4, 7])
def test_pairs_decode_as_singles_and_name_a_bad_frame(count: int) -> None:
    rng = np.random.default_rng(count)
    y, x = np.mgrid[0:61, 0:47]
    arr = np.stack([(y * 13 + x * (k + 3)) % 4096 for k in range(count)]).astype(np.uint16)
    arr += rng.integers(0, 9, arr.shape, dtype=np.uint16)
    arr &= 0x0FFF
    # The layout only (an empty Pixel Data cannot hold the frames: pixel_info refuses it).
    info = pixel_info(_dataset([b"\0" * 8] * count, arr.shape))
    frames = encode_frames(arr, info, JPEG_LOSSLESS_SV1, threads=1)
    good = _dataset(frames, arr.shape)
    # 1 and 2 threads take pairs (7 frames with 3 threads too, the last frame alone)
    for threads in (1, 2, 3):
        np.testing.assert_array_equal(decode_frames(good, threads=threads), arr)
    bad = list(frames)
    bad[3] = bad[3][: len(bad[3]) // 2]
    broken = _dataset(bad, arr.shape)
    for threads in (1, 2):
        with pytest.raises(PixelDataError) as err:
            decode_frames(broken, threads=threads)
        assert err.value.frame == 3, str(err.value)
