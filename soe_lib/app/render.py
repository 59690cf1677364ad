"""One chart renderer for every page of the review server.

The charts are Altair charts drawn as SVG by vl-convert, which embeds a JavaScript engine: in a page's kernel the
two took ~160 MB of its ~300 MB, once per page. ``soe review`` starts one renderer process (:func:`start_renderer`)
and the kernels send it the data of a chart (:func:`draw`: the chart's name and its tables as Arrow IPC) over a
Unix socket (IPC, never a TCP port; authenticated with a key only the server's children know; JSON and Arrow both
ways: nothing received is executed, a chart name outside :data:`CHARTS` is refused). The kernels never import
Altair or vl-convert. Without the renderer (JupyterLab, tests, a renderer that died) a kernel draws its charts
itself, as before: :func:`draw` never fails for want of the renderer.

Run as ``python -m soe_lib.app.render SOCKET``: the renderer (it exits when its parent does).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener
from pathlib import Path

__all__ = ["CHARTS", "SOCKET_ENV", "draw", "start_renderer"]

SOCKET_ENV, KEY_ENV = "SOE_CHART_SOCKET", "SOE_CHART_KEY"
log = logging.getLogger("soe.review")
_client = {"conn": None, "lock": threading.Lock()}


# the review's charts by name: what each draws from which of the tables sent (soe_lib.app.charts)
CHARTS = {
    "money_by_cause": ("impact",),
    "money_by_week": ("impact",),
    "demand": ("sensed", "actuals", "plan"),
    "projection": ("projection", "orders", "whatif"),
}


def _chart(name: str, frames: dict):
    """The Altair chart ``name`` of :data:`CHARTS` from its tables (imported here: only where a chart is drawn)."""
    from types import SimpleNamespace

    from . import charts

    if name == "money_by_cause":
        return charts.money_by_cause_chart(frames["impact"])
    if name == "money_by_week":
        return charts.money_by_week_chart(frames["impact"])
    if name == "demand":
        return charts.drilldown_demand_chart(frames)
    whatif = frames.get("whatif")
    line = SimpleNamespace(weeks=whatif["week"], projected=whatif["projected"].to_numpy()) if whatif is not None and len(whatif) else None
    return charts.drilldown_projection_chart(frames, line)


def _to_arrow(frame) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_arrow(data: bytes):
    import pyarrow as pa

    return pa.ipc.open_stream(data).read_all().to_pandas()


def _local_svg(spec: dict) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


def _ask(request: dict, blobs: list[bytes] = ()) -> str | None:
    """The renderer's SVG for ``request`` (a spec, or a chart's name with its tables in ``blobs``); None when there
    is no renderer or it cannot answer (the caller draws it)."""
    path, key = os.environ.get(SOCKET_ENV), os.environ.get(KEY_ENV)
    if not path or not key or not Path(path).exists():
        return None
    with _client["lock"]:  # one request at a time on the kernel's connection
        for _attempt in range(2):  # a renderer restarted since: connect again once
            try:
                if _client["conn"] is None:
                    _client["conn"] = Client(path, family="AF_UNIX", authkey=bytes.fromhex(key))
                _client["conn"].send_bytes(json.dumps(request).encode())
                for blob in blobs:
                    _client["conn"].send_bytes(blob)
                answer = json.loads(_client["conn"].recv_bytes().decode())
            except (OSError, EOFError, ValueError, AuthenticationError) as exc:
                log.warning("chart renderer: %s; drawing in this kernel", exc)
                _client["conn"] = None
                continue
            if "error" in answer:
                raise ValueError(answer["error"])
            return answer["svg"]
    return None


def _cached(name: str, names: list[str], blobs: list[bytes]) -> Path | None:
    """Where the server keeps the SVG of this chart of these tables (every page of a week shows the same overview:
    drawn once, read by the other pages' kernels without asking the renderer); None without a renderer."""
    path = os.environ.get(SOCKET_ENV)
    if not path:
        return None
    import hashlib

    digest = hashlib.sha256(json.dumps([name, names]).encode())
    for blob in blobs:
        digest.update(len(blob).to_bytes(8, "little") + blob)
    return Path(path).parent / "charts" / f"{digest.hexdigest()}.svg"


def _keep(target: Path, svg_text: str) -> None:
    try:
        target.parent.mkdir(exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(svg_text, encoding="utf-8")
        partial.replace(target)  # whole or not at all: another kernel never reads half a chart
    except OSError as exc:
        log.warning("chart cache: %s", exc)


def draw(name: str, frames: dict, css_class: str = "soe-chart") -> str:
    """Chart ``name`` of :data:`CHARTS` drawn from ``frames`` (the tables it names; a missing one is not sent) as
    inline SVG in a div: by the server's renderer when there is one (this process never loads the chart libraries),
    else here."""
    names = [n for n in CHARTS[name] if frames.get(n) is not None]
    blobs = [_to_arrow(frames[n]) for n in names]
    cached = _cached(name, names, blobs)
    found = cached.read_text(encoding="utf-8") if cached is not None and cached.exists() else None
    if found is None:
        try:
            found = _ask({"chart": name, "tables": names}, blobs)
        except ValueError as exc:  # the renderer could not draw it: try here, where the error (if any) is raised with its traceback
            log.warning("chart renderer could not draw %s: %s; drawing in this kernel", name, exc)
            found = None
        if found is not None and cached is not None:
            _keep(cached, found)
    if found is None:
        from .charts import svg_html

        return svg_html(_chart(name, {n: frames[n] for n in names}), css_class)
    return f"<div class='{css_class}'>{found}</div>"


def start_renderer(folder: Path) -> subprocess.Popen:
    """Start the renderer on a socket in ``folder`` (private to this user) and tell the kernels-to-be where it is
    (environment variables they inherit). Returns the process (stopped by the caller, or when the caller exits)."""
    path, key = Path(folder) / "charts.sock", secrets.token_hex(16)
    env = {**os.environ, KEY_ENV: key}
    proc = subprocess.Popen([sys.executable, "-m", "soe_lib.app.render", str(path)], env=env, stdin=subprocess.DEVNULL)
    for _ in range(200):  # it listens within a second; the kernels start later anyway
        if path.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    os.environ[SOCKET_ENV], os.environ[KEY_ENV] = str(path), key
    return proc


def _serve_one(conn, lock: threading.Lock) -> None:
    """Answer one kernel's specs until it disconnects: ``{"svg": ...}`` or ``{"error": ...}`` per spec."""
    with conn:
        while True:
            try:
                request = json.loads(conn.recv_bytes().decode())
                tables = request.get("tables", []) if isinstance(request, dict) else []
                blobs = [conn.recv_bytes() for _ in tables]
            except (EOFError, OSError):
                return
            except ValueError as exc:
                conn.send_bytes(json.dumps({"error": f"not a chart request: {exc}"}).encode())
                continue
            conn.send_bytes(json.dumps(_answer(request, tables, blobs, lock)).encode())


def _answer(request: dict, tables: list[str], blobs: list[bytes], lock: threading.Lock) -> dict:
    """``{"svg": ...}`` for a spec or a known chart with its tables; ``{"error": ...}`` otherwise."""
    if "chart" in request and (request["chart"] not in CHARTS or not set(tables) <= set(CHARTS[request["chart"]])):
        return {"error": f"no chart {str(request['chart'])[:80]!r}"}
    try:
        with lock:  # one chart at a time: Altair's settings are global, the engine is one
            if "chart" in request:
                spec = _chart(request["chart"], {n: _from_arrow(b) for n, b in zip(tables, blobs, strict=True)}).to_dict(validate=False)
            else:
                spec = request["spec"]
            return {"svg": _local_svg(spec)}
    except Exception as exc:  # a chart the engine refuses: said to the kernel, the renderer goes on
        log.warning("chart renderer: %s", exc)
        return {"error": str(exc)[:500]}


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)  # the review server is gone: so is its renderer


def main(path: str) -> None:
    key = bytes.fromhex(os.environ[KEY_ENV])
    old = os.umask(0o077)  # the socket only for this user
    try:
        listener = Listener(path, family="AF_UNIX", authkey=key)
    finally:
        os.umask(old)
    _local_svg({"mark": "point", "data": {"values": []}})  # the engine started before the first page asks
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    lock = threading.Lock()
    while True:
        try:
            conn = listener.accept()
        except (OSError, EOFError, AuthenticationError):  # a client that failed the key or hung up: go on with the next
            continue
        threading.Thread(target=_serve_one, args=(conn, lock), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv[1])
