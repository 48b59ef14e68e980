"""Authentication, the loopback rule, CORS and ``dicomfast serve``'s web side."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from dicomfast.archive import Archive
from dicomfast.web import WebOptions, WebServer


def test_credentials_are_required_when_configured(archive: Archive, tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.write_text("# one token, one user\ns3cret-token\nalice:wonder:land\n")
    s = WebServer(archive, WebOptions(port=0, auth_file=str(creds))).start()
    try:
        url = f"{s.url}/studies"
        r = requests.get(url)
        assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]
        assert requests.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert requests.get(url, auth=("alice", "wrong")).status_code == 401
        assert (
            requests.get(url, headers={"Authorization": "Bearer s3cret-token"}).status_code == 204
        )
        assert requests.get(url, auth=("alice", "wonder:land")).status_code == 204
        assert requests.get(f"{s.url}/").status_code == 401  # the viewer too
    finally:
        s.shutdown()


def test_no_open_server_off_loopback(archive: Archive) -> None:
    with pytest.raises(ValueError, match="not loopback"):
        WebServer(archive, WebOptions(host="0.0.0.0", port=0))
    s = WebServer(archive, WebOptions(host="0.0.0.0", port=0, insecure=True)).start()
    s.shutdown()


def test_cors_only_when_configured(archive: Archive) -> None:
    plain = WebServer(archive, WebOptions(port=0)).start()
    cors = WebServer(archive, WebOptions(port=0, cors_origins=["http://app.example"])).start()
    try:
        h = {"Origin": "http://app.example"}
        assert (
            "Access-Control-Allow-Origin"
            not in requests.get(f"{plain.url}/studies", headers=h).headers
        )
        r = requests.get(f"{cors.url}/studies", headers=h)
        assert r.headers["Access-Control-Allow-Origin"] == "http://app.example"
        pre = requests.options(f"{cors.url}/studies", headers=h)
        assert pre.status_code == 204 and "GET" in pre.headers["Access-Control-Allow-Methods"]
        other = requests.get(f"{cors.url}/studies", headers={"Origin": "http://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        plain.shutdown()
        cors.shutdown()


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dicomfast",
            "serve",
            "--port",
            "0",
            "--storage",
            str(tmp_path / "d"),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_serve_starts_the_web_side(tmp_path: Path) -> None:
    p = _serve(tmp_path, "--http-port", "0")
    try:
        url = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and url is None:
            line = p.stdout.readline() if p.stdout else ""
            if "DICOMweb and the viewer on " in line:
                url = line.split(" on ", 1)[1].strip().rstrip("/")
        assert url and url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/studies").status_code == 204
        page = requests.get(f"{url}/viewer?study=1.2.3")
        assert page.status_code == 200 and "viewer.js" in page.text
    finally:
        p.terminate()
        p.wait(10)
    refused = _serve(tmp_path, "--http-port", "0", "--http-host", "0.0.0.0")
    out, err = refused.communicate(timeout=30)
    assert refused.returncode == 2 and "--http-auth" in err
