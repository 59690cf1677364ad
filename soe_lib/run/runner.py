"""The weekly run: validate once, execute the notebooks with Papermill on that snapshot, publish the week.

``run_week`` is what ``soe run`` (and so cron) calls. The guarantees:

- parameters are checked first (unknown names, wrong types, values out of range: exit 2, nothing written);
- inputs are validated once; on errors nothing is written for the week and the exit code is 2;
- the validated inputs are written as the run's snapshot (``inputs/``) and every notebook reads that
  snapshot, never the live data folder: a published week cannot mix two versions of an input;
- the run is built aside in ``outputs/.staging/<week>-<run_id>/`` and moved to ``outputs/<week>/`` only
  when every notebook succeeded (:mod:`.publish`), so readers never see half a week;
- a failed run keeps its executed notebooks in ``outputs/failed-runs/<week>-<run_id>/``, exits 1, and
  leaves every earlier week untouched; a re-run moves the previous result to ``outputs/.history/``;
- ``manifest.json`` records status, parameters, sha256 of each input file, package versions and
  per-notebook timings (:mod:`.manifest`);
- one run at a time per outputs folder (a lock file); a second one exits 3 at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import logging
import os
import secrets
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.paths import notebooks_dir, outputs_dir
from ..core.problems import ValidationError
from ..finance import CatalogueError, load_catalogue
from ..io.loading import load_data
from ..io.snapshot import snapshot_key, source_hashes, write_snapshot
from ..io.sources import file_sha256
from .environment import run_environment
from .execute import (
    HtmlCopies,
    WarmKernel,
    batch_notebooks,
    cell_seconds,
    error_of,
    execute_notebook,
    finish_beside,
    ipc_kernel_manager,
    kernel_peak_gb,
    known_parameters,
    start_beside,
    stop_beside,
    stop_kernel,
)
from .manifest import add_inputs, new_manifest, table_digests, utcnow, write_manifest
from .parameters import RUN_LEVEL, ParameterError, default_parameters, load_file, merge
from .publish import keep_failed, publish_run, recover_interrupted
from .steps import STEPS, steps_of_notebook
from .week import INPUTS, PARAMETERS_FILE, RUN_FILE, resolve_data_dir

__all__ = [
    "EXIT_BUSY",
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_OK",
    "RunInterrupted",
    "RunResult",
    "beside_notebooks",
    "describe_failure",
    "resolve_parameters",
    "run_week",
]

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_BUSY = 0, 1, 2, 3
log = logging.getLogger("soe")
FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")


@dataclass
class RunResult:
    exit_code: int
    status: str  # succeeded / failed / invalid / busy
    week: str | None = None
    folder: Path | None = None
    message: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)


class RunInterrupted(BaseException):
    """SIGTERM or SIGINT arrived during a run (a BaseException, like KeyboardInterrupt: nothing catches it by accident)."""

    def __init__(self, signame: str):
        super().__init__(f"interrupted by {signame}")


@contextlib.contextmanager
def _interruptible():
    """SIGTERM and SIGINT raise :class:`RunInterrupted` in the run (once: a second signal during the
    clean-up is ignored, so the failed run is still recorded)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, _frame):
        if not fired:
            fired.append(signum)
            raise RunInterrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


DISK_ERRORS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up", errno.EROFS: "the file system is read-only",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied"}


def describe_failure(exc: BaseException) -> dict[str, Any]:
    """:func:`error_of`, with a plain sentence for a disk that cannot be written."""
    info = error_of(exc)
    if isinstance(exc, OSError) and exc.errno in DISK_ERRORS:
        where = f" writing {exc.filename}" if exc.filename else ""
        info["message"] = f"{DISK_ERRORS[exc.errno]}{where} ({exc.strerror}); free space or fix the folder, then run again"
    return info


@contextlib.contextmanager
def _lock(out: Path):
    with open(out / ".soe-run.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _log_to(path: Path):
    handler = logging.FileHandler(path)
    handler.setFormatter(FORMAT)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)
        handler.close()


