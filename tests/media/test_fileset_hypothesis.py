"""Random trees of instances: create -> read gives the same tree; random add/remove
sequences keep the file-set equal to a model and sound (``verify`` finds nothing)."""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from dicomfast.media import FileSet  # noqa: E402
from dicomfast.media.verify import verify  # noqa: E402
from media_helpers import fileset_tree, make_instance  # noqa: E402

# patient -> study -> series -> number of instances
trees = st.dictionaries(
    st.integers(1, 4),
    st.dictionaries(
        st.integers(1, 3),
        st.dictionaries(st.integers(1, 3), st.integers(1, 3), min_size=1, max_size=2),
        min_size=1,
        max_size=2,
    ),
    min_size=1,
    max_size=3,
)
_counter = itertools.count()


def _write_tree(
    folder: Path, tree: dict[int, dict[int, dict[int, int]]]
) -> dict[str, tuple[str, str, str, str]]:
    """Instances of ``tree`` written under ``folder``: path -> (patient, study, series, uid)."""
    out = {}
    for p, studies in tree.items():
        for s, series in studies.items():
            for e, n in series.items():
                for i in range(n):
                    path = folder / f"x{next(_counter)}.dcm"
                    uid = make_instance(path, str(p), str(s), str(e), i + 1)
                    out[str(path)] = (
                        f"PID{p}",
                        f"1.2.826.0.1.3680043.10.1337.{p}.{s}",
                        f"1.2.826.0.1.3680043.10.1337.{p}.{s}.{e}",
                        uid,
                    )
    return out


def _model(entries: dict[str, tuple[str, str, str, str]]) -> dict:
    m: dict = {}
    for pid, study, series, uid in entries.values():
        m.setdefault(pid, {}).setdefault(study, {}).setdefault(series, set()).add(uid)
    return m


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_create_then_read_gives_the_tree(tree: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        entries = _write_tree(Path(tmp), tree)
        fs = FileSet()
        for p in entries:
            fs.add(p)
        fs.write(Path(tmp) / "FS")
        back = FileSet(Path(tmp) / "FS")
        assert fileset_tree(back) == _model(entries)
        assert verify(back) == []


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees, st.lists(st.tuples(st.booleans(), trees, st.integers(0, 50)), min_size=1, max_size=3))
def test_add_remove_sequences(first: dict, steps: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "FS"
        model = _write_tree(Path(tmp), first)
        fs = FileSet()
        for p in model:
            fs.add(p)
        fs.write(root)
        for adding, tree, pick in steps:
            fs = FileSet(root)
            if adding:
                new = _write_tree(Path(tmp), tree)
                for p in new:
                    fs.add(p)
                model.update(new)
            elif len(fs):
                victims = list(fs)[pick % len(fs) :: 2]
                gone = {v.SOPInstanceUID for v in victims}
                fs.remove(victims)
                model = {k: v for k, v in model.items() if v[3] not in gone}
            fs.write()
            back = FileSet(root)
            assert fileset_tree(back) == _model(model)
            assert verify(back) == []
