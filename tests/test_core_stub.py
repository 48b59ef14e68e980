"""``_core.pyi`` lists exactly what the compiled ``dicomfast._core`` exports,
with the same parameter names."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import dicomfast
from dicomfast import _core

STUB = Path(dicomfast.__file__).with_name("_core.pyi")


def _stub() -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    tree = ast.parse(STUB.read_text())
    funcs: dict[str, list[str]] = {}
    classes: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs[node.name] = [a.arg for a in node.args.args + node.args.kwonlyargs]
        elif isinstance(node, ast.ClassDef):
            members = set()
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef):
                    members.add(sub.name)
                elif isinstance(sub, ast.AnnAssign) and isinstance(sub.target, ast.Name):
                    members.add(sub.target.id)
            classes[node.name] = members
    return funcs, classes


def _public(names: list[str]) -> set[str]:
    return {n for n in names if not (n.startswith("__") and n.endswith("__"))}


def test_stub_names_match_the_module() -> None:
    funcs, classes = _stub()
    exported = _public(dir(_core)) - {"__version__"}
    assert exported == set(funcs) | set(classes)
    for name, members in classes.items():
        real = _public(list(vars(getattr(_core, name))))
        assert real == _public(list(members)), name


def test_stub_parameters_match() -> None:
    funcs, _ = _stub()
    for name, params in funcs.items():
        sig = getattr(_core, name).__text_signature__
        if sig is None:
            continue
        real = [p for p in inspect.signature(getattr(_core, name)).parameters]
        assert real == params, name
