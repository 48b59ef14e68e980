"""Helpers of the archive tests: synthetic instances and identifiers."""

from __future__ import annotations

import io
import itertools
import os
import time
from collections.abc import Callable

import dicomfast
from dicomfast import Dataset

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"

_uid_counter = itertools.count(1)


def instance(
    *,
    patient_id: str = "PID1",
    patient_name: str = "DOE^JOHN",
    study_uid: str = "1.2.826.0.1.1",
    series_uid: str = "1.2.826.0.1.1.1",
    sop_uid: str | None = None,
    modality: str = "CT",
    sop_class: str = CT_IMAGE_STORAGE,
    **keywords: object,
) -> Dataset:
    """A small synthetic instance (no pixels)."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid or f"1.2.826.0.9.{next(_uid_counter)}"
    ds.PatientID = patient_id
    ds.PatientName = patient_name
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = modality
    for k, v in keywords.items():
        setattr(ds, k, v)
    return ds


def encode(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    dicomfast.write(ds, buf, transfer_syntax=dicomfast.uid.ExplicitVRLittleEndian)
    return buf.getvalue()


def query(level: str, **keys: object) -> Dataset:
    """An identifier: ``query("STUDY", PatientName="DOE*", StudyDate="")``."""
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(ds, k, v)
    return ds


_db_counter = itertools.count()


def create_pg_database(port: int, template: str | None = None) -> str:
    """A new database on the test server (a copy of ``template``); its URL."""
    import psycopg

    name = f"t{os.getpid()}_{next(_db_counter)}"
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"


def wait_until(cond: Callable[[], object], seconds: float = 10.0) -> bool:
    """Poll ``cond`` every 2-5 ms until it is true (True) or ``seconds`` pass (False)."""
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.003)
    return True
