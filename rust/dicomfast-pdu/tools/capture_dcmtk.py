#!/usr/bin/env python3
"""Capture a real DCMTK C-ECHO exchange as PDU fixtures.

Runs `storescp` on a loopback port, a byte-relaying proxy on another, and
`echoscu` against the proxy; every PDU crossing the proxy is written to
tests/fixtures/echo_NN_<dir>_<type>.bin (dir = scu or scp). Loopback only,
bounded in time. Requires Debian's dcmtk package.
"""
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

FIX = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
NAMES = {1: "assoc_rq", 2: "assoc_ac", 3: "assoc_rj", 4: "pdata", 5: "release_rq", 6: "release_rp", 7: "abort"}


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def main() -> int:
    scp_port, proxy_port = free_port(), free_port()
    scp = subprocess.Popen(["storescp", "--aetitle", "STORESCP", str(scp_port)], cwd="/tmp")
    time.sleep(0.5)
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", proxy_port))
    lst.listen(1)
    lst.settimeout(10)
    pdus = []
    lock = threading.Lock()

    def relay(src, dst, tag):
        while True:
            hdr = read_exact(src, 6)
            if hdr is None:
                break
            body = read_exact(src, int.from_bytes(hdr[2:6], "big"))
            if body is None:
                break
            with lock:
                pdus.append((tag, hdr + body))
            dst.sendall(hdr + body)
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    scu = subprocess.Popen(["echoscu", "-aet", "ECHOSCU", "-aec", "STORESCP", "127.0.0.1", str(proxy_port)])
    try:
        a, _ = lst.accept()
        a.settimeout(10)
        b = socket.create_connection(("127.0.0.1", scp_port), timeout=10)
        t1 = threading.Thread(target=relay, args=(a, b, "scu"))
        t2 = threading.Thread(target=relay, args=(b, a, "scp"))
        t1.start(); t2.start()
        rc = scu.wait(timeout=20)
        t1.join(5); t2.join(5)
    finally:
        scp.terminate()
        scp.wait(5)
    FIX.mkdir(parents=True, exist_ok=True)
    for i, (tag, raw) in enumerate(pdus):
        name = FIX / f"echo_{i:02d}_{tag}_{NAMES.get(raw[0], 'unknown')}.bin"
        name.write_bytes(raw)
        print(name.name, len(raw))
    return rc


if __name__ == "__main__":
    sys.exit(main())
