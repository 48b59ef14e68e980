"""Issue 19.5 on the network side: a data set sent with C-STORE never carries
group 0002 elements (they belong to a file's meta group), so what the peer
stores reads back with the right transfer syntax."""

from __future__ import annotations

from pathlib import Path

import dicomfast
from dicomfast.dataset import Dataset
from netutil import make_scp, scu

CT = "1.2.840.10008.5.1.4.1.1.2"
IMPLICIT = "1.2.840.10008.1.2"


def test_c_store_of_a_dataset_drops_stray_group_0002(tmp_path: Path) -> None:
    ds = Dataset()
    ds.SOPClassUID = CT
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.PatientName = "STRAY^META"
    ds.add_new(0x00020010, "UI", "1.2.840.10008.1.2.2")  # a stray Transfer Syntax UID
    server = make_scp().start_server(("127.0.0.1", 0), block=False, storage=str(tmp_path))
    try:
        with scu(CT, ts=[IMPLICIT]).associate("127.0.0.1", server.port, "STORESCP") as assoc:
            assert int(assoc.send_c_store(ds)) == 0
    finally:
        server.shutdown()
    stored = dicomfast.read(tmp_path / "1.2.3.4.5.dcm")
    assert stored.file_meta.TransferSyntaxUID == IMPLICIT
    assert all(e.tag >> 16 != 2 for e in stored)
    assert stored.PatientName == "STRAY^META"
