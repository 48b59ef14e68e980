"""The pre-commit hooks run exactly the commands of CI's lint step, in its order."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ci_lint_commands() -> list[str]:
    ci = (ROOT / ".ci" / "run").read_text()
    step = ci.split('step "lint"', 1)[1].split("\nstep ", 1)[0]
    lines = [line.strip() for line in step.splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "python3 -m pip"))]


def test_hooks_are_the_ci_lint_step() -> None:
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    entries = re.findall(r"^\s+entry: (.+)$", config, flags=re.M)
    assert entries == _ci_lint_commands()
    assert config.count("language: system") == len(entries)
