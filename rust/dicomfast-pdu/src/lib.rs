//! DICOM upper-layer PDUs (placeholder; see issue 4).
