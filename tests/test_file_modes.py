"""Issue 19.7: files we create (written, stored over the network, archived,
converted) get mode 0666 less the umask, as any new file does; they were 0600
whatever the umask (``tempfile.mkstemp``'s mode survived the rename)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import dicomfast
import pytest
from dicomfast.batch import ConvertOptions, convert_file, iter_sources
from dicomfast.net import AE

sys.path.insert(0, str(Path(__file__).parent / "archive"))
from archutil import CT_IMAGE_STORAGE, encode, instance  # noqa: E402

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: str | Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_written_and_converted_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    ds = instance(sop_uid="1.8.1")
    out = tmp_path / "w.dcm"
    dicomfast.write(ds, out)
    assert _mode(out) == 0o666 & ~umask
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.dcm").write_bytes(out.read_bytes())
    opts = ConvertOptions(
        out=str(tmp_path / "conv"), transfer_syntax="1.2.840.10008.1.2", threads=1, fsync=False
    )
    results = [convert_file(s, opts) for s in iter_sources([src])]
    assert [r["status"] for r in results] == ["converted"], results
    assert _mode(tmp_path / "conv" / "a.dcm") == 0o666 & ~umask


def test_stored_and_archived_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    from dicomfast.archive import Archive
    from dicomfast.archive.netstorage import ArchiveStorage

    archive = Archive(tmp_path / "archive", fsync=False)
    try:
        direct = archive.ingest(encode(instance(sop_uid="1.8.2")))
        assert direct.ok and _mode(direct.path) == 0o666 & ~umask
        for storage in (str(tmp_path / "plain"), ArchiveStorage(archive)):
            scp = AE("SCP")
            scp.add_storage_scp_contexts()
            server = scp.start_server(("127.0.0.1", 0), block=False, storage=storage)
            try:
                scu = AE("SCU")
                scu.add_requested_context(CT_IMAGE_STORAGE)
                with scu.associate("127.0.0.1", server.port, "SCP") as assoc:
                    status = assoc.send_c_store(instance(sop_uid="1.8.3"))
                    assert int(status) == 0
            finally:
                server.shutdown()
        stored = [
            os.path.join(d, f)
            for root in (tmp_path / "plain", tmp_path / "archive")
            for d, _, fs in os.walk(root)
            for f in fs
            if f.endswith(".dcm")
        ]
        assert len(stored) == 3
        assert {_mode(p) for p in stored} == {0o666 & ~umask}
    finally:
        archive.close()
