"""Pixel data: decoding and encoding (Rust codecs: native, RLE Lossless, JPEG Lossless,
Deflated Image Frame Compression) and the display pipeline (Cython kernels)."""

from .decode import (
    decode_frame,
    decode_frames,
    frame,
    iter_frames,
    pixel_array,
    read_pixel_array,
)
from .display import (
    apply_color_lut,
    apply_modality_lut,
    apply_presentation_lut,
    apply_voi,
    apply_voi_lut,
    apply_windowing,
    convert_color_space,
)
from .encode import compress, decompress, encode_frame, encode_frames
from .frames import encapsulate
from .info import PixelInfo, pixel_info

__all__ = [
    "PixelInfo",
    "apply_color_lut",
    "apply_modality_lut",
    "apply_presentation_lut",
    "apply_voi",
    "apply_voi_lut",
    "apply_windowing",
    "convert_color_space",
    "compress",
    "decode_frame",
    "decode_frames",
    "decompress",
    "encapsulate",
    "encode_frame",
    "encode_frames",
    "frame",
    "iter_frames",
    "pixel_array",
    "pixel_info",
    "read_pixel_array",
]
