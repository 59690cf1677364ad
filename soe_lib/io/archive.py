"""The archive of weekly runs: which weeks exist in an outputs folder, and how they ended.

Kept apart from :mod:`soe_lib.run` so the review app can list weeks without importing the run
machinery (papermill, nbformat, validation): it opens faster.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.paths import outputs_dir

__all__ = ["WEEK_FOLDER", "ArchivedWeek", "archived_weeks", "latest_week", "list_runs"]

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




@dataclass(frozen=True)
class ArchivedWeek:
    """A published week of the archive, read only: its result tables and its input snapshot."""

    week: str
    folder: Path

    def table(self, name: str) -> pd.DataFrame:
        """A result table as the week wrote it (week columns as ISO Mondays); empty when it has none
        (a week archived before the table existed)."""
        from .results import read_table, table_path

        return read_table(self.folder / "tables", name) if table_path(self.folder / "tables", name).exists() else pd.DataFrame()

    def inputs(self, name: str) -> pd.DataFrame:
        """One input table of the week's snapshot, as validated then (empty when the week had none)."""
        path = self.folder / "inputs" / f"{name}.parquet"
        return pd.read_parquet(path) if path.exists() else pd.DataFrame()

    def parameters(self) -> dict[str, Any]:
        """The parameters the week ran with (its ``parameters.json``; empty when it has none)."""
        path = self.folder / "parameters.json"
        try:
            return json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            return {}

    def data(self):  # -> Dataset (imported lazily: the review app lists weeks without the snapshot reader)
        """The validated inputs the week ran on (its snapshot)."""
        from .snapshot import read_snapshot

        return read_snapshot(self.folder / "inputs")


def archived_weeks(out: Path | None = None, before: str | None = None) -> list[ArchivedWeek]:
    """Successful weeks of the archive, newest first; only those before ``before`` (an ISO label) if given."""
    found = [ArchivedWeek(r["week"], Path(r["folder"])) for r in list_runs(out) if r.get("status") == "succeeded"]
    return [w for w in found if before is None or w.week < before]
