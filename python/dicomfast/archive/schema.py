"""The archive's SQL schema (SQLAlchemy Core): patient → study → series →
instance, with the keys PS3.4 C.6.1/C.6.2 lists for the Patient Root and
Study Root Query/Retrieve information models as columns, plus the Modality
Worklist (PS3.4 K) and MPPS (PS3.4 F) tables.

Every level keeps an ``attrs`` column: the DICOM JSON model (PS3.18 F.2) of
the top-level non-binary attributes of the instance that created the row,
private tags left out.  Keys that have no column of their own are matched
and returned from it.

Conventions of the stored values (the query engine relies on them):

- text is stripped of leading and trailing spaces; multi-valued text is kept
  ``\\``-joined;
- ``*_norm`` columns hold the upper-cased Person Name (PN matching is
  case-insensitive here: see :mod:`dicomfast.archive.matching`);
- DA is ``YYYYMMDD``; TM is ``HHMMSS[.ffffff]`` (colons removed, minutes and
  seconds zero-filled), so that ranges compare as strings;
- ``stored_at`` is seconds since the epoch (UTC).

The tables are created and changed only by the ordered steps of
:mod:`dicomfast.archive.migrations`; this module is the shape of the newest
version.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: One row per applied migration step (see :mod:`dicomfast.archive.migrations`).
schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.Float, nullable=False),
)

patients = sa.Table(
    "patients",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("patient_name", sa.String(324), nullable=False, default=""),
    sa.Column("patient_name_norm", sa.String(324), nullable=False, default=""),
    sa.Column("patient_birth_date", sa.String(8), nullable=False, default=""),
    sa.Column("patient_sex", sa.String(16), nullable=False, default=""),
    sa.Column("attrs", sa.JSON, nullable=False),
    sa.UniqueConstraint("patient_id", "patient_name", name="uq_patients_id_name"),
    sa.Index("ix_patients_name_norm", "patient_name_norm"),
)

studies = sa.Table(
    "studies",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True),
    sa.Column(
        "patient_pk", sa.Integer, sa.ForeignKey("patients.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("study_instance_uid", sa.String(64), nullable=False),
    sa.Column("study_date", sa.String(8), nullable=False, default=""),
    sa.Column("study_time", sa.String(16), nullable=False, default=""),
    sa.Column("accession_number", sa.String(16), nullable=False, default=""),
    sa.Column("study_id", sa.String(16), nullable=False, default=""),
    sa.Column("referring_physician_name", sa.String(324), nullable=False, default=""),
    sa.Column("referring_physician_name_norm", sa.String(324), nullable=False, default=""),
    sa.Column("study_description", sa.String(64), nullable=False, default=""),
    sa.Column("attrs", sa.JSON, nullable=False),
    sa.UniqueConstraint("study_instance_uid", name="uq_studies_uid"),
    sa.Index("ix_studies_patient_pk", "patient_pk"),
    sa.Index("ix_studies_date", "study_date"),
    sa.Index("ix_studies_accession", "accession_number"),
)

series = sa.Table(
    "series",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True),
    sa.Column(
        "study_pk", sa.Integer, sa.ForeignKey("studies.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("series_instance_uid", sa.String(64), nullable=False),
    sa.Column("modality", sa.String(16), nullable=False, default=""),
    sa.Column("series_number", sa.Integer, nullable=True),
    sa.Column("series_description", sa.String(64), nullable=False, default=""),
    sa.Column("body_part_examined", sa.String(16), nullable=False, default=""),
    sa.Column("attrs", sa.JSON, nullable=False),
    sa.UniqueConstraint("series_instance_uid", name="uq_series_uid"),
    sa.Index("ix_series_study_pk", "study_pk"),
    sa.Index("ix_series_modality", "modality"),
)

instances = sa.Table(
    "instances",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True),
    sa.Column(
        "series_pk", sa.Integer, sa.ForeignKey("series.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("sop_instance_uid", sa.String(64), nullable=False),
    # 0 for the instance itself; 1, 2, ... for extra copies kept by duplicate_policy="keep-both".
    sa.Column("copy", sa.Integer, nullable=False, default=0),
    sa.Column("sop_class_uid", sa.String(64), nullable=False, default=""),
    sa.Column("instance_number", sa.Integer, nullable=True),
    sa.Column("transfer_syntax_uid", sa.String(64), nullable=False, default=""),
    sa.Column("path", sa.String(400), nullable=False),  # relative to the storage folder, "/"
    sa.Column("size", sa.BigInteger, nullable=False),
    # The file's checksum (dicomfast.digest): "blake3:" and 64 hex digits; a bare
    # SHA-256 (64 hex digits) in rows indexed before schema version 5.
    sa.Column("checksum", sa.String(80), nullable=True),
    sa.Column("stored_at", sa.Float, nullable=False),
    sa.Column("source_ae_title", sa.String(16), nullable=True),
    sa.Column("attrs", sa.JSON, nullable=False),
    sa.UniqueConstraint("sop_instance_uid", "copy", name="uq_instances_uid_copy"),
    sa.UniqueConstraint("path", name="uq_instances_path"),
    # covers the distinct-instance counts of searches (migration 4)
    sa.Index("ix_instances_series_uid", "series_pk", "sop_instance_uid"),
)

#: Modality Worklist: one row per Scheduled Procedure Step (PS3.4 K.6.1.2).
worklist = sa.Table(
    "worklist",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True),
    sa.Column("patient_id", sa.String(64), nullable=False, default=""),
    sa.Column("patient_name", sa.String(324), nullable=False, default=""),
    sa.Column("patient_name_norm", sa.String(324), nullable=False, default=""),
    sa.Column("accession_number", sa.String(16), nullable=False, default=""),
    sa.Column("requested_procedure_id", sa.String(16), nullable=False, default=""),
    sa.Column("study_instance_uid", sa.String(64), nullable=False, default=""),
    sa.Column("sps_id", sa.String(16), nullable=False, default=""),
    sa.Column("modality", sa.String(16), nullable=False, default=""),
    sa.Column("station_ae_title", sa.String(16), nullable=False, default=""),
    sa.Column("start_date", sa.String(8), nullable=False, default=""),
    sa.Column("start_time", sa.String(16), nullable=False, default=""),
    sa.Column("performing_physician_norm", sa.String(324), nullable=False, default=""),
    sa.Column("sps_status", sa.String(16), nullable=False, default=""),
    sa.Column("source", sa.String(400), nullable=True),
    sa.Column("attrs", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("study_instance_uid", "sps_id", name="uq_worklist_sps"),
    sa.Index("ix_worklist_start_date", "start_date"),
    sa.Index("ix_worklist_station", "station_ae_title"),
)

#: Modality Performed Procedure Step instances (PS3.4 F.7).
mpps = sa.Table(
    "mpps",
    metadata,
    sa.Column("sop_instance_uid", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("station_ae_title", sa.String(16), nullable=False, default=""),
    sa.Column("attrs", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

SCHEMA_TABLES = ("patients", "studies", "series", "instances", "worklist", "mpps")
