"""The weekly run: validate, execute the notebooks with Papermill, archive, and swap the week in.

``run_week`` is what ``soe run`` (and so cron) calls. The guarantees:

- inputs are validated first; on errors nothing is written for the week and the exit code is 2;
- the run is built aside in ``outputs/.staging/<run_id>/`` and renamed to ``outputs/<week>/`` only
  when every notebook succeeded, so readers (the review app) never see half a week;
- a failed run keeps its executed notebooks in ``outputs/failed-runs/<week>-<run_id>/`` for diagnosis,
  exits 1, and leaves every earlier week untouched;
- a re-run of a week moves the previous result to ``outputs/.history/<week>/<run_id>/`` (nothing lost);
- ``manifest.json`` records status, parameters, sha256 of each input file, package versions and
  per-notebook timings; the normalised inputs are archived as Parquet in ``inputs/``;
- one run at a time per outputs folder (a lock file); a second one exits 3 at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import platform
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat

from .archive import WEEK_FOLDER, latest_week, list_runs  # noqa: F401 (re-exported)
from .cycle import CACHE_DIR
from .loading import file_sha256, load_data, write_dataset
from .params import RUNNER_OWNED, ParameterError, declared_parameters, load_defaults, load_file, merge
from .paths import NOTEBOOKS, PARAMETERS, outputs_dir
from .validation import ValidationError

__all__ = [
    "EXIT_BUSY",
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_OK",
    "WEEK_FOLDER",
    "RunResult",
    "batch_notebooks",
    "known_parameters",
    "latest_week",
    "list_runs",
    "run_week",
]

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_BUSY = 0, 1, 2, 3
PACKAGES = (
    "soe-workbench", "pandas", "numpy", "pyarrow", "pandera", "statsmodels", "altair", "vl-convert-python",
    "papermill", "nbformat", "nbconvert", "ipykernel", "voila", "ipywidgets", "openpyxl", "sqlalchemy",
)
log = logging.getLogger("soe")


@dataclass
class RunResult:
    exit_code: int
    status: str  # succeeded / failed / invalid / busy
    week: str | None = None
    folder: Path | None = None
    message: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)


def batch_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The weekly notebooks, in order: ``NN_*.ipynb`` not marked ``"soe": {"batch": false}`` in metadata."""
    out = []
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {})
        if meta.get("soe", {}).get("batch", True):
            out.append(path)
    return out


def known_parameters(notebooks: list[Path]) -> dict[str, set[str]]:
    """Parameter names each notebook declares (runner-owned names excluded)."""
    return {nb.name: set(declared_parameters(nb)) - set(RUNNER_OWNED) for nb in notebooks}


def _utcnow() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


@contextlib.contextmanager
def _lock(out: Path):
    out.mkdir(parents=True, exist_ok=True)
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


