"""A real `soe review` (Voila) server and Debian's Chromium driven by Playwright, headless and offline."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from .conftest import ROOT, SOE, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


@contextlib.contextmanager
def review_server(outputs: Path, timeout: float = 90.0, extra: tuple[str, ...] = ()):
    """Start `soe review --out outputs` on a free port; yield its URL; stop it (and its kernels) after."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="voila-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [*SOE, "review", "--out", str(outputs), "--port", str(port), *extra],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:  # readiness without starting a kernel
            try:
                with urllib.request.urlopen(url + "voila/static/voila.js", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"voila did not start: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        if proc.poll() is None:
            os.killpg(proc.pid, 9)


@contextlib.contextmanager
def browser_page():
    from playwright.sync_api import sync_playwright

    home = tempfile.mkdtemp(prefix="chromium-")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            env={**os.environ, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home, "HOME": home},
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # every request the page makes, for tests that check that nothing leaves the machine
            page.requested = []
            page.on("request", lambda request: page.requested.append(request.url))
            yield page
        finally:
            browser.close()


def outside(urls: list[str]) -> list[str]:
    """The requests of ``urls`` that would leave the machine (anything but 127.0.0.1, localhost, files, data: and blob:)."""
    from urllib.parse import urlparse

    return [u for u in urls if urlparse(u).scheme not in ("data", "blob", "about", "file") and urlparse(u).hostname not in ("127.0.0.1", "localhost", "::1")]
