"""One version number.  The source is the Cargo workspace's ``[workspace.package]``
version: every crate inherits it, the Rust build embeds it in ``_core.__version__``,
and ``dicomfast.__version__`` and the implementation version name sent in associations
and file meta are read from there.  pyproject.toml's static ``version`` (the wheel's)
and the lock files cannot read it, so this test ties them to it."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import dicomfast
from dicomfast import _core, uid

ROOT = Path(__file__).resolve().parent.parent


def _toml(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _workspace_version() -> str:
    return _toml(ROOT / "Cargo.toml")["workspace"]["package"]["version"]


def test_python_and_pyproject_agree_with_the_workspace() -> None:
    version = _workspace_version()
    assert _toml(ROOT / "pyproject.toml")["project"]["version"] == version
    assert _core.__version__ == version
    assert dicomfast.__version__ == version
    # The installed metadata (stale if pyproject.toml changed without a reinstall).
    assert importlib.metadata.version("dicomfast") == version


def test_every_crate_inherits_the_workspace_version() -> None:
    manifests = sorted(ROOT.glob("rust/*/Cargo.toml"))
    assert len(manifests) >= 5
    for manifest in manifests:
        package = _toml(manifest)["package"]
        assert package["version"] == {"workspace": True}, manifest
        assert package["license"] == {"workspace": True}, manifest
    assert _toml(ROOT / "Cargo.toml")["workspace"]["package"]["license"] == "MIT"


def test_lock_files_hold_the_workspace_version() -> None:
    # The workspace lock and each fuzz crate's own lock (built with --locked).
    version = _workspace_version()
    names = {_toml(m)["package"]["name"] for m in ROOT.glob("rust/*/Cargo.toml")}
    locks = [ROOT / "Cargo.lock", *sorted(ROOT.glob("rust/*/fuzz/Cargo.lock"))]
    for lock in locks:
        ours = {p["name"]: p["version"] for p in _toml(lock)["package"] if p["name"] in names}
        assert ours, lock
        assert set(ours.values()) == {version}, (lock, ours)
    workspace_lock = {p["name"] for p in _toml(ROOT / "Cargo.lock")["package"]}
    assert names <= workspace_lock


def test_implementation_version_name() -> None:
    name = uid.IMPLEMENTATION_VERSION_NAME
    assert name == f"DICOMFAST_{_workspace_version()}"
    # PS3.7 D.3.3.2: 1 to 16 characters of the ISO 646 G0 set (an SH value, PS3.10
    # 7.1: the same string is the file meta's (0002,0013)), no backslash.
    assert 1 <= len(name) <= 16
    assert re.fullmatch(r"[\x20-\x5b\x5d-\x7e]+", name)
