"""Modality Performed Procedure Step (PS3.4 Annex F): N-CREATE and N-SET on the
MPPS SOP Class, carried by the generic DIMSE-N service
(:mod:`dicomfast.net.services.normalized`).

SCP: ``EVT_N_CREATE`` / ``EVT_N_SET`` handlers get the request's attribute
list (``event.dataset``) and SOP Instance UID (``event.sop_instance_uid``)
and return a status (an ``int`` or a :class:`Status` carrying an Error
Comment) or ``(status, dataset or None)``; the data set, if any, is sent
back in the response.  :func:`dicomfast.archive.handlers.mpps_handlers`
records the steps in the archive.
"""

from __future__ import annotations

#: Modality Performed Procedure Step SOP Class (PS3.4 F.7).
MPPS_SOP_CLASS = "1.2.840.10008.3.1.2.3.3"
