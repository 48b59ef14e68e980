"""Crashes between the file rename and the commit (and after the commit),
and ``check --repair`` restoring consistency; schema migrations."""

from __future__ import annotations

import os
import time

import dicomfast
import pytest
import sqlalchemy as sa
from archutil import encode, instance, query
from dicomfast.archive import Archive, migrations
from dicomfast.archive import db as dbm
from dicomfast.archive.schema import instances


class Crash(BaseException):
    """A process dying at this point: no cleanup code runs, the transaction is lost."""


def _crash(*_a: object) -> None:
    raise Crash


def _rows(archive: Archive) -> list[str]:
    with archive.engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(sa.select(instances.c.sop_instance_uid)))


def test_crash_between_rename_and_commit(make_archive, monkeypatch) -> None:  # noqa: ANN001
    archive = make_archive()
    ok = archive.store(encode(instance(sop_uid="1.1.1")))
    monkeypatch.setattr(archive, "_after_place", _crash)
    with pytest.raises(Crash):
        archive.store(encode(instance(sop_uid="1.1.2")))
    monkeypatch.undo()
    # the file made it, the row did not
    assert _rows(archive) == ["1.1.1"]
    rep = archive.check()
    assert [os.path.basename(p) for p in rep.files_without_rows] == ["1.1.2.dcm"]
    assert not rep.rows_without_files and not rep.consistent
    rep = archive.check(repair=True)
    assert rep.repaired
    assert _rows(archive) == ["1.1.1", "1.1.2"]
    assert archive.check(verify=True).consistent
    assert {d.SOPInstanceUID for d in archive.find(query("IMAGE"))} == {"1.1.1", "1.1.2"}
    assert os.path.exists(ok.path)


def test_crash_before_rename_leaves_a_temporary_file(make_archive, monkeypatch) -> None:  # noqa: ANN001
    archive = make_archive()
    monkeypatch.setattr(archive, "_place", _crash)
    monkeypatch.setattr(os, "unlink", lambda *_: None)  # the crash also skips the cleanup
    with pytest.raises(Crash):
        archive.store(encode(instance(sop_uid="1.1.3")))
    monkeypatch.undo()
    assert _rows(archive) == []
    rep = archive.check(temp_age=0)
    assert len(rep.temp_files) == 1 and not rep.files_without_rows
    archive.check(repair=True, temp_age=0)
    assert list(archive.iter_temp_files()) == []
    assert archive.check(temp_age=0).consistent


def test_crash_between_commit_and_rename_on_replace(make_archive, monkeypatch) -> None:  # noqa: ANN001
    archive = make_archive("replace")
    first = archive.store(encode(instance(sop_uid="1.1.4", PatientComments="old")))
    monkeypatch.setattr(archive, "_after_commit", _crash)
    with pytest.raises(Crash):
        archive.store(encode(instance(sop_uid="1.1.4", PatientComments="a longer new comment")))
    monkeypatch.undo()
    # the row describes the new instance, the file is still the old one
    assert dicomfast.read(first.path).PatientComments == "old"
    rep = archive.check()
    assert rep.mismatched and not rep.files_without_rows and not rep.rows_without_files
    archive.check(repair=True)
    assert archive.check(verify=True).consistent
    (r,) = archive.find(query("IMAGE", SOPInstanceUID="1.1.4"))
    assert r.SOPInstanceUID == "1.1.4"


def test_failed_commit_removes_the_file(make_archive, monkeypatch) -> None:  # noqa: ANN001
    archive = make_archive()

    def fail(rel: str) -> None:
        raise sa.exc.OperationalError("COMMIT", {}, Exception("disk full"))

    monkeypatch.setattr(archive, "_after_place", fail)
    r = archive.store(encode(instance(sop_uid="1.1.5")))
    assert r.status == 0xA700 and not r.ok
    monkeypatch.undo()
    assert _rows(archive) == [] and list(archive.iter_files()) == []
    assert archive.check(temp_age=0).consistent


def test_rows_without_files_and_foreign_files(make_archive, tmp_path) -> None:  # noqa: ANN001
    archive = make_archive()
    a = archive.store(encode(instance(sop_uid="1.1.6")))
    b = archive.store(encode(instance(sop_uid="1.1.7")))
    os.unlink(a.path)  # a file lost
    # a file dropped into the folder by hand, and a file that is not DICOM
    foreign = os.path.join(archive.folder, "manual", "x.dcm")
    os.makedirs(os.path.dirname(foreign))
    with open(foreign, "wb") as fh:
        fh.write(encode(instance(sop_uid="1.1.8", study_uid="1.9", series_uid="1.9.1")))
    with open(os.path.join(archive.folder, "manual", "junk.dcm"), "wb") as fh:
        fh.write(b"not dicom")
    rep = archive.check()
    assert rep.rows_without_files == [os.path.relpath(a.path, archive.folder).replace(os.sep, "/")]
    assert sorted(rep.files_without_rows) == ["manual/junk.dcm", "manual/x.dcm"]
    rep = archive.check(repair=True)
    assert rep.unreadable == ["manual/junk.dcm"]
    assert _rows(archive) == ["1.1.7", "1.1.8"]
    assert os.path.exists(b.path)
    # a file without a row whose UID is indexed: keep-first moves it aside
    dup = os.path.join(archive.folder, "manual", "dup.dcm")
    with open(dup, "wb") as fh:
        fh.write(encode(instance(sop_uid="1.1.7")))
    archive.check(repair=True)
    assert not os.path.exists(dup)
    assert os.listdir(os.path.join(archive.folder, ".duplicates")) == ["manual_dup.dcm"]