def run_week(
    data_dir: str | Path | None = None,
    week: str | None = None,
    params_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    out: str | Path | None = None,
    notebooks: Path | None = None,
    any_week: bool = False,
) -> RunResult:
    """Run the weekly cycle (see the module doc for what is guaranteed). Never raises for a bad week.

    ``any_week``: accept a run week that is not the week after the last actuals (with a warning).
    """
    # absolute: the notebooks and the HTML copies run in other processes, in the run folder
    out = Path(out).absolute() if out is not None else outputs_dir().absolute()
    try:
        out.mkdir(parents=True, exist_ok=True)
        with _log_to(out / "soe-run.log"), _lock(out) as locked, _interruptible():
            if not locked:
                msg = f"another soe run holds {out / '.soe-run.lock'}; not starting a second one"
                log.error(msg)
                return RunResult(EXIT_BUSY, "busy", message=msg)
            with run_environment():
                return _run_locked(data_dir, week, params_file, overrides or {}, out, Path(notebooks or notebooks_dir()), any_week)
    except OSError as exc:  # the outputs folder itself cannot be written: nothing ran
        msg = f"cannot write to the outputs folder {out}: {describe_failure(exc)['message']}; nothing was run"
        log.error(msg)
        return RunResult(EXIT_INVALID, "invalid", message=msg)
    except RunInterrupted as exc:  # before the run folder existed: nothing to keep
        log.error("run %s before it started; nothing written", exc)
        return RunResult(EXIT_FAILED, "failed", message=str(exc))


def resolve_parameters(
    notebooks: list[Path], data_dir: str | Path | None, week: str | None, params_file: str | Path | None, overrides: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, set[str]]]:
    """The run's parameters: declared defaults, then ``--params``, then ``--set``, then ``--data``/``--week``;
    every name must be declared by a notebook and every value must fit its declaration."""
    declared = known_parameters(notebooks)
    known = set().union(*declared.values()) | set(RUN_LEVEL)
    user = dict(overrides)
    if params_file:
        user = {**load_file(Path(params_file)), **user}
    cli = {k: v for k, v in {"data_dir": None if data_dir is None else str(data_dir), "week": week}.items() if v is not None}
    defaults = {k: v for k, v in default_parameters().items() if k in known}
    return merge(defaults, {**user, **cli}, known, str(params_file or "overrides")), declared


def _run_locked(
    data_dir: str | Path | None, week: str | None, params_file: str | Path | None, overrides: dict[str, Any], out: Path, books: Path,
    any_week: bool = False,
) -> RunResult:
    started, t0 = utcnow(), time.perf_counter()
    notebooks = batch_notebooks(books)
    if not notebooks:
        return _invalid(f"no weekly notebooks (NN_*.ipynb) in {books}")
    try:
        params, declared = resolve_parameters(notebooks, data_dir, week, params_file, overrides)
        if "countermeasure_catalogue" in params:  # read by notebook 04 only: a bad one is said now, not after three notebooks
            load_catalogue(params["countermeasure_catalogue"])
    except (ParameterError, CatalogueError) as exc:
        return _invalid(f"parameter countermeasure_catalogue: {exc}" if isinstance(exc, CatalogueError) else str(exc))
    folder = resolve_data_dir(params.get("data_dir"))
    for left in recover_interrupted(out):  # this run holds the lock: whatever is staged was left by a killed one
        log.warning("a run that was stopped before it finished left %s; kept in %s", left.name, left.parent)
    (out / ".staging").mkdir(exist_ok=True)
    # the first notebook's kernel starts and imports on the other core while the inputs are validated
    first = WarmKernel(out / ".staging") if len(os.sched_getaffinity(0)) >= 2 else None
    try:
        return _validate_and_build(folder, params, declared, notebooks, out, started, t0, any_week, first)
    finally:
        if first is not None:
            first.shutdown()  # not taken: invalid inputs, a signal, a failure before the first notebook


