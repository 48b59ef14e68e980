"""The command line loads only what the command being run needs: ``dicomfast
--help`` and ``dicomfast echo`` do not import numpy or the archive (their
start-up is timed in bench/test_bench_startup.py), and the help shown for a
command that is not loaded is the command's own."""

from __future__ import annotations

import subprocess
import sys

from dicomfast.cli import COMMANDS, build_parser


def _help_texts(parser) -> dict[str, str]:  # noqa: ANN001
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return {a.dest: a.help for a in sub._choices_actions}


def test_every_command_is_listed_with_its_own_help() -> None:
    full = _help_texts(build_parser())
    assert full == {name: text for name, (_, text) in COMMANDS.items()}
    assert _help_texts(build_parser("")) == full


def test_only_the_command_run_is_loaded() -> None:
    probe = (
        "import sys\n"
        "from dicomfast.cli import build_parser\n"
        "build_parser('')\n"
        "build_parser('echo').parse_args(['echo', 'h', '1'])\n"
        "heavy = [m for m in ('numpy', 'dicomfast.dataset', 'dicomfast.archive', "
        "'sqlalchemy', 'dicomfast.cli.serve') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_public_names_still_import() -> None:
    import dicomfast

    for name in dicomfast.__all__:
        assert getattr(dicomfast, name) is not None
    from dicomfast import Dataset, read, uid  # noqa: F401
