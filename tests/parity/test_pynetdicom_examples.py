"""pynetdicom's own examples (README / user guide SCU and SCP snippets), written
in its style, run unchanged against ``dicomfast.net``: only the import lines
change (``pynetdicom`` -> ``dicomfast.net``, ``pydicom`` -> ``dicomfast``).

Every SCU example runs with either library against an SCP example run with
either library, and the four combinations must give the same results.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pynetdicom")
pytest.importorskip("pydicom")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from corpus_data import CORPUS  # noqa: E402

CT = CORPUS / "public/pydicom/CT_small.dcm"


def port_to_dicomfast(src: str) -> str:
    """Change the import lines only."""
    out = []
    for line in textwrap.dedent(src).splitlines():
        if line.startswith(("from ", "import ")):
            line = line.replace("pynetdicom", "dicomfast.net")
            line = line.replace("pydicom.dataset", "dicomfast.dataset")
            line = line.replace("from pydicom ", "from dicomfast ")
        out.append(line)
    return "\n".join(out)


def run(src: str, lib: str, **names: object) -> dict:
    code = textwrap.dedent(src) if lib == "pynetdicom" else port_to_dicomfast(src)
    scope: dict = dict(names)
    exec(compile(code, f"<{lib} example>", "exec"), scope)  # noqa: S102
    return scope


# -- the SCP: a Storage / Find / Get SCP with handlers --------------------------------------
SCP = """
from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE, evt, AllStoragePresentationContexts
from pynetdicom.sop_class import (
    Verification,
    CTImageStorage,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
)

def handle_store(event):
    ds = event.dataset
    STORED.append((ds.SOPInstanceUID, event.assoc.requestor.ae_title))
    return 0x0000

def handle_find(event):
    ds = event.identifier
    instances = [dcmread(CT_PATH)]
    if ds.QueryRetrieveLevel == "PATIENT":
        for inst in instances:
            if event.is_cancelled:
                yield (0xFE00, None)
                return
            identifier = Dataset()
            identifier.PatientName = inst.PatientName
            identifier.QueryRetrieveLevel = ds.QueryRetrieveLevel
            yield (0xFF00, identifier)

def handle_get(event):
    instances = [dcmread(CT_PATH)]
    yield len(instances)
    for inst in instances:
        if event.is_cancelled:
            yield (0xFE00, None)
            return
        yield (0xFF00, inst)

def handle_move(event):
    if event.move_destination not in KNOWN_AE_DESTINATIONS:
        yield (None, None)
        return
    addr, port = KNOWN_AE_DESTINATIONS[event.move_destination]
    yield (addr, port)
    instances = [dcmread(CT_PATH)]
    yield len(instances)
    for inst in instances:
        if event.is_cancelled:
            yield (0xFE00, None)
            return
        yield (0xFF00, inst)

handlers = [
    (evt.EVT_C_STORE, handle_store),
    (evt.EVT_C_MOVE, handle_move),
    (evt.EVT_C_FIND, handle_find),
    (evt.EVT_C_GET, handle_get),
]

ae = AE()
ae.supported_contexts = AllStoragePresentationContexts
ae.add_supported_context(Verification)
ae.add_supported_context(PatientRootQueryRetrieveInformationModelFind)
ae.add_supported_context(PatientRootQueryRetrieveInformationModelGet)
ae.add_supported_context(PatientRootQueryRetrieveInformationModelMove)
ae.add_requested_context(CTImageStorage)
ae.add_supported_context(CTImageStorage, scu_role=True, scp_role=True)
server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
PORT = server.server_address[1]
KNOWN_AE_DESTINATIONS = {"STORESCP": ("127.0.0.1", PORT)}
"""

ECHO = """
from pynetdicom import AE
from pynetdicom.sop_class import Verification

ae = AE()
ae.add_requested_context(Verification)
assoc = ae.associate("127.0.0.1", PORT)
if assoc.is_established:
    status = assoc.send_c_echo()
    if status:
        RESULT.append(("echo", status.Status))
    else:
        RESULT.append("no response")
    assoc.release()
"""

STORE = """
from pydicom import dcmread
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

ae = AE()
ae.add_requested_context(CTImageStorage)
ds = dcmread(CT_PATH)
assoc = ae.associate("127.0.0.1", PORT)
if assoc.is_established:
    status = assoc.send_c_store(ds)
    if status:
        RESULT.append(("store", status.Status))
    assoc.release()
"""

FIND = """
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelFind

ae = AE()
ae.add_requested_context(PatientRootQueryRetrieveInformationModelFind)
ds = Dataset()
ds.PatientName = "*"
ds.QueryRetrieveLevel = "PATIENT"
assoc = ae.associate("127.0.0.1", PORT)
if assoc.is_established:
    responses = assoc.send_c_find(ds, PatientRootQueryRetrieveInformationModelFind)
    for (status, identifier) in responses:
        if status:
            RESULT.append(("find", status.Status, str(identifier.PatientName) if identifier else None))
    assoc.release()
"""

GET = """
from pydicom.dataset import Dataset
from pynetdicom import AE, evt, build_role
from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelGet, CTImageStorage

def handle_store(event):
    ds = event.dataset
    RESULT.append(("got", ds.SOPInstanceUID, event.assoc.acceptor.port == PORT))
    return 0x0000

handlers = [(evt.EVT_C_STORE, handle_store)]

ae = AE()
ae.add_requested_context(PatientRootQueryRetrieveInformationModelGet)
ae.add_requested_context(CTImageStorage)
role = build_role(CTImageStorage, scp_role=True)
ds = Dataset()
ds.QueryRetrieveLevel = "PATIENT"
ds.PatientID = "1CT1"
assoc = ae.associate("127.0.0.1", PORT, ext_neg=[role], evt_handlers=handlers)
if assoc.is_established:
    responses = assoc.send_c_get(ds, PatientRootQueryRetrieveInformationModelGet)
    for (status, identifier) in responses:
        if status:
            RESULT.append(("get", status.Status))
    assoc.release()
"""

MOVE = """
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelMove

ae = AE()
ae.add_requested_context(PatientRootQueryRetrieveInformationModelMove)
ds = Dataset()
ds.QueryRetrieveLevel = "PATIENT"
ds.PatientID = "1CT1"
assoc = ae.associate("127.0.0.1", PORT)
if assoc.is_established:
    responses = assoc.send_c_move(ds, "STORESCP", PatientRootQueryRetrieveInformationModelMove)
    for (status, identifier) in responses:
        if status:
            RESULT.append(("move", status.Status))
    assoc.release()
"""

LIBS = ["pynetdicom", "dicomfast"]


@pytest.fixture(scope="module", params=LIBS)
def scp(request):  # noqa: ANN001, ANN201
    if not CT.exists():
        pytest.skip("corpus not found")
    stored: list = []
    scope = run(SCP, request.param, CT_PATH=str(CT), STORED=stored)
    yield request.param, scope["PORT"], stored
    scope["server"].shutdown()


def _results(example: str, lib: str, port: int) -> list:
    result: list = []
    run(example, lib, PORT=port, CT_PATH=str(CT), RESULT=result)
    return result


@pytest.mark.parametrize("scu_lib", LIBS)
def test_echo(scp, scu_lib):  # noqa: ANN001
    assert _results(ECHO, scu_lib, scp[1]) == [("echo", 0)]


@pytest.mark.parametrize("scu_lib", LIBS)
def test_store(scp, scu_lib):  # noqa: ANN001
    scp[2].clear()
    assert _results(STORE, scu_lib, scp[1]) == [("store", 0)]
    import pydicom

    uid = str(pydicom.dcmread(CT).SOPInstanceUID)
    aet = "PYNETDICOM" if scu_lib == "pynetdicom" else "DICOMFAST"
    assert [(str(u), a) for u, a in scp[2]] == [(uid, aet)]


@pytest.mark.parametrize("scu_lib", LIBS)
def test_find(scp, scu_lib):  # noqa: ANN001
    assert _results(FIND, scu_lib, scp[1]) == [
        ("find", 0xFF00, "CompressedSamples^CT1"),
        ("find", 0, None),
    ]


@pytest.mark.parametrize("scu_lib", LIBS)
def test_get(scp, scu_lib):  # noqa: ANN001
    import pydicom

    uid = str(pydicom.dcmread(CT).SOPInstanceUID)
    got = _results(GET, scu_lib, scp[1])
    assert [(r[0], str(r[1]), r[2]) if r[0] == "got" else r for r in got][:1] == [
        ("got", uid, True)
    ]
    assert got[-1] == ("get", 0)


@pytest.mark.parametrize("scu_lib", LIBS)
def test_move(scp, scu_lib):  # noqa: ANN001
    import pydicom

    scp[2].clear()
    got = _results(MOVE, scu_lib, scp[1])
    assert got[-1] == ("move", 0)
    assert all(r == ("move", 0xFF00) for r in got[:-1])
    assert [str(u) for u, _ in scp[2]] == [str(pydicom.dcmread(CT).SOPInstanceUID)]