def _export_html(notebook: Path) -> Path:
    """An HTML copy with the code hidden, for readers who do not open Jupyter."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    target = notebook.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


def _execute(notebook: Path, target: Path, parameters: dict[str, Any], cwd: Path) -> None:
    import papermill

    papermill.execute_notebook(
        str(notebook),
        str(target),
        parameters=parameters,
        cwd=str(cwd),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
    )


def _error_of(exc: BaseException) -> dict[str, Any]:
    info: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc).strip().splitlines()[-1:] or [""]}
    info["message"] = info["message"][0] if info["message"] else ""
    for attr in ("ename", "evalue", "cell_index", "exec_count"):
        if hasattr(exc, attr):
            info[attr] = getattr(exc, attr)
    return info


def run_week(
    data_dir: str | Path | None = None,
    week: str | None = None,
    params_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    out: str | Path | None = None,
    notebooks_dir: Path = NOTEBOOKS,
    parameters_dir: Path = PARAMETERS,
) -> RunResult:
    """Run the weekly cycle (see the module doc for what is guaranteed). Never raises for a bad week."""
    out = Path(out) if out is not None else outputs_dir()
    out.mkdir(parents=True, exist_ok=True)
    central = logging.FileHandler(out / "soe-run.log")
    central.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    log.addHandler(central)
    try:
        with _lock(out) as locked:
            if not locked:
                msg = f"another soe run holds {out / '.soe-run.lock'}; not starting a second one"
                log.error(msg)
                return RunResult(EXIT_BUSY, "busy", message=msg)
            return _run_locked(data_dir, week, params_file, overrides or {}, out, notebooks_dir, parameters_dir)
    finally:
        log.removeHandler(central)
        central.close()


def _run_locked(
    data_dir: str | Path | None,
    week: str | None,
    params_file: str | Path | None,
    overrides: dict[str, Any],
    out: Path,
    notebooks_dir: Path,
    parameters_dir: Path,
) -> RunResult:
    started, t0 = _utcnow(), time.perf_counter()
    notebooks = batch_notebooks(notebooks_dir)
    if not notebooks:
        return _invalid(f"no weekly notebooks (NN_*.ipynb) in {notebooks_dir}")
    try:
        declared = known_parameters(notebooks)
        known = set().union(*declared.values())
        user = dict(overrides)
        if params_file:
            user = {**load_file(Path(params_file)), **user}
        cli = {k: v for k, v in {"data_dir": data_dir, "week": week}.items() if v is not None}
        params = merge(load_defaults(parameters_dir), {**user, **cli}, known, str(params_file or "overrides"))
    except ParameterError as exc:
        return _invalid(str(exc))

    try:
        data = load_data(params.get("data_dir"), week=params.get("week"), horizon_weeks=int(params.get("horizon_weeks", 13)))
    except ValidationError as exc:
        log.error("input data is invalid (%s); nothing written for this week", exc.report.summary())
        for problem in exc.report.errors:
            log.error("  %s", problem)
        return RunResult(EXIT_INVALID, "invalid", message=str(exc))

    label = data.week_label
    run_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    staging = out / ".staging" / f"{label}-{run_id}"
    (staging / "notebooks").mkdir(parents=True)
    run_log = logging.FileHandler(staging / "run.log")
    run_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    log.addHandler(run_log)
    manifest: dict[str, Any] = {
        "schema": 1,
        "run_id": run_id,
        "week": label,
        "status": "running",
        "started_at": started,
        "data_dir": str(Path(data.data_dir).resolve()),
        "parameters": {**params, "week": label},
        "inputs": {
            name: {"file": src.label, "sha256": file_sha256(src.path), "rows": len(data.tables[name])}
            for name, src in data.sources.items()
        },
        "validation": {"errors": 0, "warnings": len(data.report.warnings)},
        "notebooks": [],
        "versions": _versions(),
        "command": " ".join(sys.argv),
    }
    try:
        log.info("run %s for week %s: %d notebooks, data %s", run_id, label, len(notebooks), data.data_dir)
        write_dataset(data, staging / "inputs")
        failed = None
        for i, nb in enumerate(notebooks, 1):
            injected = {k: v for k, v in params.items() if k in declared[nb.name]}
            # the original folder, so every message names the user's own files and rows
            injected.update(data_dir=str(Path(data.data_dir).resolve()), week=label, out_dir=".")
            t = time.perf_counter()
            entry: dict[str, Any] = {"name": nb.stem, "parameters": injected}
            try:
                _execute(nb, staging / "notebooks" / nb.name, injected, staging)
                entry.update(status="succeeded", seconds=round(time.perf_counter() - t, 2))
                log.info("[%d/%d] %s ok (%.1f s)", i, len(notebooks), nb.stem, entry["seconds"])
            except Exception as exc:  # any failure of a notebook fails the run, and is recorded
                entry.update(status="failed", seconds=round(time.perf_counter() - t, 2), error=_error_of(exc))
                log.error("[%d/%d] %s FAILED (%.1f s): %s", i, len(notebooks), nb.stem, entry["seconds"], entry["error"]["message"])
                failed = entry
            manifest["notebooks"].append(entry)
            if failed:
                break
        if failed is None:
            changed = [n for n, src in data.sources.items() if file_sha256(src.path) != manifest["inputs"][n]["sha256"]]
            if changed:  # the extract was rewritten under us: the results mix two versions of the data
                failed = {"name": "inputs", "error": {"type": "InputsChanged", "message": f"input files changed during the run: {', '.join(changed)}"}}
                manifest["notebooks"].append({**failed, "status": "failed"})
                log.error("[inputs] %s", failed["error"]["message"])
        if failed is None:
            for nb in sorted((staging / "notebooks").glob("*.ipynb")):
                _export_html(nb)
            manifest["tables"] = {
                p.stem: {"sha256": file_sha256(p), "bytes": p.stat().st_size}
                for p in sorted((staging / "tables").glob("*.parquet"))
            }
    except BaseException as exc:  # disk full, Ctrl-C, a bug here: the week stays as it was
        failed = {"name": "runner", "error": _error_of(exc)}
        manifest["notebooks"].append({**failed, "status": "failed"})
        log.error("run aborted: %s", failed["error"]["message"])
    finally:
        log.removeHandler(run_log)
        run_log.close()

    shutil.rmtree(staging / CACHE_DIR, ignore_errors=True)  # the notebooks' input cache is not an output
    manifest["finished_at"] = _utcnow()
    manifest["seconds"] = round(time.perf_counter() - t0, 2)
    if failed is not None:
        manifest.update(status="failed", exit_code=EXIT_FAILED, failed_step=failed["name"])
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        target = out / "failed-runs" / staging.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)
        msg = f"week {label} FAILED in {failed['name']}; executed notebooks kept in {target}; earlier weeks untouched"
        log.error(msg)
        return RunResult(EXIT_FAILED, "failed", label, target, msg, manifest)

    manifest.update(status="succeeded", exit_code=EXIT_OK)
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    final = out / label
    if final.exists():  # a re-run: keep the previous result in the history, never delete it
        previous = json.loads((final / "manifest.json").read_text()).get("run_id", "previous") if (final / "manifest.json").exists() else "previous"
        keep = out / ".history" / label / previous
        keep.parent.mkdir(parents=True, exist_ok=True)
        if keep.exists():
            shutil.rmtree(keep)
        os.replace(final, keep)
    os.replace(staging, final)
    msg = f"week {label} succeeded in {manifest['seconds']:.1f} s; outputs in {final}"
    log.info(msg)
    return RunResult(EXIT_OK, "succeeded", label, final, msg, manifest)


def _invalid(message: str) -> RunResult:
    log.error(message)
    return RunResult(EXIT_INVALID, "invalid", message=message)
