"""Storing and indexing: corpus files, duplicate policies, reindex, bad input."""

from __future__ import annotations

import os

import dicomfast
import pytest
import sqlalchemy as sa
from archutil import encode, instance, query
from corpus_data import CORPUS, MANIFEST, PARSE_MUST_FAIL
from dicomfast import digest as checksums
from dicomfast.archive import index as ix
from dicomfast.archive.schema import instances, patients, series, studies


def corpus_files(limit: int | None = None) -> list[str]:
    """Readable corpus files that have the three UIDs, small ones first."""
    out = []
    for f in sorted(MANIFEST, key=lambda f: f["file_size"]):
        if f["path"] in PARSE_MUST_FAIL or f.get("expect_error") or f["file_size"] > 3_000_000:
            continue
        out.append(str(CORPUS / f["path"]))
    return out[:limit] if limit else out


def _counts(archive) -> tuple[int, int, int, int]:  # noqa: ANN001
    with archive.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (patients, studies, series, instances)
        )


@pytest.mark.corpus
def test_index_corpus_files(make_archive) -> None:  # noqa: ANN001
    archive = make_archive()
    files = corpus_files(120)
    results = [archive.store(p) for p in files]
    stored = [r for r in results if r.action == "stored"]
    assert len(stored) >= 40
    for r in stored:
        assert r.ok and os.path.exists(r.path)
        assert r.path.startswith(archive.folder)
        # the stored file is the input, byte for byte, and reads back with the same UID
        assert dicomfast.read(r.path, stop_before_pixels=True).SOPInstanceUID == r.sop_instance_uid
    failed = [r for r in results if not r.ok]
    assert all(r.status == 0xC000 and r.comment for r in failed)  # no UIDs: cannot understand
    assert _counts(archive)[3] == len(stored) == archive.count()
    assert archive.check().consistent
    # every stored instance is found at the IMAGE level by its UID
    uids = [r.sop_instance_uid for r in stored]
    got = list(archive.find(query("IMAGE", SOPInstanceUID=uids)))
    assert sorted(d.SOPInstanceUID for d in got) == sorted(set(uids))


def test_store_bytes_dataset_and_bare(make_archive) -> None:  # noqa: ANN001
    archive = make_archive()
    ds = instance(StudyDate="20240102")
    r1 = archive.store(encode(ds))
    assert r1.ok and r1.action == "stored"
    rel = os.path.relpath(r1.path, archive.folder).replace(os.sep, "/")
    assert rel == f"{ds.StudyInstanceUID}/{ds.SeriesInstanceUID}/{ds.SOPInstanceUID}.dcm"
    r2 = archive.store(instance())  # a Dataset
    assert r2.ok
    # a bare data set as C-STORE carries it, with its transfer syntax
    from dicomfast.writer import encode_dataset

    bare = b"".join(encode_dataset(instance(), False, False))
    r3 = archive.store(
        bare, transfer_syntax=dicomfast.uid.ImplicitVRLittleEndian, source_ae_title="MOD1"
    )
    assert r3.ok
    back = dicomfast.read(r3.path)
    assert back.file_meta.TransferSyntaxUID == dicomfast.uid.ImplicitVRLittleEndian
    with archive.engine.connect() as conn:
        aet = conn.execute(
            sa.select(instances.c.source_ae_title).where(
                instances.c.sop_instance_uid == r3.sop_instance_uid
            )
        ).scalar()
    assert aet == "MOD1"
    assert _counts(archive) == (1, 1, 1, 3)


@pytest.mark.parametrize(
    "bad",
    [
        {"sop_uid": "1.2.3/../../etc"},
        {"study_uid": "../1.2"},
        {"series_uid": "1.2..3"},
        {"sop_uid": "1." + "2" * 70},
    ],
)
def test_invalid_uids_refused(make_archive, bad) -> None:  # noqa: ANN001
    archive = make_archive()
    r = archive.store(encode(instance(**bad)))
    assert r.status == 0xC000 and not r.ok
    assert archive.count() == 0
    assert list(archive.iter_temp_files()) == []


def test_garbage_refused(make_archive) -> None:  # noqa: ANN001
    archive = make_archive()
    r = archive.store(b"\0" * 128 + b"DICM" + b"\xff" * 20)
    assert r.status == 0xC000
    assert archive.count() == 0


