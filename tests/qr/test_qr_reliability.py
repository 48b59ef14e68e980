"""Reliability of ``dicomfast serve`` as an archive: concurrent associations
storing and querying lose nothing; a SIGKILL in the middle of stores, then a
restart, leaves an archive that ``dicomfast archive check`` finds consistent
and that holds every instance whose C-STORE was answered with Success."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from dicomfast.net.intake import is_complete
from dicomfast.net.services.find import STUDY_ROOT_FIND
from qrutil import CT, MR, SERVE, find_all, ident, make_instance, run, scu, start_serve, stop

SENDERS = 8
PER_SENDER = 20


def _check(storage: Path) -> None:
    r = run([*SERVE, "archive", "check", "--storage", str(storage)])
    assert r.returncode == 0 and "consistent" in r.stdout, r.stdout + r.stderr


def test_concurrent_store_and_query(tmp_path: Path) -> None:
    storage = tmp_path / "data"
    proc, port = start_serve(["--storage", str(storage), "--max-associations", "20"])
    errors: list[BaseException] = []
    uids: list[str] = []
    lock = threading.Lock()

    def sender(k: int) -> None:
        try:
            ae = scu(CT, MR, STUDY_ROOT_FIND)
            with ae.associate("127.0.0.1", port) as assoc:
                for j in range(PER_SENDER):
                    ds = make_instance(k * PER_SENDER + j, n_patients=7, tag=f"7.{k}")
                    st = assoc.send_c_store(ds)
                    assert int(st) == 0, st
                    with lock:
                        uids.append(ds.SOPInstanceUID)
                    if j % 5 == 4:  # query while the others store
                        found = [
                            d
                            for s, d in assoc.send_c_find(
                                ident("IMAGE", SOPInstanceUID=ds.SOPInstanceUID), "study"
                            )
                            if d is not None
                        ]
                        assert len(found) == 1
                # every sender also sends one instance of sender 0 again: stored once
                assert int(assoc.send_c_store(make_instance(0, n_patients=7, tag="7.0"))) == 0
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    try:
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(SENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:3]
        assert len(uids) == SENDERS * PER_SENDER
        status, res = find_all(port, ident("IMAGE", SOPInstanceUID=""))
        assert status == 0
        got = [r.SOPInstanceUID for r in res]
        assert sorted(got) == sorted(uids)  # each indexed exactly once
    finally:
        stop(proc)
    files = [p for p in storage.rglob("*.dcm")]
    assert len(files) == SENDERS * PER_SENDER
    _check(storage)


@pytest.mark.slow
def test_sigkill_during_stores_then_restart(tmp_path: Path) -> None:
    storage = tmp_path / "data"
    proc, port = start_serve(["--storage", str(storage)])
    acked: list[str] = []
    pipelined: list[str] = []  # acknowledged to the senders that keep a window open
    big: list[str] = []  # acknowledged instances of 1.5 MB (several chunks each)
    stop_sending = threading.Event()

    def sender(k: int) -> None:
        try:
            ae = scu(CT, MR)
            with ae.associate("127.0.0.1", port) as assoc:
                if k % 2:  # pipelined: up to the window outstanding, committed in the background
                    many = (make_instance(k * 1000 + j, tag=f"8.{k}") for j in range(500))
                    for ds, status in assoc.send_c_stores(many):
                        if stop_sending.is_set():
                            return
                        if not isinstance(status, Exception) and int(status) == 0:
                            acked.append(ds.SOPInstanceUID)
                            pipelined.append(ds.SOPInstanceUID)
                    return
                for j in range(500):
                    if stop_sending.is_set():
                        return
                    ds = make_instance(k * 1000 + j, tag=f"8.{k}")
                    if k == 2:  # large: written in several chunks, its header read back
                        ds.add_new(0x00091010, "OB", bytes(1_500_000))
                    if int(assoc.send_c_store(ds)) == 0:
                        acked.append(ds.SOPInstanceUID)
                        if k == 2:
                            big.append(ds.SOPInstanceUID)
        except Exception:  # noqa: BLE001 - the server was killed under us
            pass

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while (len(acked) < 40 or len(pipelined) < 10 or len(big) < 3) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    stop_sending.set()
    for t in threads:
        t.join(30)
    assert len(acked) >= 40 and len(pipelined) >= 10 and len(big) >= 3
    # Restart: the index is reconciled with the files on start.
    proc, port = start_serve(["--storage", str(storage)])
    try:
        status, res = find_all(port, ident("IMAGE", SOPInstanceUID=""))
        assert status == 0
        found = {r.SOPInstanceUID for r in res}
        assert set(acked) <= found  # nothing acknowledged is lost
        assert len(found) == len(res)  # nothing indexed twice
    finally:
        stop(proc)
    _check(storage)
    assert not list((storage / ".incoming").glob("*.part"))
    # acknowledged instances still in their intake files when killed were placed on
    # restart: what is left in .spares is empty and unmarked (made ahead, unused)
    assert not [p for p in (storage / ".spares").glob("*.intake") if is_complete(str(p))]