def test_reconcile_on_open(tmp_path, db_url, monkeypatch) -> None:  # noqa: ANN001
    folder = tmp_path / "s"
    a = Archive(folder, db_url, fsync=False)
    monkeypatch.setattr(a, "_after_place", _crash)
    with pytest.raises(Crash):
        a.store(encode(instance(sop_uid="1.1.9")))
    a.close()
    b = Archive(folder, db_url, fsync=False, reconcile=True)
    try:
        assert _rows(b) == ["1.1.9"] and b.check(temp_age=0).consistent
    finally:
        b.close()


def test_concurrent_stores_of_one_uid(make_archive) -> None:  # noqa: ANN001
    from concurrent.futures import ThreadPoolExecutor

    archive = make_archive("keep-first")
    data = [encode(instance(sop_uid="1.2.1", PatientComments=str(i))) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(archive.store, data))
    assert all(r.ok for r in results)
    assert sum(r.action == "stored" for r in results) == 1
    assert _rows(archive) == ["1.2.1"] and archive.check(verify=True).consistent


# -- migrations ---------------------------------------------------------------------------
def test_migrations_upgrade_an_old_schema(tmp_path, empty_db_url) -> None:  # noqa: ANN001
    """A version-1 database with data is upgraded in place when an Archive opens it."""
    url = empty_db_url or "sqlite:///" + str(tmp_path / "old.sqlite")
    engine = dbm.create_engine(url, migrate=False)
    assert migrations.upgrade(engine, target=1) == [1]
    with engine.begin() as conn:
        assert migrations.current_version(conn) == 1
        md = sa.MetaData()
        md.reflect(conn)
        assert "worklist" not in md.tables and "source_ae_title" not in md.tables["instances"].c
        p = md.tables["patients"]
        st = md.tables["studies"]
        se = md.tables["series"]
        ins = md.tables["instances"]
        pk = conn.execute(
            p.insert().values(
                patient_id="OLD",
                patient_name="OLD^PAT",
                patient_name_norm="OLD^PAT",
                patient_birth_date="",
                patient_sex="",
                attrs={},
            )
        ).inserted_primary_key[0]
        spk = conn.execute(
            st.insert().values(
                patient_pk=pk,
                study_instance_uid="1.5",
                study_date="20200101",
                study_time="",
                accession_number="",
                study_id="",
                referring_physician_name="",
                referring_physician_name_norm="",
                study_description="",
                attrs={},
            )
        ).inserted_primary_key[0]
        sepk = conn.execute(
            se.insert().values(
                study_pk=spk,
                series_instance_uid="1.5.1",
                modality="CT",
                series_number=1,
                series_description="",
                body_part_examined="",
                attrs={},
            )
        ).inserted_primary_key[0]
        conn.execute(
            ins.insert().values(
                series_pk=sepk,
                sop_instance_uid="1.5.1.1",
                copy=0,
                sop_class_uid="1.2",
                instance_number=1,
                transfer_syntax_uid="1.2.840.10008.1.2.1",
                path="1.5/1.5.1/1.5.1.1.dcm",
                size=1,
                sha256="ab" * 32,  # a SHA-256 as versions 1-4 kept them
                stored_at=time.time(),
                attrs={},
            )
        )
    engine.dispose()
    folder = tmp_path / "storage"
    archive = Archive(folder, url, fsync=False)
    try:
        with archive.engine.connect() as conn:
            assert migrations.current_version(conn) == migrations.LATEST
            versions = [
                r[0]
                for r in conn.execute(
                    sa.text("SELECT version FROM schema_version ORDER BY version")
                )
            ]
        assert versions == [s.version for s in migrations.STEPS]
        with archive.engine.connect() as conn:
            indexes = {
                i["name"]: i["column_names"] for i in sa.inspect(conn).get_indexes("instances")
            }
        assert indexes["ix_instances_series_uid"] == ["series_pk", "sop_instance_uid"]  # step 4
        assert "ix_instances_series_pk" not in indexes
        (r,) = archive.find(query("STUDY", StudyDate="2020-", PatientName=""))
        assert r.PatientName == "OLD^PAT"
        res = archive.store(encode(instance()), source_ae_title="NEWAET")
        assert res.ok
        with archive.engine.connect() as conn:
            aets = {r[0] for r in conn.execute(sa.select(instances.c.source_ae_title))}
        assert aets == {None, "NEWAET"}
        with archive.engine.connect() as conn:  # step 5: the column renamed, values kept
            q = sa.select(instances.c.sop_instance_uid, instances.c.checksum)
            sums = {uid: value for uid, value in conn.execute(q)}
        assert sums["1.5.1.1"] == "ab" * 32
        assert {v[:7] for k, v in sums.items() if k != "1.5.1.1"} == {"blake3:"}
        assert migrations.upgrade(archive.engine) == []  # nothing left to do
    finally:
        archive.close()


def test_verify_checks_the_sha256_of_rows_indexed_before_blake3(make_archive) -> None:  # noqa: ANN001
    """Rows of an archive indexed before schema version 5 hold bare SHA-256 digests:
    ``check(verify=True)`` still confirms them, and still finds a changed byte."""
    import hashlib

    archive = make_archive()
    res = archive.store(encode(instance(sop_uid="1.9.1")))
    data = bytearray(open(res.path, "rb").read())
    with archive.engine.begin() as conn:
        (stored,) = conn.execute(sa.select(instances.c.checksum)).scalars()
        assert stored.startswith("blake3:")
        conn.execute(instances.update().values(checksum=hashlib.sha256(data).hexdigest()))
    assert archive.check(verify=True).consistent
    data[-1] ^= 0xFF
    with open(res.path, "wb") as f:
        f.write(data)
    rep = archive.check(verify=True)
    assert len(rep.mismatched) == 1 and not archive.check().mismatched  # same size
