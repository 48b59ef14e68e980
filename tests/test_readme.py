"""The README's two set-up commands stay true: CI runs exactly its test command."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _indented_commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.startswith("    ") and line.strip()]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = _indented_commands(readme.split("## Set up", 1)[1].split("##", 1)[0])
    assert len(commands) == 2, commands
    install, test = commands
    assert install.startswith("pip install") and "dicomfast" in install
    assert test in ci.splitlines()
