"""The archive of weekly runs: which weeks exist in an outputs folder, and how they ended.

Kept apart from :mod:`soe_lib.run` so the review app can list weeks without importing the run
machinery (papermill, nbformat, validation): it opens faster.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..core.paths import outputs_dir

__all__ = ["WEEK_FOLDER", "list_runs", "latest_week"]

WEEK_FOLDER = re.compile(r"^\d{4}-W\d{2}$")


def list_runs(out: Path | None = None) -> list[dict[str, Any]]:
    """Manifests of the week folders under ``out``, newest week first (successful runs only live there)."""
    out = Path(out or outputs_dir())
    runs = []
    if out.is_dir():
        for folder in sorted(out.iterdir(), reverse=True):
            manifest = folder / "manifest.json"
            if WEEK_FOLDER.match(folder.name) and manifest.exists():
                try:
                    runs.append({**json.loads(manifest.read_text()), "folder": str(folder)})
                except ValueError:
                    continue
    return runs


def latest_week(out: Path | None = None) -> str | None:
    """The latest week with a successful run, or None."""
    runs = [r for r in list_runs(out) if r.get("status") == "succeeded"]
    return runs[0]["week"] if runs else None


