"""One command-line convention (dicomfast.cli.conventions): every command has
--version and -q/-v/-d/--log-level with help on every option, the exit codes
are the table's, and DCMTK's option spellings parse to the same arguments."""

from __future__ import annotations

import argparse
import logging
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from dicomfast.cli import COMMANDS, build_parser, main
from dicomfast.cli.conventions import EXIT_CODES, log_level_of, walk_parsers

COMMON = ("--version", "-q", "--quiet", "-v", "--verbose", "-d", "--debug", "--log-level")


def _leaf_parsers() -> list[argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for name in COMMANDS:
        for p in walk_parsers(sub.choices[name]):
            out.append(p)
    return out


def test_every_command_has_the_common_options_with_help() -> None:
    parsers = _leaf_parsers()
    assert len(parsers) >= len(COMMANDS)
    for p in parsers:
        for opt in COMMON:
            assert opt in p._option_string_actions, (p.prog, opt)
        for action in p._actions:
            if action.option_strings:
                assert action.help, (p.prog, action.option_strings)


@pytest.mark.parametrize("argv", [[], ["echo"], ["store"], ["archive", "check"], ["media"]])
def test_version_everywhere(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    import dicomfast

    with pytest.raises(SystemExit) as e:
        main([*argv, "--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"dicomfast {dicomfast.__version__}"


def test_logging_options_map_to_levels() -> None:
    def level(*argv: str) -> int:
        return log_level_of(build_parser("echo").parse_args(["echo", "h", "1", *argv]))

    assert level() == logging.WARNING
    assert level("-q") == logging.ERROR
    assert level("-v") == logging.INFO
    assert level("-d") == logging.DEBUG
    assert level("--log-level", "info") == logging.INFO
    assert level("-ll", "error", "-d") == logging.ERROR
    # serve logs INFO by default and keeps -q = warnings only
    serve = build_parser("serve")
    assert log_level_of(serve.parse_args(["serve"]), logging.INFO) == logging.INFO
    assert log_level_of(serve.parse_args(["serve", "-q"]), logging.INFO) == logging.WARNING
    # commands that had -q keep its meaning
    assert build_parser("store").parse_args(["store", "h", "1", "f", "-q"]).quiet is True
    # nested commands: the option is read where it is given
    args = build_parser("archive").parse_args(["archive", "check", "-v"])
    assert log_level_of(args) == logging.INFO
    with pytest.raises(SystemExit) as e:
        build_parser("echo").parse_args(["echo", "h", "1", "--log-level", "LOUD"])
    assert e.value.code == 2


def test_level_numbers_are_loggings() -> None:
    from dicomfast.cli.conventions import LEVEL_NUMBERS, LEVELS

    assert list(LEVEL_NUMBERS) == list(LEVELS)
    assert LEVEL_NUMBERS == {name: getattr(logging, name) for name in LEVELS}


def test_logging_is_set_up_when_first_imported() -> None:
    """At the default level a command that logs nothing never imports logging; one
    whose module imports it later still gets the set-up (the format on stderr)."""
    script = (
        "import sys\n"
        "from dicomfast.cli.conventions import setup_logging\n"
        "import argparse\n"
        "setup_logging(argparse.Namespace())\n"
        "assert 'logging' not in sys.modules\n"
        "import importlib.util\n"
        "assert importlib.util.find_spec('logging') is not None  # looked for, not run\n"
        "import logging\n"
        "logging.getLogger('dicomfast.x').warning('careful')\n"
        "logging.getLogger('dicomfast.x').info('not shown')\n"
        "assert not any(type(f).__name__ == '_ThenSetUp' for f in sys.meta_path)\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert " WARNING dicomfast.x: careful" in r.stderr and "not shown" not in r.stderr
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dicomfast", "media", "index", "/nonexistent"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "no such folder" in r.stderr
    assert "| logging" not in r.stderr


def test_exit_code_table() -> None:
    assert sorted(EXIT_CODES) == [0, 1, 2]
    import dicomfast.cli as cli

    for code in EXIT_CODES:
        assert f"\n{code}     " in cli.__doc__


def _ns(command: str, argv: list[str]) -> dict:
    args = vars(build_parser(command).parse_args([command, *argv]))
    args.pop("run", None)
    return args


def test_dcmtk_spellings_parse_like_ours() -> None:
    base = ["host", "104"]
    assert _ns("echo", [*base, "-aet", "ME", "-aec", "PEER"]) == _ns(
        "echo", [*base, "--aet", "ME", "--aec", "PEER"]
    )
    assert _ns("move", [*base, "-aem", "DEST", "-P"]) == _ns(
        "move", [*base, "--dest", "DEST", "--model", "patient"]
    )
    assert _ns("get", [*base, "-od", "out", "-S"]) == _ns(
        "get", [*base, "--output", "out", "--model", "study"]
    )
    assert _ns("find", [*base, "-W"]) == _ns("find", [*base, "--model", "worklist"])
    t = ["-t", "explicit-le"]
    assert _ns("convert", ["in", "-od", "out", *t]) == _ns("convert", ["in", "-o", "out", *t])
    assert _ns("anonymize", ["in", "-od", "out"]) == _ns("anonymize", ["in", "--output", "out"])
    # -o with its value attached still means -o
    assert _ns("get", [*base, "-oxyz"])["output"] == "xyz"


def test_keys_by_tag_and_sequence_paths() -> None:
    from dicomfast.cli.find import identifier_from_keys

    by_kw = identifier_from_keys(["PatientName=DOE^J", "StudyDate"], "STUDY")
    by_tag = identifier_from_keys(["0010,0010=DOE^J", "(0008,0020)"], "STUDY")
    assert by_kw.to_json_dict() == by_tag.to_json_dict()
    ds = identifier_from_keys(
        [
            "ReferencedStudySequence[0].ReferencedSOPInstanceUID=1.2.3",
            "ReferencedStudySequence[1].ReferencedSOPInstanceUID=1.2.4",
            "0040,0100.Modality=CT",
        ]
    )
    items = ds.ReferencedStudySequence
    assert [i.ReferencedSOPInstanceUID for i in items] == ["1.2.3", "1.2.4"]
    assert ds.ScheduledProcedureStepSequence[0].Modality == "CT"
    dotted = identifier_from_keys(["ReferencedStudySequence.ReferencedSOPInstanceUID=1.2.3"])
    first = identifier_from_keys(["ReferencedStudySequence[0].ReferencedSOPInstanceUID=1.2.3"])
    assert dotted.to_json_dict() == first.to_json_dict()
    with pytest.raises(ValueError):
        identifier_from_keys(["ReferencedStudySequence[x].ReferencedSOPInstanceUID=1"])


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


@pytest.mark.parametrize(
    "argv",
    [
        ["echo"],
        ["find", "-k", "PatientID"],
        ["move", "--dest", "X", "-k", "StudyInstanceUID=1.2"],
        ["get", "-k", "StudyInstanceUID=1.2"],
        ["mwl"],
    ],
)
def test_connection_refused_is_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cmd, *rest = argv
    extra = ["-o", str(tmp_path)] if cmd == "get" else []
    assert main([cmd, "127.0.0.1", _closed_port(), *rest, *extra, "--timeout", "2"]) == 2
    captured = capsys.readouterr()
    assert captured.err and not captured.out


def test_store_connection_refused_is_2(ct_small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "127.0.0.1", _closed_port(), str(ct_small), "--timeout", "2"]) == 2
    assert capsys.readouterr().err


def test_a_failed_file_is_1(tmp_path: Path, ct_small: Path) -> None:
    bad = tmp_path / "in" / "bad.dcm"
    bad.parent.mkdir()
    bad.write_bytes(b"not DICOM at all" * 10)
    assert main(["dump", str(bad)]) == 1
    assert main(["dump", str(ct_small)]) == 0
    out = tmp_path / "out"
    assert (
        main(
            [
                "convert",
                str(bad.parent),
                "-o",
                str(out),
                "-q",
                "--workers",
                "1",
                "-t",
                "explicit-le",
            ]
        )
        == 1
    )


def _json_lines(text: str) -> list[dict]:
    import json

    lines = text.splitlines()
    assert lines
    return [json.loads(line) for line in lines]


def test_json_is_json_lines(
    tmp_path: Path, ct_small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dicomfast.net import AE, VERIFICATION_SOP_CLASS

    assert main(["dump", "--json", str(ct_small), str(ct_small)]) == 0
    assert len(_json_lines(capsys.readouterr().out)) == 2
    ae = AE("ECHOSCP")
    ae.add_supported_context(VERIFICATION_SOP_CLASS)
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        assert main(["echo", "127.0.0.1", str(server.port), "--json", "--repeat", "2"]) == 0
        (rec,) = _json_lines(capsys.readouterr().out)
        assert rec["status"] == 0 and rec["category"] == "Success" and rec["count"] == 2
    finally:
        server.shutdown()
    storage = tmp_path / "archive"
    assert main(["archive", "import", "--storage", str(storage), str(ct_small), "--json"]) == 0
    recs = _json_lines(capsys.readouterr().out)
    assert recs[0]["ok"] is True and recs[-1] == {"stored": 1, "failed": 0}
    assert (
        main(
            [
                "archive",
                "find",
                "--storage",
                str(storage),
                "-k",
                "PatientID",
                "-k",
                "QueryRetrieveLevel=STUDY",
                "--json",
            ]
        )
        == 0
    )
    (match,) = _json_lines(capsys.readouterr().out)
    assert "00100020" in match
    assert main(["archive", "check", "--storage", str(storage), "--json"]) == 0
    assert _json_lines(capsys.readouterr().out)[-1] == {"status": "consistent"}
    assert main(["archive", "reindex", "--storage", str(storage), "--json", "--workers", "1"]) == 0
    assert _json_lines(capsys.readouterr().out)[0]["indexed"] == 1


def test_serve_config_and_environment_precedence(tmp_path: Path) -> None:
    from dicomfast.cli.serve import resolve_settings

    def settings(argv: list[str], env: dict[str, str]) -> tuple:
        args = build_parser("serve").parse_args(["serve", *argv])
        resolve_settings(args, env)
        return args.aet, args.port, args.storage, args.db

    assert settings([], {}) == ("DICOMFAST", 11112, "./dicomfast-data", None)
    env = {
        "DICOMFAST_AET": "ENVAE",
        "DICOMFAST_PORT": "4242",
        "DICOMFAST_STORAGE": "/env/store",
        "DICOMFAST_DB": "postgresql://env/db",
    }
    assert settings([], env) == ("ENVAE", 4242, "/env/store", "postgresql://env/db")
    cfg = tmp_path / "dicomfast.toml"
    cfg.write_text('[serve]\naet = "CFGAE"\nport = 5000\n')
    # config file over environment, environment where the file says nothing
    assert settings(["--config", str(cfg)], env) == (
        "CFGAE",
        5000,
        "/env/store",
        "postgresql://env/db",
    )
    # command line over both
    argv = [
        "--config",
        str(cfg),
        "--aet",
        "CLI",
        "--port",
        "6000",
        "--storage",
        "s",
        "--db",
        "x://",
    ]
    assert settings(argv, env) == ("CLI", 6000, "s", "x://")
    cfg.write_text('storage = "/cfg/store"\n')  # top-level keys work too
    assert settings(["--config", str(cfg)], {})[2] == "/cfg/store"
    cfg.write_text("[serve]\nportt = 1\n")
    with pytest.raises(ValueError, match="portt"):
        settings(["--config", str(cfg)], {})
    # a bad config file is a configuration error: exit 2, nothing started
    assert main(["serve", "--config", str(cfg), "--no-http"]) == 2
    assert main(["serve", "--config", str(tmp_path / "missing.toml")]) == 2


def test_bare_postgresql_url_means_psycopg() -> None:
    from dicomfast.archive.db import database_url, normalize_url

    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert normalize_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"
    assert database_url(None, "postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_progress_bar_only_on_a_terminal_and_lines_stay_whole() -> None:
    import io

    from dicomfast.cli.conventions import progress_bar, say

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_bar(10, stream=io.StringIO()).disable  # not a terminal: no bar
    assert progress_bar(10, stream=Tty(), enabled=False).disable  # -q / --json
    term = Tty()
    bar = progress_bar(3, stream=term)
    assert not bar.disable
    bar.update(1)
    say("FAIL x: broken", file=term, bar=bar)
    bar.update(2)
    bar.close()
    text = term.getvalue()
    assert "FAIL x: broken\n" in text
    assert "3/3" in text or "2/3" in text or "1/3" in text


def test_debug_logs_dimse_summaries(caplog: pytest.LogCaptureFixture) -> None:
    from dicomfast.net import AE, VERIFICATION_SOP_CLASS

    ae = AE("ECHOSCP")
    ae.add_supported_context(VERIFICATION_SOP_CLASS)
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        with caplog.at_level(logging.DEBUG, logger="dicomfast"):
            assert main(["echo", "127.0.0.1", str(server.port), "-d"]) == 0
    finally:
        server.shutdown()
        logging.getLogger("dicomfast").setLevel(logging.NOTSET)
    text = caplog.text
    assert "sent C-ECHO-RQ (context 1, id 1" in text
    assert "received C-ECHO-RSP" in text and "status 0x0000" in text


def test_archive_bad_index_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main(["archive", "check", "--storage", str(tmp_path), "--db", "nosuchdb://x"])
    assert e.value.code == 2
    captured = capsys.readouterr()
    assert "cannot open the index" in captured.err and not captured.out