def _validate_and_build(
    folder: Path, params: dict[str, Any], declared: dict[str, set[str]], notebooks: list[Path], out: Path, started: str, t0: float,
    any_week: bool, first: WarmKernel | None,
) -> RunResult:
    t_load = time.perf_counter()
    parts = out / ".staging" / f".parts-{secrets.token_hex(4)}"  # large tables validated in parts land here first
    try:
        data = _load(folder, params, any_week, parts)
    except ValidationError as exc:
        log.error("input data is invalid (%s); nothing written for this week", exc.report.summary())
        for problem in exc.report.errors:
            log.error("  %s", problem)
        shutil.rmtree(parts, ignore_errors=True)
        return RunResult(EXIT_INVALID, "invalid", message=str(exc))
    try:
        return _build_and_publish(data, folder, params, declared, notebooks, out, started, t0, t_load, first)
    finally:
        shutil.rmtree(parts, ignore_errors=True)  # moved into the snapshot unless the run failed before it


def _load(folder: Path, params: dict[str, Any], any_week: bool, parts: Path) -> Any:
    """Load and validate the inputs once: here, or (``--engine dask``) the large tables given as folders of
    Parquet parts part by part on the cluster, written to ``parts``."""
    kwargs = {"week": params.get("week"), "horizon_weeks": int(params.get("horizon_weeks", 13)), "week_check": "warning" if any_week else "error"}
    if params.get("engine") != "dask":
        return load_data(folder, **kwargs)
    from .distributed import dask_client, parts_on_cluster

    with dask_client(params.get("scheduler") or None) as client:
        return load_data(folder, **kwargs, parts=parts_on_cluster(client, parts))


def _build_and_publish(
    data: Any, folder: Path, params: dict[str, Any], declared: dict[str, set[str]], notebooks: list[Path], out: Path, started: str, t0: float,
    t_load: float, first: WarmKernel | None,
) -> RunResult:

    label = data.week_label
    run_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    staging = out / ".staging" / f"{label}-{run_id}"
    (staging / "notebooks").mkdir(parents=True)
    params = {**params, "week": label, "data_dir": str(Path(folder).resolve())}
    manifest = new_manifest(run_id, label, started, params)
    manifest["phases"] = {"load_and_validate": round(time.perf_counter() - t_load, 2)}
    with _log_to(staging / "run.log"):
        try:
            failed = _build(data, params, notebooks, declared, staging, manifest, first)
        except BaseException as exc:  # a signal, a full disk, a bug: the run fails, published weeks stay as they are
            failed = {"name": "runner", "status": "failed", "error": describe_failure(exc)}
            manifest["notebooks"].append(failed)
            log.error("run stopped: %s", failed["error"]["message"])
    manifest["finished_at"] = utcnow()
    manifest["seconds"] = round(time.perf_counter() - t0, 2)
    if failed is not None:
        return _keep_failed(staging, out, manifest, failed)
    manifest.update(status="succeeded", exit_code=EXIT_OK)
    try:
        write_manifest(staging, manifest)
        final = publish_run(staging, out, label, run_id)
    except OSError as exc:  # every notebook ran, the week cannot be published (a read-only or full outputs folder)
        failed = {"name": "publish", "status": "failed", "error": describe_failure(exc)}
        failed["error"]["message"] = f"the week ran but could not be published in {out}: {failed['error']['message']}"
        manifest["notebooks"].append(failed)
        return _keep_failed(staging, out, manifest, failed)
    msg = f"week {label} succeeded in {manifest['seconds']:.1f} s; outputs in {final}"
    log.info(msg)
    return RunResult(EXIT_OK, "succeeded", label, final, msg, manifest)


def _build(data, params: dict[str, Any], notebooks: list[Path], declared: dict[str, set[str]], staging: Path, manifest: dict[str, Any],
           first: WarmKernel | None = None) -> dict | None:
    """The run folder: snapshot, parameters, executed notebooks, HTML copies; the first failure, or None."""
    t = time.perf_counter()
    hashes = source_hashes(data.sources)
    meta = write_snapshot(data, staging / INPUTS, hashes, snapshot_key(hashes, params.get("week"), int(params.get("horizon_weeks", 13))))
    add_inputs(manifest, meta)
    manifest["phases"]["snapshot"] = round(time.perf_counter() - t, 2)
    (staging / PARAMETERS_FILE).write_text(json.dumps(params, indent=1, default=str))
    (staging / RUN_FILE).write_text(json.dumps({"outputs": str(staging.parent.parent.resolve())}))
    del data  # the notebooks read the snapshot; this process need not hold the tables
    copies = HtmlCopies()  # made as the notebooks finish
    try:
        t = time.perf_counter()
        failed = _execute_all(notebooks, declared, params, staging, manifest, first, copies)
        manifest["phases"]["notebooks"] = round(time.perf_counter() - t, 2)
        if failed is not None:
            return failed
        t = time.perf_counter()
        failed = _finish(staging, manifest, hashes, copies)
        manifest["phases"]["html_and_digests"] = round(time.perf_counter() - t, 2)  # what is left of them after the notebooks
        return failed
    finally:
        copies.close()


