"""DICOM media: File-sets and their DICOMDIR (PS3.10 §8, PS3.3 Annex F, PS3.11).

fs = dicomfast.media.FileSet("/media/cdrom")      # a DICOMDIR or the folder holding one
for inst in fs: print(inst.PatientID, inst.SOPInstanceUID, inst.path)
fs.add("new.dcm"); fs.remove(fs.find(PatientID="123")); fs.write()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_names import lazy_names

if TYPE_CHECKING:
    from .fileset import FileSet, record_type_of
    from .records import FileInstance, RecordNode

__all__ = ["FileInstance", "FileSet", "RecordNode", "record_type_of"]

# The names are imported on first use (PEP 562): ``dicomfast media index`` needs
# none of them, only the core and the tables.
_HOME = {
    "FileSet": "fileset",
    "record_type_of": "fileset",
    "FileInstance": "records",
    "RecordNode": "records",
}


__getattr__, __dir__ = lazy_names(__name__, _HOME, __all__)
