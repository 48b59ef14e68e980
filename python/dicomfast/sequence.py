"""pydicom's ``pydicom.sequence``: :class:`Sequence`."""

from .dataset import Sequence

__all__ = ["Sequence"]
