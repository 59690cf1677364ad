"""Executing the weekly notebooks with Papermill, and their HTML copies for readers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..core.paths import notebooks_dir
from .parameters import RUNNER_OWNED, declared_parameters

__all__ = ["HtmlCopies", "batch_notebooks", "cell_seconds", "error_of", "execute_notebook", "export_html", "finish_beside", "kernel_peak_gb", "known_parameters", "start_beside", "stop_beside", "WARM_IMPORTS", "WarmKernel", "stop_kernel"]


def batch_notebooks(folder: Path | None = None) -> list[Path]:
    """The weekly notebooks, in order: ``NN_*.ipynb`` not marked ``"soe": {"batch": false}`` in metadata."""
    out = []
    for path in sorted(Path(folder or notebooks_dir()).glob("[0-9][0-9]_*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {})
        if meta.get("soe", {}).get("batch", True):
            out.append(path)
    return out


def known_parameters(notebooks: list[Path]) -> dict[str, set[str]]:
    """Parameter names each notebook declares (runner-owned names excluded)."""
    return {nb.name: set(declared_parameters(nb)) - set(RUNNER_OWNED) for nb in notebooks}


def ipc_kernel_manager() -> Any:
    """A kernel manager whose kernel talks over Unix sockets (``transport=ipc``), never TCP ports: no
    port to collide with another run ("Address already in use"), nothing another user can connect to.
    The sockets live in a private temporary folder (a socket path may hold ~100 characters)."""
    from jupyter_client.manager import AsyncKernelManager

    folder = tempfile.mkdtemp(prefix="soe-k-")
    return AsyncKernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(folder, "kernel"))


def execute_notebook(notebook: Path, target: Path, parameters: dict[str, Any], cwd: Path, km: Any = None) -> None:
    """Run ``notebook`` with ``parameters`` injected, writing the executed copy to ``target``; the kernel
    over IPC (:func:`ipc_kernel_manager`) unless ``km`` is given. Raises what papermill raises
    (``PapermillExecutionError`` for a failing cell)."""
    import papermill

    own = km is None
    km = ipc_kernel_manager() if own else km
    try:
        papermill.execute_notebook(
            str(notebook), str(target), parameters=parameters, cwd=str(cwd), kernel_name="python3", progress_bar=False, log_output=False, km=km,
        )
    finally:
        if own:  # a kernel manager handed to papermill is not shut down by it
            stop_kernel(km)


# What every weekly notebook imports first: a warm kernel has them loaded before its notebook starts.
WARM_IMPORTS = "import soe_lib.app.charts, soe_lib.core.formats, soe_lib.run.week, soe_lib.run.steps, soe_lib.io.results"


class WarmKernel:
    """A kernel started, with the notebooks' imports done, while the notebook before it runs (on the
    other core): kernel start and imports (about 3 s per notebook at any size) leave the critical path.
    The notebook still starts from a kernel with nothing of its own defined."""

    def __init__(self, cwd: Path, snapshot: Path | None = None, tables: dict[str, tuple[str, ...] | None] | None = None):
        self.cwd = Path(cwd)
        self.km: Any = None
        self.error: BaseException | None = None
        code = WARM_IMPORTS
        if snapshot is not None:  # the run's snapshot, read ahead: the notebook's open_week takes it
            code += f"\nimport soe_lib.run.week as _w; _w.prefetch_snapshot({str(Path(snapshot).resolve())!r}, {dict(tables or {})!r}); del _w"
        self._thread = threading.Thread(target=self._start, args=(cwd, code), daemon=True)
        self._thread.start()

    def _start(self, cwd: Path, code: str) -> None:
        import asyncio


        try:
            # the asynchronous manager nbclient itself uses: its clean-up on SIGTERM/SIGINT then works as for
            # a kernel of its own (a synchronous manager cannot be shut down from inside nbclient's loop)
            km = ipc_kernel_manager()
            asyncio.run(km.start_kernel(cwd=str(cwd)))
            self.km = km
            self._run(code, timeout=300)
        except Exception as exc:  # a warm kernel is an optimisation: the notebook then starts its own
            self.error = exc

    def take(self, cwd: Path | None = None) -> Any:
        """The ready kernel manager, now the caller's to shut down, working in ``cwd`` (None when warming
        failed: the caller starts a kernel as usual)."""
        self._thread.join()
        if self.error is None and cwd is not None and Path(cwd) != self.cwd:
            try:  # started before the run folder existed
                self._run(f"import os; os.chdir({str(Path(cwd).resolve())!r})", timeout=60)
            except Exception as exc:
                self.error = exc
        if self.error is not None:
            self.shutdown()
            return None
        km, self.km = self.km, None
        return km

    def _run(self, code: str, timeout: float) -> None:
        """Execute ``code`` in the kernel and wait for it; raises when it fails."""
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info(self.km.get_connection_info())
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=120)
            reply = kc.execute_interactive(code, timeout=timeout, store_history=False, output_hook=lambda _msg: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"warming the kernel failed: {reply['content'].get('evalue', '')}")
        finally:
            kc.stop_channels()

    def shutdown(self) -> None:
        self._thread.join(timeout=120)
        if self.km is not None:
            stop_kernel(self.km)
            self.km = None


def kernel_peak_gb(km: Any) -> float | None:
    """The kernel's peak resident memory so far (``VmHWM`` of its process, GB; None when unknown):
    read before the kernel is stopped, it is what the notebook needed at most."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except (AttributeError, OSError):
        return None
    kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return None if kb is None else round(kb / 1024**2, 2)


