"""Publishing a run: a finished week replaces the archived one, a failed one is kept aside.

Readers (the review app, ``soe runs``) only ever look at ``outputs/<week>/``: a run is built in
``outputs/.staging/`` and moved there only when it succeeded. A re-run moves the previous result to
``outputs/.history/<week>/<run_id>/`` first (nothing is lost); a failed run goes to
``outputs/failed-runs/<week>-<run_id>/`` with its executed notebooks, for diagnosis.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

__all__ = ["keep_failed", "publish"]


def publish(staging: Path, out: Path, label: str) -> Path:
    """Move a succeeded run from ``staging`` to ``out/<label>``, keeping any previous result in the history."""
    final = out / label
    if final.exists():
        manifest = final / "manifest.json"
        previous = json.loads(manifest.read_text()).get("run_id", "previous") if manifest.exists() else "previous"
        keep = out / ".history" / label / previous
        keep.parent.mkdir(parents=True, exist_ok=True)
        if keep.exists():
            shutil.rmtree(keep)
        os.replace(final, keep)
    os.replace(staging, final)
    return final


def keep_failed(staging: Path, out: Path) -> Path:
    """Move a failed run to ``out/failed-runs/``; earlier weeks stay untouched."""
    target = out / "failed-runs" / staging.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)
    return target
