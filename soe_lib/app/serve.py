"""The review server: Voila serving the meeting app (``notebooks/06_weekly_review.ipynb``) in this
process, kept to this machine unless told otherwise, with a cap on the pages served at once."""

from __future__ import annotations

import atexit
import html
import ipaddress
import os
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path

__all__ = ["serve_review"]

BUSY_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>S&amp;OE weekly review: busy</title></head>
<body style="font-family: sans-serif; margin: 3em; max-width: 40em">
<h1>The weekly review is open in {open} pages already</h1>
<p>This server shows at most {limit} pages at once (each page has its own kernel). Close a page you are not
using, or wait a minute: a closed page's kernel is shut down after {cull} seconds. Then reload this page.</p>
</body></html>"""


IOPUB_SECONDS = 60

ONLINE_LINK = re.compile(r"<link[^>]+href=[\"']https?://")  # a stylesheet from the internet (Voila's lab template: Font Awesome)


def offline_template(folder: Path) -> Path:
    """Voila's lab template less the stylesheets it loads from the internet, written as template "soe" under ``folder``
    (a Jupyter data directory, put first on ``JUPYTER_PATH``): derived from the installed Voila at each start, not a
    copy to keep in step by hand. No widget of the review shows an icon, so nothing is lost."""
    from voila.paths import collect_template_paths

    lab = next(Path(p) / "index.html.j2" for p in collect_template_paths(["voila"], "lab", prune=True) if (Path(p) / "index.html.j2").exists())
    target = Path(folder) / "voila" / "templates" / "soe"
    target.mkdir(parents=True, exist_ok=True)
    (target / "index.html.j2").write_text("".join(line for line in lab.read_text().splitlines(keepends=True) if not ONLINE_LINK.search(line)))
    (target / "conf.json").write_text('{"base_template": "lab"}')
    return Path(folder)

def cull_interval(cull_after: int) -> int:
    """Seconds between two looks of the culler: ``max(1, min(10, cull_after // 6))`` (5 s for the shortest delay
    allowed, 10 s from 60 s on): a kernel goes at most that long after its delay."""
    return max(1, min(10, cull_after // 6))


def voila_argv(port: int, ip: str = "127.0.0.1", cull_after: int = 60) -> list[str]:
    """Voila for the review notebook only: code hidden, no tracebacks for viewers, one port (no silent
    hop to the next one), kernels over IPC, kernels of closed or never-connected pages shut down after
    ``cull_after`` s."""
    from ..core.paths import REVIEW_NOTEBOOK, notebooks_dir

    return [
        str(notebooks_dir() / REVIEW_NOTEBOOK),
        "--no-browser", f"--port={port}", f"--Voila.ip={ip}", "--Voila.port_retries=0", "--strip_sources=True",
        "--theme=light", "--show_tracebacks=False",
        "--template=soe",  # Voila's lab template without its stylesheets from a CDN (offline_template, found on JUPYTER_PATH)
        "--KernelManager.transport=ipc",  # kernels on Unix sockets beside their connection files, never TCP ports
        f"--MappingKernelManager.cull_idle_timeout={cull_after}",
        # the culler looks every few seconds (a look is a scan of the kernels: nothing to save by looking rarely)
        f"--MappingKernelManager.cull_interval={cull_interval(cull_after)}",
        "--MappingKernelManager.cull_connected=False",  # a page open in the meeting keeps its kernel
        # one kernel kept prepared (tables read, charts drawn); the notebook reads the decision log only
        # when a page asks for it (soe_lib.app.wait_for_page), so a prepared page is never stale
        "--preheat_kernel=True", "--pool_size=1",
        # after a cell's reply Voila waits this long for its output (nbclient's default 4 s); under 20 pages joining
        # on 2 cores the page's output came later and was dropped: the page stayed without its widgets
        f"--VoilaExecutor.iopub_timeout={IOPUB_SECONDS}",
    ]


def _port_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as probe:
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


def _loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return ip == "localhost"


def _cap_sessions(limit: int, cull_after: int, pool: int = 1) -> None:
    """Before Voila starts a page's kernel: when ``limit`` pages have one already (plus the ``pool`` kept
    prepared), answer 503 with a page that says why and what to do, and start nothing. (Each GET of the
    page starts a kernel (~320 MB before the chart renderer, ~230 MB RSS now): without a cap, ten requests took 3.8 GB.) Voila offers no hook that
    works with its prepared kernels, so its page handler's ``prepare`` is wrapped, in this process only."""
    from voila.handler import VoilaHandler

    original = VoilaHandler.prepare

    async def prepare(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if result is not None:
            await result
        if self._finished:
            return
        running = len(self.kernel_manager.list_kernel_ids()) - pool
        if running >= limit:
            self.set_status(503)
            self.set_header("Retry-After", str(cull_after))
            self.finish(BUSY_PAGE.format(open=running, limit=limit, cull=cull_after))

    VoilaHandler.prepare = prepare


def serve_review(
    out: Path | None, port: int, ip: str = "127.0.0.1", token: str | None = None, allowed_hosts: list[str] | None = None, cull_after: int = 60,
    max_sessions: int = 20,
) -> int:
    """Serve the meeting app in this process (a stop signal reaches Voila, which shuts its kernels down).

    On this machine only (the default), requests whose ``Host`` is not a local name are refused (a
    page from another site cannot reach the app through DNS rebinding). Beyond it, a token is required.
    At most ``max_sessions`` pages at once (:func:`_cap_sessions`).
    """
    from ..core.paths import outputs_dir

    local = _loopback(ip)
    if not local and not token:
        print(f"error: serving on {ip} opens the meeting's data to the network: give an access token with --token or $SOE_REVIEW_TOKEN", file=sys.stderr)
        return 2
    if not _port_free(ip, port):
        print(f"error: port {port} on {ip} is in use; stop what uses it or choose another with --port", file=sys.stderr)
        return 2
    os.environ["SOE_OUTPUTS"] = str(Path(out or outputs_dir()).resolve())  # the kernels inherit it
    # where Voila finds the page's template "soe" (nothing on the page loads from the internet); removed when serving ends
    templates = offline_template(Path(tempfile.mkdtemp(prefix="soe-review-")))
    atexit.register(shutil.rmtree, templates, ignore_errors=True)
    # one chart renderer for all pages (a kernel that loads the chart engine itself is ~130 MB larger); its socket
    # sits in the same private folder, and the kernels find it through the environment they inherit
    from .render import start_renderer

    renderer = start_renderer(templates)
    atexit.register(renderer.terminate)
    # the page kernels read small tables: Arrow's default pool (mimalloc) kept ~35 MB per kernel after reading them
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(templates), *([os.environ["JUPYTER_PATH"]] if os.environ.get("JUPYTER_PATH") else [])])
    from voila.app import Voila

    names = ["localhost", *(allowed_hosts or [])]
    # the Host check: always when local; beyond, when names are given (IP hosts pass only if loopback)
    settings = {"allow_remote_access": not local and not allowed_hosts, "local_hostnames": names}
    app = Voila(tornado_settings=settings, token=token or "")
    app.initialize(voila_argv(port, ip, cull_after))
    _cap_sessions(max_sessions, cull_after)
    shown = "127.0.0.1" if ip in ("0.0.0.0", "::") else ip
    print(f"S&OE weekly review: http://{html.escape(shown)}:{port}/" + (f"?token={token}" if token else "") + "  (Ctrl-C to stop)", flush=True)
    app.start()
    return 0