def stop_kernel(km: Any) -> None:
    """End a kernel we started, at once: its process is killed and waited for (a graceful shutdown
    through the kernel manager's own event loop can hang when a signal interrupted another loop)."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None:
        with contextlib.suppress(Exception):
            process.kill()
            process.wait(timeout=30)
    with contextlib.suppress(Exception):
        km.cleanup_connection_file()
    _remove_sockets(km)


def _remove_sockets(km: Any) -> None:
    """The private folder of an IPC kernel's sockets (:func:`ipc_kernel_manager`), once it is stopped."""
    folder = os.path.dirname(str(getattr(km, "ip", "")))
    if getattr(km, "transport", "") == "ipc" and os.path.basename(folder).startswith("soe-k-"):
        shutil.rmtree(folder, ignore_errors=True)


_BESIDE = """
import json, sys, time
from pathlib import Path
from soe_lib.run.execute import error_of, execute_notebook
t = time.perf_counter()
try:
    execute_notebook(Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3]), Path(sys.argv[4]))
except BaseException as exc:
    print(json.dumps({"error": error_of(exc), "seconds": time.perf_counter() - t}, default=str))
    sys.exit(1)
print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def start_beside(notebook: Path, target: Path, parameters: dict[str, Any], cwd: Path) -> subprocess.Popen:
    """:func:`execute_notebook` in its own process (and process group, so that :func:`stop_beside` takes
    its kernel with it), for a notebook that runs beside the others. Its error, if any, comes back as
    one JSON line on stdout (:func:`finish_beside`)."""
    args = [sys.executable, "-c", _BESIDE, str(notebook), str(target), json.dumps(parameters, default=str), str(cwd)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)


def finish_beside(proc: subprocess.Popen) -> tuple[dict[str, Any] | None, float | None]:
    """Wait for a notebook started by :func:`start_beside`: (None when it succeeded, else its error; the
    seconds it ran, when it said)."""
    out, _ = proc.communicate()
    lines = [line for line in (out or "").splitlines() if line.startswith("{")]
    said = json.loads(lines[-1]) if lines else {}
    if proc.returncode == 0:
        return None, said.get("seconds")
    error = said.get("error") or {"type": "ProcessError", "message": f"the notebook's process ended with code {proc.returncode}"}
    return error, said.get("seconds")


def stop_beside(proc: subprocess.Popen) -> None:
    """Stop a notebook started by :func:`start_beside` and its kernel (the whole process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def cell_seconds(executed: Path) -> float:
    """Seconds the executed notebook's cells ran (papermill's per-cell durations): the rest of a
    notebook's time is the kernel's start and papermill's own work."""
    import nbformat

    cells = nbformat.read(executed, as_version=4).cells
    return round(sum(float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0) for c in cells), 2)


HTML_TEMPLATES = Path(__file__).parent / "templates"  # soe_html: the HTML copies' template


def export_html(notebook: Path) -> Path:
    """An HTML copy with the code hidden, for readers who do not open Jupyter."""
    import nbformat
    from nbconvert import HTMLExporter

    # nbconvert's lab template less what it loads from the internet (require.js, MathJax, mermaid, widgets): run/templates
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, template_name="soe_html",
                            extra_template_basedirs=[str(HTML_TEMPLATES)])
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    target = notebook.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


class HtmlCopies:
    """HTML copies (:func:`export_html`) made in a background thread as the notebooks finish: the runner
    process only waits on kernels meanwhile, and the copies made at the end took 1.4 s of a 100k run."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="html-copies")
        self._jobs: dict[Path, Any] = {}

    def add(self, notebook: Path) -> None:
        self._jobs[Path(notebook)] = self._pool.submit(export_html, Path(notebook))

    def finish(self, notebooks: list[Path]) -> None:
        """Every one of ``notebooks`` has its copy (made now when it was not queued); raises what a copy raised."""
        for nb in notebooks:
            job = self._jobs.get(Path(nb))
            if job is None:
                export_html(Path(nb))
            else:
                job.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def error_of(exc: BaseException) -> dict[str, Any]:
    """What the manifest and the log say about a failure: type, last line of the message, and the
    failing cell and its error for a notebook."""
    info: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc).strip().splitlines()[-1:] or [""]}
    info["message"] = info["message"][0] if info["message"] else ""
    for attr in ("ename", "evalue", "cell_index", "exec_count"):
        if hasattr(exc, attr):
            info[attr] = getattr(exc, attr)
    return info
