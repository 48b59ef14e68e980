"""DICOM networking: associations (PS3.8), DIMSE (PS3.7), C-ECHO and C-STORE.

from dicomfast.net import AE, evt
ae = AE(ae_title="MYSCU")
ae.add_requested_context("1.2.840.10008.1.1")
assoc = ae.associate("127.0.0.1", 11112, ae_title="ANY-SCP")
status = assoc.send_c_echo()      # truthy once a response arrived; status.Status == 0: success
assoc.release()

scp = AE(ae_title="STORESCP")
scp.add_storage_scp_contexts()
server = scp.start_server(("127.0.0.1", 0), block=False, storage="./incoming")
server.port; server.shutdown()
"""

from __future__ import annotations

from . import events as evt
from .ae import AE, Server
from .association import Association, AsyncAssociation
from .contexts import VERIFICATION_SOP_CLASS, PresentationContext
from .dimse import Status
from .storage import FileStorage

__all__ = [
    "AE",
    "Association",
    "AsyncAssociation",
    "FileStorage",
    "PresentationContext",
    "Server",
    "Status",
    "VERIFICATION_SOP_CLASS",
    "evt",
]
