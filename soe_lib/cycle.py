"""The week a notebook works on: validated inputs plus the folder its result tables go to.

Every weekly notebook starts with ``week = open_week(data_dir, week, out_dir, horizon_weeks)``.
Under ``soe run`` the runner injects the data folder it validated, the run week, and
``out_dir="."`` (the run folder being built). Run interactively with the defaults (``None``), a notebook
reads the built-in sample company and writes to ``outputs/lab/<week>/`` so exploring never touches
an archived weekly run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .loading import Dataset, load_data
from .paths import outputs_dir
from .weeks import week_labels

__all__ = ["WeekRun", "open_week", "read_table", "save_table"]


@dataclass
class WeekRun:
    data: Dataset
    out_dir: Path
    horizon_weeks: int = 13

    @property
    def week(self) -> pd.Timestamp:
        return self.data.week

    @property
    def label(self) -> str:
        return self.data.week_label

    @property
    def tables_dir(self) -> Path:
        return self.out_dir / "tables"

    def save(self, name: str, frame: pd.DataFrame) -> Path:
        """Write a result table to ``tables/<name>.parquet`` (week columns as ISO labels)."""
        return save_table(frame, self.tables_dir / f"{name}.parquet")

    def load(self, name: str) -> pd.DataFrame:
        """Read a result table an earlier notebook of this run wrote."""
        path = self.tables_dir / f"{name}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: run the notebook that writes '{name}' first")
        return read_table(path)


def save_table(frame: pd.DataFrame, path: Path) -> Path:
    """Parquet with every datetime column turned into its ISO week label (what people read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = week_labels(out[col])
    out.to_parquet(path, index=False)
    return path


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def open_week(
    data_dir: str | Path | None = None,
    week: str | None = None,
    out_dir: str | Path | None = None,
    horizon_weeks: int = 13,
) -> WeekRun:
    """Load and validate the inputs for ``week`` and choose where results go (see module doc)."""
    data = load_data(data_dir, week=week, horizon_weeks=horizon_weeks)
    folder = Path(out_dir) if out_dir is not None else outputs_dir() / "lab" / data.week_label
    folder.mkdir(parents=True, exist_ok=True)
    return WeekRun(data, folder, horizon_weeks)
