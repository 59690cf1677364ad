"""Publishing a run: one atomic step makes a finished week visible; a failed one is kept aside.

Every run that succeeds gets its own folder, never modified afterwards::

    outputs/runs/2026-W48/<run_id>/      one folder per successful run of the week (the history)
    outputs/2026-W48 -> runs/2026-W48/<run_id>     the published week: a symbolic link

Publishing moves the staged run into ``runs/`` (a rename: the published link still points at the
previous run), writes a new link beside the old one, and renames it over the old one. ``rename(2)``
replaces a link atomically, so at every instant ``outputs/2026-W48`` is either the previous run or
the new one, never missing and never half of either (tests inject a crash after each step).
Readers follow the link like a folder. A crash can leave an unpublished run folder in ``runs/`` or a
stray ``.<week>.*.link``: harmless, and the next publish of the week removes stray links.

A week folder written by the first release (a real folder, not a link) is moved into ``runs/`` on the
first re-run of that week: that one migration is two renames (a window of microseconds).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from .distributed import SPILL_FOLDER

__all__ = ["RUNS", "keep_failed", "publish_run", "published_run", "recover_interrupted"]

RUNS = "runs"
RUN_ID = re.compile(r"^\d{8}T\d{6}Z-")  # run ids begin with their UTC start: their order is the runs' order


def _run_id(folder: Path) -> str:
    manifest = folder / "manifest.json"
    try:
        return json.loads(manifest.read_text()).get("run_id") or "previous"
    except (OSError, ValueError):
        return "previous"


def _migrate_legacy(final: Path, out: Path, label: str) -> None:
    """A first-release week (a real folder) becomes a run folder under runs/ and a link to it."""
    keep = out / RUNS / label / _run_id(final)
    keep.parent.mkdir(parents=True, exist_ok=True)
    if keep.exists():
        shutil.rmtree(keep)
    os.replace(final, keep)
    os.symlink(os.path.relpath(keep, out), final)


def publish_run(staging: Path, out: Path, label: str, run_id: str) -> Path:
    """Make the succeeded run in ``staging`` the published ``out/<label>`` (see the module doc)."""
    final = out / label
    if final.is_dir() and not final.is_symlink():
        _migrate_legacy(final, out, label)
    for stray in out.glob(f".{label}.*.link"):  # left by a crash between writing and swapping a link
        stray.unlink(missing_ok=True)
    target = out / RUNS / label / run_id
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)  # 1: the run folder in place; the published link is unchanged
    link = out / f".{label}.{run_id}.link"
    os.symlink(os.path.relpath(target, out), link)  # 2: the new link, beside the old one
    os.replace(link, final)  # 3: the swap, atomic
    return final


def published_run(out: Path, label: str) -> Path | None:
    """The run folder ``out/<label>`` points at (the folder itself for a first-release week), or None."""
    final = out / label
    return final.resolve() if final.exists() else None


def keep_failed(staging: Path, out: Path) -> Path:
    """Move a failed run to ``out/failed-runs/``; every published week stays untouched. The parts' prepared
    states a step wrote between its rounds are not kept (16 GB at 1M; only the step itself reads them)."""
    shutil.rmtree(staging / SPILL_FOLDER, ignore_errors=True)
    target = out / "failed-runs" / staging.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)
    return target


def _mark_failed(folder: Path, reason: str) -> None:
    """Say in a run folder's manifest that the run failed, and why (a folder without one gets one)."""
    manifest = folder / "manifest.json"
    try:
        data = json.loads(manifest.read_text()) if manifest.exists() else {}
    except (OSError, ValueError):
        data = {}
    data.update(status="failed", exit_code=1, failed_step=data.get("failed_step") or "runner", reason=reason)
    tmp = manifest.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, manifest)


def recover_interrupted(out: Path) -> list[Path]:
    """What a killed run left (call it holding the run lock, so no other run is alive): run folders in
    ``.staging/`` and run folders moved into ``runs/`` but never published (killed between publishing's
    first rename and the link swap: newer than the run the week's link points at). Each is moved to
    ``failed-runs/`` with a manifest saying it failed; returns where they went."""
    moved = []
    staging = out / ".staging"
    for folder in sorted(staging.iterdir()) if staging.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("."):
            _mark_failed(folder, "the run was stopped before it finished (killed or the machine went down); found by the next run")
            moved.append(keep_failed(folder, out))
        elif folder.is_dir():  # parts of a validation in progress, or a warm kernel's folder: nothing to keep
            shutil.rmtree(folder, ignore_errors=True)
    for week_runs in sorted((out / RUNS).iterdir()) if (out / RUNS).is_dir() else []:
        published = published_run(out, week_runs.name)
        current = published.name if published is not None and RUN_ID.match(published.name) else ""
        for folder in sorted(p for p in week_runs.iterdir() if p.is_dir() and RUN_ID.match(p.name) and p.name > current):
            _mark_failed(folder, "the run was stopped while it was being published; the week kept its previous run")
            target = out / "failed-runs" / f"{week_runs.name}-{folder.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(folder, target)
            moved.append(target)
    return moved
