"""A small Chrome DevTools Protocol client for the browser test: headless
chromium started on loopback, one page, commands over its WebSocket."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from typing import Any

import requests
import websockets


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """``chromium --headless`` with a DevTools port; :meth:`page` opens a tab."""

    def __init__(self, executable: str, width: int = 1280, height: int = 800) -> None:
        self.profile = tempfile.mkdtemp(prefix="dicomfast-chromium-")
        self.proc = subprocess.Popen(
            [
                executable,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        self.port = 0
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                break
            if not line and self.proc.poll() is not None:
                break
        if not self.port:
            self.close()
            raise RuntimeError("chromium did not start its DevTools server")

    def page_ws(self, url: str) -> str:
        r = requests.put(f"http://127.0.0.1:{self.port}/json/new?{url}", timeout=10)
        r.raise_for_status()
        return r.json()["webSocketDebuggerUrl"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        n = next(self.ids)
        await self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if msg.get("id") == n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def eval(self, expression: str) -> Any:
        r = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression[:60]}: {r['exceptionDetails']}")
        return r["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            v = await self.eval(expression)
            if v:
                return v
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout}s for: {expression}")
            await asyncio.sleep(0.1)

    async def mouse(self, kind: str, x: float, y: float, **kw: Any) -> None:
        await self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, **kw)

    async def drag(self, x0: float, y0: float, x1: float, y1: float, steps: int = 10) -> None:
        await self.mouse("mousePressed", x0, y0, button="left", clickCount=1, buttons=1)
        for k in range(1, steps + 1):
            x, y = x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps
            await self.mouse("mouseMoved", x, y, button="left", buttons=1)
        await self.mouse("mouseReleased", x1, y1, button="left", clickCount=1)

    async def screenshot(self, path: str) -> None:
        import base64

        r = await self.send("Page.captureScreenshot", format="png")
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(r["data"]))


async def open_page(browser: Browser, url: str) -> tuple[Any, Page]:
    ws = await websockets.connect(browser.page_ws(url), max_size=None)
    return ws, Page(ws)


def screenshot_dir() -> str | None:
    return os.environ.get("DICOMFAST_SCREENSHOTS")
