"""``dicomfast bench``: benchmark DICOM toolkits against dicomfast on your own files.

The machinery, also used by the repository's ``bench/`` suite:

- :mod:`.timing` - the one timing rule (:func:`alternate`, :func:`time_alternating`:
  contenders called in turn on the same input);
- :mod:`.registry` - :class:`Contender`, :class:`Job`, :func:`register`; the built-in
  contenders are one module each in :mod:`.contenders` (dicomfast, pydicom, gdcm,
  dcmtk, imagecodecs);
- :mod:`.runner` - :func:`run`: check each contender's result equal to ours, then
  time them in interleaved rounds; returns the JSON document;
- :mod:`.report` - the tables and the ``--plot`` chart.

The package is named ``benchmark`` (not ``bench``) so that it is never confused
with the repository's top-level ``bench/`` folder, which pytest puts on sys.path.
"""

from __future__ import annotations

from .timing import alternate, time_alternating

__all__ = ["alternate", "time_alternating"]