def _keep_failed(staging: Path, out: Path, manifest: dict[str, Any], failed: dict[str, Any]) -> RunResult:
    """Record the failure and move the run folder aside (when the disk allows: else say where it is)."""
    label = manifest["week"]
    manifest.update(status="failed", exit_code=EXIT_FAILED, failed_step=failed["name"], reason=failed["error"]["message"])
    try:
        write_manifest(staging, manifest)
        where = keep_failed(staging, out)
    except OSError as exc:
        where = staging
        log.error("could not record the failed run (%s); its files are in %s", describe_failure(exc)["message"], staging)
    msg = f"week {label} FAILED in {failed['name']}: {failed['error']['message']}; executed notebooks kept in {where}; earlier weeks untouched"
    log.error(msg)
    return RunResult(EXIT_FAILED, "failed", label, where, msg, manifest)


def beside_notebooks(notebooks: list[Path]) -> set[str]:
    """Notebooks that may run beside the others on a second core: their step reads no table of another
    step and no other step reads theirs, for every step it computes (today: 01 data health; 03 computes
    logistics, which is free, and supply, which is not). None on a single core."""
    if len(os.sched_getaffinity(0)) < 2:
        return set()
    read = {t for s in STEPS for t in s.inputs}
    free = {nb.name for nb in notebooks if (steps := steps_of_notebook(nb.name))
            and all(not s.inputs and not set(s.outputs) & read for s in steps)}
    return free


def _execute_all(
    notebooks: list[Path], declared: dict[str, set[str]], params: dict[str, Any], staging: Path, manifest: dict[str, Any],
    first: WarmKernel | None = None, copies: HtmlCopies | None = None,
) -> dict[str, Any] | None:
    """Execute the notebooks on the snapshot: one beside the chain when a core is free (its own process
    group, stopped with the run), the rest in order. The first failure stops the run and is returned."""
    log.info("run %s for week %s: %d notebooks, data %s", manifest["run_id"], manifest["week"], len(notebooks), params["data_dir"])
    entries = {nb.name: {"name": nb.stem, "parameters": _injected(nb, declared, params)} for nb in notebooks}
    order = [nb.name for nb in notebooks]
    side = {}
    beside = beside_notebooks(notebooks)
    for nb in notebooks:
        if nb.name in beside:
            manifest["notebooks"].append(entries[nb.name])
            side[nb.name] = (start_beside(nb, staging / "notebooks" / nb.name, entries[nb.name]["parameters"], staging), time.perf_counter())
    chain = [nb for nb in notebooks if nb.name not in side]
    warm: WarmKernel | None = first
    try:
        for k, nb in enumerate(chain):
            i = order.index(nb.name) + 1
            for name, (proc, t) in side.items():  # a notebook beside the chain that failed stops the run now
                if proc.poll() not in (None, 0):
                    return _failed(entries[name], t, finish_beside(proc)[0], order.index(name) + 1, len(notebooks))
            manifest["notebooks"].append(entries[nb.name])
            t = time.perf_counter()
            # the warm kernel, else (one core, or warming failed) a manager of our own: its peak is read all the same
            km = warm.take(staging) if warm is not None else None
            km = ipc_kernel_manager() if km is None else km
            # the next notebook's kernel starts and imports while this one runs
            warm = _warm_for(chain[k + 1], staging) if k + 1 < len(chain) and len(os.sched_getaffinity(0)) >= 2 else None
            try:
                execute_notebook(nb, staging / "notebooks" / nb.name, entries[nb.name]["parameters"], staging, km)
            except BaseException as exc:  # any failure of a notebook (or a signal) fails the run, and is recorded
                return _failed(entries[nb.name], t, describe_failure(exc), i, len(notebooks))
            finally:
                entries[nb.name]["kernel_peak_gb"] = kernel_peak_gb(km)  # what the notebook held at most
                stop_kernel(km)
            _succeeded(entries[nb.name], t, staging / "notebooks" / nb.name, i, len(notebooks))
            if copies is not None:
                copies.add(staging / "notebooks" / nb.name)
        for name, (proc, t) in side.items():
            error, seconds = finish_beside(proc)
            if error is not None:
                return _failed(entries[name], t, error, order.index(name) + 1, len(notebooks))
            _succeeded(entries[name], t, staging / "notebooks" / name, order.index(name) + 1, len(notebooks), " beside the others", seconds)
            if copies is not None:
                copies.add(staging / "notebooks" / name)
    finally:
        if warm is not None:
            warm.shutdown()
        for proc, _ in side.values():
            stop_beside(proc)  # a failure or a signal in the chain: the notebook beside it stops too
    return None


