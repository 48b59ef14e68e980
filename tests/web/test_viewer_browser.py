"""The viewer in headless chromium, checked as a person would: the list shows the
stored studies, a click opens the study's series, the image is not blank, and a
drag changes window/level (the canvas pixels differ), the wheel scrolls, a link
opens a study directly.  Skipped when chromium is not installed (CI installs it).
Set DICOMFAST_SCREENSHOTS=DIR to keep the screenshots."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
import webutil
from cdp import Browser, find_chromium, open_page, screenshot_dir
from dicomfast.archive import Archive
from dicomfast.web import WebServer

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")

PIXELS = """(() => {
  const c = document.querySelector('#view');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0, sum = 0, sq = 0;
  const grid = [];
  let sig = 0;
  for (let i = 0; i < d.length; i += 4) { const g = d[i]; sum += g; sq += g * g; n++; sig = (sig * 31 + g) % 1000000007; }
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
    const px = Math.floor((x + 0.5) * c.width / 16), py = Math.floor((y + 0.5) * c.height / 16);
    grid.push(d[(py * c.width + px) * 4]);
  }
  const mean = sum / n;
  return {sig, mean, std: Math.sqrt(sq / n - mean * mean), grid, wl: c.dataset.wl, index: c.dataset.index};
})()"""


@pytest.fixture
def browser() -> Browser:
    b = Browser(find_chromium() or "chromium")
    try:
        yield b
    finally:
        b.close()


def _load(archive: Archive) -> None:
    for k in range(6):
        archive.ingest(webutil.encode(webutil.ct(number=k + 1, rows=256, cols=256)))
    archive.ingest(
        webutil.encode(
            webutil.ct(
                study="1.2.826.0.7.2",
                series="1.2.826.0.7.2.1",
                patient="ROE^RICHARD",
                patient_id="P2",
                study_date="20230505",
                accession="ACC2",
                rows=128,
                cols=128,
                frames=5,
            )
        )
    )
    archive.flush()


def _keep(shot: Path) -> None:
    d = screenshot_dir()
    if d:
        Path(d).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(d) / shot.name)


def test_viewer_list_open_window_level(
    server: WebServer, archive: Archive, browser: Browser, tmp_path: Path
) -> None:
    _load(archive)

    async def run() -> None:
        ws, page = await open_page(browser, f"{server.url}/")
        async with ws:
            await page.send("Page.enable")
            await page.send("Runtime.enable")
            rows = await page.wait_for(
                "document.querySelectorAll('#study-list tbody tr').length === 2 && "
                "[...document.querySelectorAll('#study-list tbody tr')].map(r => r.innerText)"
            )
            text = json.dumps(rows)
            assert "DOE JANE" in text and "ROE RICHARD" in text and "2024-01-02" in text
            # search narrows the list
            await page.eval(
                "document.querySelector('[name=patient]').value = 'roe';"
                "document.querySelector('#search button').click(); true"
            )
            await page.wait_for("document.querySelectorAll('#study-list tbody tr').length === 1")
            await page.eval(
                "document.querySelector('[name=patient]').value = '';"
                "document.querySelector('#search button').click(); true"
            )
            await page.wait_for("document.querySelectorAll('#study-list tbody tr').length === 2")
            # a click opens the study: its series as thumbnails, the first image shown
            await page.eval(
                "document.querySelector('#study-list tbody tr[data-uid=\"1.2.826.0.7.1\"]').click(); true"
            )
            await page.wait_for("document.querySelectorAll('.series img').length === 1")
            await page.wait_for(
                "[...document.querySelectorAll('.series img')].every(i => i.complete && i.naturalWidth > 0)"
            )
            await page.wait_for("!!document.body && document.body.dataset.imageReady === '1'")
            assert "study=1.2.826.0.7.1" in await page.eval("location.href")
            before = await page.eval(PIXELS)
            assert before["std"] > 10, before  # not blank
            assert before["wl"] == "40,400"  # the file's window
            tags = await page.eval("document.querySelector('#tags').innerText")
            assert "DOE JANE" in tags and "256 x 256" in tags
            shot = tmp_path / "viewer-before.png"
            await page.screenshot(str(shot))
            _keep(shot)
            box = await page.eval(
                "(() => { const r = document.querySelector('#view').getBoundingClientRect();"
                " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
            )
            await page.drag(box[0], box[1], box[0] + 150, box[1] + 60)
            await page.wait_for(
                f"document.querySelector('#view').dataset.wl !== {json.dumps(before['wl'])}"
            )
            after = await page.eval(PIXELS)
            diff = sum(abs(a - b) for a, b in zip(before["grid"], after["grid"], strict=True))
            assert diff / len(before["grid"]) > 5, (before, after)
            shot = tmp_path / "viewer-after-drag.png"
            await page.screenshot(str(shot))
            _keep(shot)
            # a preset, then the wheel to the next image
            await page.eval(
                "const s = document.querySelector('#preset'); s.value = '-600,1500';"
                "s.dispatchEvent(new Event('change')); true"
            )
            await page.wait_for("document.querySelector('#view').dataset.wl === '-600,1500'")
            await page.send(
                "Input.dispatchMouseEvent",
                type="mouseWheel",
                x=box[0],
                y=box[1],
                deltaX=0,
                deltaY=100,
            )
            await page.wait_for("document.querySelector('#view').dataset.index === '1'")

    asyncio.run(asyncio.wait_for(run(), 90))


def test_a_link_opens_a_study_and_cine_plays_frames(
    server: WebServer, archive: Archive, browser: Browser, tmp_path: Path
) -> None:
    _load(archive)

    async def run() -> None:
        ws, page = await open_page(browser, f"{server.url}/viewer?study=1.2.826.0.7.2")
        async with ws:
            await page.send("Runtime.enable")
            await page.wait_for("!!document.body && document.body.dataset.imageReady === '1'")
            assert await page.eval("document.querySelector('#studies').hidden")
            overlay = await page.eval("document.querySelector('#overlay').innerText")
            assert "frame 1/5" in overlay
            first = await page.eval(PIXELS)
            await page.eval("document.querySelector('#play').click(); true")
            await page.wait_for("document.querySelector('#view').dataset.index !== '0'")
            await page.eval("document.querySelector('#play').click(); true")
            later = await page.eval(PIXELS)
            assert later["sig"] != first["sig"]  # another frame: the insert moved
            shot = tmp_path / "viewer-multiframe.png"
            await page.screenshot(str(shot))
            _keep(shot)

    asyncio.run(asyncio.wait_for(run(), 90))
