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

import logging as _logging

from . import events as evt
from . import sop_class
from .ae import AE, Server
from .association import Association, AsyncAssociation
from .contexts import VERIFICATION_SOP_CLASS, PresentationContext
from .dimse import Status
from .sop_class import (
    AllStoragePresentationContexts,
    BasicWorklistManagementPresentationContexts,
    QueryRetrievePresentationContexts,
    StoragePresentationContexts,
    VerificationPresentationContexts,
    build_context,
    build_role,
)
from .storage import FileStorage


def debug_logger() -> None:
    """Log everything the ``dicomfast.net`` logger says to stderr at DEBUG
    (pynetdicom's ``debug_logger()``)."""
    logger = _logging.getLogger("dicomfast.net")
    logger.setLevel(_logging.DEBUG)
    if not any(getattr(h, "_dicomfast_debug", False) for h in logger.handlers):
        handler = _logging.StreamHandler()
        handler.setFormatter(_logging.Formatter("%(levelname).1s: %(message)s"))
        handler._dicomfast_debug = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


__all__ = [
    "AE",
    "AllStoragePresentationContexts",
    "BasicWorklistManagementPresentationContexts",
    "QueryRetrievePresentationContexts",
    "StoragePresentationContexts",
    "VerificationPresentationContexts",
    "build_context",
    "build_role",
    "debug_logger",
    "sop_class",
    "Association",
    "AsyncAssociation",
    "FileStorage",
    "PresentationContext",
    "Server",
    "Status",
    "VERIFICATION_SOP_CLASS",
    "evt",
]
