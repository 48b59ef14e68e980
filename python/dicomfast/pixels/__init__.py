"""Pixel data: the display pipeline (Cython kernels) and, later, decoding."""

from .display import apply_modality_lut

__all__ = ["apply_modality_lut"]