def _warm_for(nb: Path, staging: Path) -> WarmKernel:
    """The kernel of notebook ``nb``, started now, reading ahead the snapshot tables its steps read."""
    reads: dict[str, tuple[str, ...] | None] = {}
    for step in steps_of_notebook(nb.name):
        for table, columns in step.reads.items():  # two steps reading one table: the columns of both (None: all)
            whole = columns is None or (table in reads and reads[table] is None)
            reads[table] = None if whole else tuple(dict.fromkeys([*reads.get(table, ()), *columns]))
    return WarmKernel(staging, staging / INPUTS, reads)


def _injected(nb: Path, declared: dict[str, set[str]], params: dict[str, Any]) -> dict[str, Any]:
    injected = {k: v for k, v in params.items() if k in declared[nb.name]}
    injected["out_dir"] = "."  # the run folder being built: its snapshot and parameters
    return injected


def _failed(entry: dict[str, Any], t: float, error: dict[str, Any], i: int, n: int) -> dict[str, Any]:
    entry.update(status="failed", seconds=round(time.perf_counter() - t, 2), error=error)
    log.error("[%d/%d] %s FAILED (%.1f s): %s", i, n, entry["name"], entry["seconds"], error["message"])
    return entry


def _succeeded(entry: dict[str, Any], t: float, executed: Path, i: int, n: int, how: str = "", seconds: float | None = None) -> None:
    seconds = time.perf_counter() - t if seconds is None else seconds
    entry.update(status="succeeded", seconds=round(seconds, 2), cells_seconds=cell_seconds(executed))
    log.info("[%d/%d] %s ok (%.1f s%s)", i, n, entry["name"], entry["seconds"], how)


def _finish(staging: Path, manifest: dict[str, Any], hashes: dict[str, str], copies: HtmlCopies) -> dict[str, Any] | None:
    """HTML copies and table digests; a note when the inputs changed during the run (the week reflects
    the snapshot taken at its start, so it stays consistent)."""
    try:
        copies.finish(sorted((staging / "notebooks").glob("*.ipynb")))
        manifest["tables"] = table_digests(staging / "tables")
        changed = sorted(n for n, src in manifest["inputs"].items() if _current_sha(manifest["data_dir"], src["file"]) not in (None, hashes[n]))
        if changed:
            manifest["inputs_changed_during_run"] = changed
            log.warning("input files changed during the run: %s; this week reflects them as they were at its start", ", ".join(changed))
    except Exception as exc:  # disk full, a bug here: the week stays as it was
        entry = {"name": "runner", "status": "failed", "error": describe_failure(exc)}
        manifest["notebooks"].append(entry)
        log.error("run aborted: %s", entry["error"]["message"])
        return entry
    return None


def _current_sha(data_dir: str, file: str) -> str | None:
    path = Path(data_dir) / file.split("[", 1)[0]
    return file_sha256(path) if path.is_file() else None


def _invalid(message: str) -> RunResult:
    log.error(message)
    return RunResult(EXIT_INVALID, "invalid", message=message)
