"""Version 2: Modality Worklist and MPPS tables."""

from __future__ import annotations

import sqlalchemy as sa

VERSION = 2
NAME = "modality worklist and MPPS"


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "worklist",
        md,
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("patient_name", sa.String(324), nullable=False),
        sa.Column("patient_name_norm", sa.String(324), nullable=False),
        sa.Column("accession_number", sa.String(16), nullable=False),
        sa.Column("requested_procedure_id", sa.String(16), nullable=False),
        sa.Column("study_instance_uid", sa.String(64), nullable=False),
        sa.Column("sps_id", sa.String(16), nullable=False),
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("station_ae_title", sa.String(16), nullable=False),
        sa.Column("start_date", sa.String(8), nullable=False),
        sa.Column("start_time", sa.String(16), nullable=False),
        sa.Column("performing_physician_norm", sa.String(324), nullable=False),
        sa.Column("sps_status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(400), nullable=True),
        sa.Column("attrs", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("study_instance_uid", "sps_id", name="uq_worklist_sps"),
        sa.Index("ix_worklist_start_date", "start_date"),
        sa.Index("ix_worklist_station", "station_ae_title"),
    )
    sa.Table(
        "mpps",
        md,
        sa.Column("sop_instance_uid", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("station_ae_title", sa.String(16), nullable=False),
        sa.Column("attrs", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    md.create_all(conn)
