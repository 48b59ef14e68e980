"""``dicomfast.net`` does not import ``dicomfast.archive``: the network layer hands
requests to event handlers; the archive's handlers live on the archive's side."""

from __future__ import annotations

import ast
from pathlib import Path

import dicomfast.net

NET = Path(dicomfast.net.__file__).parent


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            out += [base] + [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return out


def test_net_never_imports_archive() -> None:
    offenders = {
        str(p.relative_to(NET)): name
        for p in NET.rglob("*.py")
        for name in _imports(p)
        if "archive" in name.split(".")
    }
    assert offenders == {}
