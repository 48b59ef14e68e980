"""The keyword table is built on first use: threads asking at once (a batch's first
files, each on its own thread) must all see every keyword.  Once, it was filled in
place, so a second thread could find it half-built: ``"Rows" in ds`` was False and
``dicomfast convert`` failed its first files with "missing required element(s) for
pixel data: Rows, Columns, BitsAllocated" (seen in CI, about one run in forty)."""

from __future__ import annotations

import subprocess
import sys

# A fresh interpreter per trial (the table is built once per process); a tiny switch
# interval lets the other threads run while the first is building it.
SCRIPT = r"""
import sys, threading
sys.setswitchinterval(1e-6)
from dicomfast import _core
from dicomfast.dictionary import tag_for_keyword
keywords = [e[3] for e in _core.dictionary_entries() if e[3]]
go = threading.Barrier(4)
missing = []
def ask():
    go.wait()
    missing.extend(k for k in keywords[-200:] if tag_for_keyword(k) is None)
threads = [threading.Thread(target=ask) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(missing))
"""


def test_threads_asking_at_once_all_see_every_keyword() -> None:
    for _ in range(4):
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "0", "keywords missing while the table was being built"
