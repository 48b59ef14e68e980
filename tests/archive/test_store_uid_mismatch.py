"""Issue 19.1: a C-STORE whose command names instance X while its data set
carries another UID V is refused (PS3.4 B.2.3: 0xA900, data set does not match),
nothing is written under either UID, and what was stored before is untouched,
whatever the duplicate policy.  Checked over the network against the archive
as ``dicomfast serve`` runs it, and against the plain folder storage."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from archutil import CT_IMAGE_STORAGE, MR_IMAGE_STORAGE, encode, instance, query
from dicomfast.archive.netstorage import ArchiveStorage
from dicomfast.net import AE
from dicomfast.net.services import store
from dicomfast.net.transport import run_sync
from dicomfast.writer import encode_dataset

ELE = "1.2.840.10008.1.2.1"


def _server(storage: object) -> object:
    ae = AE("ARCHIVE")
    ae.add_storage_scp_contexts()
    return ae.start_server(("127.0.0.1", 0), block=False, storage=storage)


def _send_raw(port: int, sop_class: str, sop_instance: str, body: bytes) -> int:
    """One C-STORE-RQ naming (sop_class, sop_instance) with ``body`` as its data set,
    whatever the data set says; the status answered."""
    scu = AE("MODALITY")
    scu.add_requested_context(CT_IMAGE_STORAGE, [ELE])
    scu.add_requested_context(MR_IMAGE_STORAGE, [ELE])
    with scu.associate("127.0.0.1", port, "ARCHIVE") as assoc:
        inner = assoc._assoc
        pc = next(c for c in inner.accepted_contexts if c.abstract_syntax == sop_class)
        msg_id = run_sync(store._send_request(inner, (pc, sop_class, sop_instance, body), 0))
        rsp = run_sync(inner.wait_response(msg_id, "C-STORE"))
        return int(rsp.command[0x00000900])


def _body(ds: object) -> bytes:
    return b"".join(encode_dataset(ds, True, False))


def _tree(folder: str) -> dict[str, str]:
    out = {}
    for d, _, files in os.walk(folder):
        for f in files:
            if f.endswith(".dcm"):
                p = os.path.join(d, f)
                out[os.path.relpath(p, folder)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


@pytest.mark.parametrize("policy", ["keep-first", "replace", "keep-both"])
def test_mismatched_instance_uid_is_refused_and_nothing_changes(make_archive, policy: str) -> None:  # noqa: ANN001
    archive = make_archive(policy)
    existing = instance(sop_uid="1.9.1.1", PatientComments="the original")
    assert archive.ingest(encode(existing)).ok
    archive.flush(30)
    before = _tree(archive.folder)
    server = _server(ArchiveStorage(archive))
    try:
        # command: new instance X; data set: the existing instance V, other content
        newcomer = instance(sop_uid="1.9.1.1", PatientComments="an impostor")
        status = _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.1.2", _body(newcomer))
        assert status == 0xA900
        # command: X; data set: any other value
        status = _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.1.3", _body(instance(sop_uid="7.7")))
        assert status == 0xA900
        # command: MR class; data set: CT class, same instance UID
        mr = instance(sop_uid="1.9.1.4")
        assert _send_raw(server.port, MR_IMAGE_STORAGE, "1.9.1.4", _body(mr)) == 0xA900
        # no UID at all in the data set: cannot understand
        anon = instance(sop_uid="1.9.1.5")
        del anon.SOPInstanceUID
        assert _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.1.5", _body(anon)) == 0xC000
        # garbage as the data set
        assert _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.1.6", b"\xff" * 40) == 0xC000
        # matching UIDs but a hostile Study Instance UID (a path): refused, nothing written
        for bad_study in ("../../../tmp/x", "1.2.3/../../4", "1." + "2" * 70):
            evil = instance(sop_uid="1.9.1.8", study_uid=bad_study)
            assert _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.1.8", _body(evil)) == 0xC000
        # and a matching one still succeeds
        good = instance(sop_uid="1.9.1.7")
        assert _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.1.7", _body(good)) == 0x0000
    finally:
        server.shutdown()
    archive.flush(30)
    after = _tree(archive.folder)
    added = {k: v for k, v in after.items() if k not in before}
    assert {k: after[k] for k in before} == before  # nothing existing altered
    assert [os.path.basename(k) for k in added] == ["1.9.1.7.dcm"]
    found = {
        str(r.SOPInstanceUID)
        for r in archive.find(query("IMAGE", StudyInstanceUID="1.2.826.0.1.1", SOPInstanceUID=""))
    }
    assert found == {"1.9.1.1", "1.9.1.7"}
    assert list(archive.iter_temp_files()) == [] and archive.check(verify=True).consistent


def test_plain_storage_refuses_a_mismatch(tmp_path: Path) -> None:
    server = _server(str(tmp_path))
    try:
        body = _body(instance(sop_uid="1.9.2.1"))
        assert _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.2.2", body) == 0xA900
        assert _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.2.1", body) == 0x0000
    finally:
        server.shutdown()
    assert sorted(os.listdir(tmp_path)) == ["1.9.2.1.dcm"]


def test_handler_sees_only_matching_instances(tmp_path: Path) -> None:
    """Without storage, an EVT_C_STORE handler is not called for a mismatch."""
    from dicomfast.net import evt

    seen: list[str] = []

    def on_store(event):  # noqa: ANN001, ANN202
        seen.append(str(event.dataset.SOPInstanceUID))
        return 0x0000

    ae = AE("ARCHIVE")
    ae.add_storage_scp_contexts()
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    try:
        body = _body(instance(sop_uid="1.9.3.1"))
        assert _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.3.9", body) == 0xA900
        assert _send_raw(server.port, CT_IMAGE_STORAGE, "1.9.3.1", body) == 0x0000
    finally:
        server.shutdown()
    assert seen == ["1.9.3.1"]
