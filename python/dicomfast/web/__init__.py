"""DICOMweb (PS3.18) and a browser viewer on the archive, over HTTP.

The web side of ``dicomfast serve``: QIDO-RS, WADO-RS (instances, metadata,
bulk data, frames, rendered resources, thumbnails), STOW-RS and WADO-URI on an
:class:`~dicomfast.archive.Archive`, plus the viewer page at ``/``.  It runs on
aiohttp in an event loop of its own thread (:class:`WebServer`); the archive's
blocking work (SQL, file reads, decoding, ingest) goes to a thread pool, and
large answers are streamed part by part from the files.

This package imports :mod:`dicomfast.archive`; :mod:`dicomfast.net` never imports it.
"""

from __future__ import annotations

from .options import WebOptions
from .server import WebServer, create_app

__all__ = ["WebOptions", "WebServer", "create_app"]