def test_duplicate_keep_first(make_archive) -> None:  # noqa: ANN001
    archive = make_archive("keep-first")
    a = instance(sop_uid="1.2.3.4", PatientComments="first")
    b = instance(sop_uid="1.2.3.4", PatientComments="second")
    r1, r2 = archive.store(encode(a)), archive.store(encode(b))
    assert r1.action == "stored" and r2.action == "kept-existing" and r2.duplicate and r2.ok
    assert r2.path == r1.path
    assert dicomfast.read(r1.path).PatientComments == "first"
    assert archive.count() == 1 and archive.check().consistent


def test_duplicate_replace(make_archive) -> None:  # noqa: ANN001
    archive = make_archive("replace")
    a = instance(sop_uid="1.2.3.4", PatientComments="first", InstanceNumber=1)
    b = instance(sop_uid="1.2.3.4", PatientComments="second", InstanceNumber=2)
    r1, r2 = archive.store(encode(a)), archive.store(encode(b))
    assert r2.action == "replaced" and r2.path == r1.path
    assert dicomfast.read(r1.path).PatientComments == "second"
    (hit,) = archive.find(query("IMAGE", SOPInstanceUID="1.2.3.4", InstanceNumber=None))
    assert hit.InstanceNumber == 2
    assert archive.count() == 1 and archive.check(verify=True).consistent
    # replaced by an instance that moved to another series: old file and series go
    c = instance(sop_uid="1.2.3.4", series_uid="1.2.826.0.1.1.2", PatientComments="third")
    r3 = archive.store(encode(c))
    assert r3.action == "replaced" and r3.path != r1.path and not os.path.exists(r1.path)
    assert _counts(archive) == (1, 1, 1, 1)
    assert archive.check(verify=True).consistent


def test_duplicate_keep_both(make_archive) -> None:  # noqa: ANN001
    archive = make_archive("keep-both")
    rs = [
        archive.store(encode(instance(sop_uid="1.2.3.4", PatientComments=str(i)))) for i in range(3)
    ]
    assert [r.action for r in rs] == ["stored", "stored-copy", "stored-copy"]
    assert [os.path.basename(r.path) for r in rs] == [
        "1.2.3.4.dcm",
        "1.2.3.4_1.dcm",
        "1.2.3.4_2.dcm",
    ]
    assert archive.count() == 3
    # C-FIND returns the instance once; C-MOVE sends it once
    assert len(list(archive.find(query("IMAGE", SOPInstanceUID="")))) == 1
    (st,) = archive.find(query("STUDY", NumberOfStudyRelatedInstances=None))
    assert st.NumberOfStudyRelatedInstances == 1
    assert len(archive.instances_for(query("STUDY", StudyInstanceUID="1.2.826.0.1.1"))) == 1
    assert archive.delete("1.2.3.4") == 3
    assert archive.count() == 0 and _counts(archive) == (0, 0, 0, 0)
    assert archive.check().consistent


@pytest.mark.corpus
def test_reindex_equals_live_index(make_archive) -> None:  # noqa: ANN001
    archive = make_archive("keep-both")
    for p in corpus_files(60):
        archive.store(p)
    for i in range(5):
        # one patient each: which of several disagreeing names a patient row keeps is
        # the first stored one live, and the first by file time on reindex
        archive.store(
            encode(instance(patient_id=f"PU{i}", patient_name=f"Ünïcode^{i}", StudyDate="20240101"))
        )
    with archive.engine.connect() as conn:
        before = ix.snapshot(conn)
    assert before
    n = archive.reindex(workers=2)
    assert n == len(before)
    with archive.engine.connect() as conn:
        after = ix.snapshot(conn)
    assert after == before
    assert archive.check(verify=True).consistent


def test_instances_for_levels(make_archive) -> None:  # noqa: ANN001
    archive = make_archive()
    for st in range(2):
        for se in range(2):
            for i in range(3):
                archive.store(
                    encode(
                        instance(
                            patient_id=f"P{st}",
                            study_uid=f"1.2.{st}",
                            series_uid=f"1.2.{st}.{se}",
                            sop_uid=f"1.2.{st}.{se}.{i}",
                        )
                    )
                )
    refs = archive.instances_for(query("STUDY", StudyInstanceUID="1.2.0"))
    assert sorted(r.sop_instance_uid for r in refs) == [
        f"1.2.0.{se}.{i}" for se in range(2) for i in range(3)
    ]
    assert all(os.path.exists(r.path) and r.transfer_syntax_uid and r.sop_class_uid for r in refs)
    refs = archive.instances_for(query("SERIES", SeriesInstanceUID=["1.2.0.1", "1.2.1.0"]))
    assert len(refs) == 6
    refs = archive.instances_for(query("IMAGE", SOPInstanceUID="1.2.1.1.2"))
    assert [r.sop_instance_uid for r in refs] == ["1.2.1.1.2"]
    refs = archive.instances_for(query("PATIENT", PatientID="P1"), model="PATIENT")
    assert len(refs) == 6
    assert archive.instances_for(query("STUDY", StudyInstanceUID="9.9")) == []


