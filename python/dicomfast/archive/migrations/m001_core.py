"""Version 1: patients, studies, series, instances."""

from __future__ import annotations

import sqlalchemy as sa

VERSION = 1
NAME = "core index: patients, studies, series, instances"


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "patients",
        md,
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("patient_name", sa.String(324), nullable=False),
        sa.Column("patient_name_norm", sa.String(324), nullable=False),
        sa.Column("patient_birth_date", sa.String(8), nullable=False),
        sa.Column("patient_sex", sa.String(16), nullable=False),
        sa.Column("attrs", sa.JSON, nullable=False),
        sa.UniqueConstraint("patient_id", "patient_name", name="uq_patients_id_name"),
        sa.Index("ix_patients_name_norm", "patient_name_norm"),
    )
    sa.Table(
        "studies",
        md,
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column(
            "patient_pk",
            sa.Integer,
            sa.ForeignKey("patients.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("study_instance_uid", sa.String(64), nullable=False),
        sa.Column("study_date", sa.String(8), nullable=False),
        sa.Column("study_time", sa.String(16), nullable=False),
        sa.Column("accession_number", sa.String(16), nullable=False),
        sa.Column("study_id", sa.String(16), nullable=False),
        sa.Column("referring_physician_name", sa.String(324), nullable=False),
        sa.Column("referring_physician_name_norm", sa.String(324), nullable=False),
        sa.Column("study_description", sa.String(64), nullable=False),
        sa.Column("attrs", sa.JSON, nullable=False),
        sa.UniqueConstraint("study_instance_uid", name="uq_studies_uid"),
        sa.Index("ix_studies_patient_pk", "patient_pk"),
        sa.Index("ix_studies_date", "study_date"),
        sa.Index("ix_studies_accession", "accession_number"),
    )
    sa.Table(
        "series",
        md,
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column(
            "study_pk", sa.Integer, sa.ForeignKey("studies.pk", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("series_instance_uid", sa.String(64), nullable=False),
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("series_number", sa.Integer, nullable=True),
        sa.Column("series_description", sa.String(64), nullable=False),
        sa.Column("body_part_examined", sa.String(16), nullable=False),
        sa.Column("attrs", sa.JSON, nullable=False),
        sa.UniqueConstraint("series_instance_uid", name="uq_series_uid"),
        sa.Index("ix_series_study_pk", "study_pk"),
        sa.Index("ix_series_modality", "modality"),
    )
    sa.Table(
        "instances",
        md,
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column(
            "series_pk", sa.Integer, sa.ForeignKey("series.pk", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("sop_instance_uid", sa.String(64), nullable=False),
        sa.Column("copy", sa.Integer, nullable=False),
        sa.Column("sop_class_uid", sa.String(64), nullable=False),
        sa.Column("instance_number", sa.Integer, nullable=True),
        sa.Column("transfer_syntax_uid", sa.String(64), nullable=False),
        sa.Column("path", sa.String(400), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("stored_at", sa.Float, nullable=False),
        sa.Column("attrs", sa.JSON, nullable=False),
        sa.UniqueConstraint("sop_instance_uid", "copy", name="uq_instances_uid_copy"),
        sa.UniqueConstraint("path", name="uq_instances_path"),
        sa.Index("ix_instances_series_pk", "series_pk"),
    )
    md.create_all(conn)
