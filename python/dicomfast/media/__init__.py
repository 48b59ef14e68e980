"""DICOM media: File-sets and their DICOMDIR (PS3.10 §8, PS3.3 Annex F, PS3.11).

fs = dicomfast.media.FileSet("/media/cdrom")      # a DICOMDIR or the folder holding one
for inst in fs: print(inst.PatientID, inst.SOPInstanceUID, inst.path)
fs.add("new.dcm"); fs.remove(fs.find(PatientID="123")); fs.write()
"""

from __future__ import annotations

from .fileset import FileSet, record_type_of
from .records import FileInstance, RecordNode

__all__ = ["FileInstance", "FileSet", "RecordNode", "record_type_of"]
