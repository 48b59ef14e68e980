"""pydicom's ``pydicom.dataelem``: :class:`DataElement`."""

from .element import DataElement

__all__ = ["DataElement"]