def test_durable_storage_scp_group_indexes_the_digests_of_what_it_wrote(tmp_path, db_url) -> None:  # noqa: ANN001
    """Durable ArchiveStorage (files written O_DIRECT where the file system allows,
    hashed as written, committed as a group): every file is whole and its index row
    holds the checksum of the file as stored, small and multi-chunk instances alike."""

    from dicomfast.archive import Archive
    from dicomfast.archive.netstorage import ArchiveStorage
    from dicomfast.net.chunk_writer import CHUNK
    from dicomfast.writer import encode_dataset

    archive = Archive(tmp_path / "storage", db_url, "keep-first", fsync=True)
    try:
        storage = ArchiveStorage(archive)
        sinks = []
        for k, size in enumerate((0, 1_000, CHUNK - 900, 3 * CHUNK + 77)):
            ds = instance(sop_uid=f"1.7.{k}")
            if size:
                ds.add_new(0x00091010, "OB", os.urandom(size))
            body = b"".join(encode_dataset(ds, True, False))
            sink = storage.open(
                ds.SOPClassUID, ds.SOPInstanceUID, dicomfast.uid.ExplicitVRLittleEndian
            )
            for i in range(0, len(body), 16_372):
                sink.write(memoryview(body)[i : i + 16_372])
            sink.close()
            assert sink.header() is not None
            sinks.append(sink)
        acked = storage.commit_group(sinks)
        assert all(isinstance(p, str) for p in acked)
        assert archive.flush(timeout=30)
        # durable: acknowledged in their intake files, named afterwards (flush placed them)
        assert all(s.placed is not None for s in sinks)
        paths = [s.placed.result(0) for s in sinks]
        assert paths == [s.final_path for s in sinks]
        assert not any(os.path.exists(p) for p in acked)  # intake names removed
        with archive.engine.connect() as conn:
            got = conn.execute(sa.select(instances.c.sop_instance_uid, instances.c.checksum))
            rows = {uid: sha for uid, sha in got}
        for sink, path in zip(sinks, paths, strict=True):
            data = open(path, "rb").read()
            assert dicomfast.read(path).SOPInstanceUID == sink.sop_instance_uid
            assert rows[sink.sop_instance_uid] == checksums.of_bytes(data)
        assert archive.check(verify=True).consistent
        storage.close()
    finally:
        archive.close()


def test_storage_scp_adapter(make_archive) -> None:  # noqa: ANN001
    """ArchiveStorage, as the Storage SCP uses it: open, write as data arrives, commit."""
    from dicomfast.archive.netstorage import ArchiveStorage
    from dicomfast.writer import encode_dataset

    archive = make_archive()
    storage = ArchiveStorage(archive)
    ds = instance(sop_uid="1.6.1")
    body = b"".join(encode_dataset(ds, True, False))
    sink = storage.open(ds.SOPClassUID, "1.6.1", dicomfast.uid.ExplicitVRLittleEndian, "MODALITY")
    for i in range(0, len(body), 100):
        sink.write(body[i : i + 100])
    sink.close()
    path = sink.commit()  # answered in its intake file, then placed: its final name
    assert sink.placed is not None and path == sink.temp_path
    path = sink.placed.result(30)
    assert path.endswith("1.2.826.0.1.1/1.2.826.0.1.1.1/1.6.1.dcm")
    assert sink.result.ok and sink.result.action == "stored"
    assert archive.flush(timeout=30)  # the row comes with the indexer's group commit
    with archive.engine.connect() as conn:
        aet = conn.execute(sa.select(instances.c.source_ae_title)).scalar()
    assert aet == "MODALITY"
    assert list(archive.iter_temp_files()) == [] and archive.check(verify=True).consistent
    # a refused store raises from commit (the SCP answers with a failure) and leaves nothing
    bad = instance(sop_uid="1.6.2", study_uid="not-a-uid")
    sink = storage.open(bad.SOPClassUID, "1.6.2", dicomfast.uid.ExplicitVRLittleEndian)
    sink.write(b"".join(encode_dataset(bad, True, False)))
    with pytest.raises(dicomfast.DicomError):
        sink.commit()
    assert list(archive.iter_temp_files()) == [] and archive.count() == 1
