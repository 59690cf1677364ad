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
import shutil
from pathlib import Path

__all__ = ["RUNS", "keep_failed", "publish_run", "published_run"]

RUNS = "runs"


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
    """Move a failed run to ``out/failed-runs/``; every published week stays untouched."""
    target = out / "failed-runs" / staging.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)
    return target
