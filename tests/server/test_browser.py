"""The web page in a real headless Chromium (Debian's, driven by playwright), against the
service run by uvicorn on a free localhost port. Screenshots go to docs/img/ for the README."""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from docstack.server import create_app

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="uvicorn is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def base_url(served, media_dir):
    app = create_app(served, media_roots=[media_dir])
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def page(base_url):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(base_url)
        yield page
        browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"


def _rows(page):
    return page.locator("#docs-table tbody tr")


def _column(page, header: str) -> list[str]:
    headers = page.locator("#docs-table thead th").all_inner_texts()
    at = next(i for i, h in enumerate(headers) if h.strip().startswith(header))
    return [r.locator("td").nth(at).inner_text() for r in _rows(page).all()]


def test_overview_and_documents_with_thumbnails(page):
    page.wait_for_selector("#docs-table tbody tr")
    assert page.locator("#overview-title").inner_text() == "products (Product)"
    assert "30 documents" in page.locator("#overview-summary").inner_text()
    assert "higher is better" in page.locator("#vectors-table").inner_text()
    assert _rows(page).count() == 20
    assert page.locator("#page-info").inner_text() == "1–20 of 30"
    thumbs = page.locator("img.thumb")
    assert thumbs.count() == 20
    page.wait_for_function(
        "[...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert "[3] float32" in page.locator("#docs-table tbody").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "server-overview.png"), full_page=True)
    page.click("#next-page")
    page.wait_for_function("document.querySelector('#page-info').textContent.startsWith('21')")
    assert _rows(page).count() == 10


def test_search_then_filter_builder_narrows_results(page):
    page.wait_for_selector("#docs-table tbody tr")
    page.fill("#search-text", "lamp")
    page.select_option("#search-mode", "text")
    page.click("#search-button")
    page.wait_for_function("document.querySelector('#status').textContent.includes('results')")
    titles = _column(page, "title")
    assert len(titles) == 10 and all("lamp" in t for t in titles)
    assert "higher is better" in page.locator("th.score-header").inner_text()
    assert page.locator("img.thumb").count() == 10
    page.screenshot(path=str(SHOTS / "server-search.png"), full_page=True)

    page.click("#add-filter")
    row = page.locator(".filter-row").first
    row.locator(".filter-field").select_option("year")
    row.locator(".filter-op").select_option("$gte")
    row.locator(".filter-value").fill("2020")
    assert '"$gte": 2020' in page.locator("#filter-json").inner_text()
    python = page.locator("#filter-python").inner_text()
    assert ".text_search('lamp', search_field='title')" in python
    assert ".filter({'year': {'$gte': 2020}})" in python
    page.click("#search-button")
    page.wait_for_function("document.querySelectorAll('#docs-table tbody tr').length === 5")
    years = [int(y) for y in _column(page, "year")]
    assert all(y >= 2020 for y in years)


def test_more_like_this_and_image_upload(page, tmp_path):
    page.wait_for_selector("#docs-table tbody tr")
    page.locator("tr[data-id='p1'] button.more-like-this").click()
    page.wait_for_function(
        "document.querySelector('#results-title').textContent === 'More like p1'"
    )
    titles = _column(page, "title")
    assert titles and all(t.startswith("green") for t in titles[:5])
    assert "p1" not in page.locator("#docs-table tbody td:first-child").all_inner_texts()

    query = tmp_path / "blue.png"
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (30, 40, 220)).save(buf, "PNG")
    query.write_bytes(buf.getvalue())
    page.fill("#search-text", "")
    page.set_input_files("#search-image", str(query))
    page.click("#search-button")
    page.wait_for_function("document.querySelector('#status').textContent.includes('results')")
    assert all(t.startswith("blue") for t in _column(page, "title")[:5])


def test_a_video_moment_plays_from_its_start(page):
    page.wait_for_selector("#docs-table tbody tr")
    page.select_option("#index-select", "moments")
    page.wait_for_selector("tr[data-id='m1'] video")
    video = page.locator("tr[data-id='m1'] video")
    src = video.get_attribute("src")
    assert re.search(r"/media/video#t=1\.25,2$", src), src
    assert video.get_attribute("data-start") == "1.25"
    remote = page.locator("tr[data-id='m2'] video").get_attribute("src")
    assert remote == "https://example.com/c.mp4#t=3,4"
    assert "1.25 s – 2 s" in page.locator("tr[data-id='m1']").inner_text()
    # the browser seeks to the moment once it has read the file's metadata
    page.wait_for_function(
        "(() => { const v = document.querySelector(\"tr[data-id='m1'] video\");"
        " return v.readyState >= 1 && Math.abs(v.currentTime - 1.25) < 0.05; })()",
        timeout=10_000,
    )
