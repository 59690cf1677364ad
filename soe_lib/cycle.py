"""The week a notebook works on: validated inputs plus the folder its result tables go to.

Every weekly notebook starts with ``week = open_week(data_dir, week, out_dir, horizon_weeks)``.
Under ``soe run`` the runner injects the data folder it validated, the run week, and
``out_dir="."`` (the run folder being built). Run interactively with the defaults (``None``), a notebook
reads the built-in sample company and writes to ``outputs/lab/<week>/`` so exploring never touches
an archived weekly run.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .loading import Dataset, load_data
from .paths import outputs_dir
from .weeks import week_labels

__all__ = ["CACHE_DIR", "WeekRun", "cached_load", "open_week", "read_table", "save_table"]

CACHE_DIR = ".cache"


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


CACHE_VERSION = 1  # bump when what load_data returns changes shape


def _cache_key(data_dir: Path, week: str | None, horizon_weeks: int) -> str:
    """Identity of a load: the folder, the arguments, and every file's name, size and modification time."""
    files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in data_dir.iterdir() if p.is_file())
    blob = json.dumps([CACHE_VERSION, str(data_dir.resolve()), week, horizon_weeks, files])
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def cached_load(data_dir: str | Path | None, week: str | None, horizon_weeks: int, cache: Path) -> Dataset:
    """:func:`load_data`, remembered in ``cache`` for the next notebook of the same run.

    At 100k SKU-locations loading and validating takes ~14 s and reading the cached result ~4 s;
    every weekly notebook after the first reuses it. Any change to an input file (size or
    modification time) makes a new entry; the runner deletes the cache before archiving the week.
    """
    from .sample import resolve_data_dir

    folder = resolve_data_dir(data_dir)
    if not folder.is_dir():
        return load_data(folder, week=week, horizon_weeks=horizon_weeks)  # the loader reports it
    entry = cache / f"dataset-{_cache_key(folder, week, horizon_weeks)}.pkl"
    if entry.exists():
        with open(entry, "rb") as fh:
            return pickle.load(fh)
    data = load_data(folder, week=week, horizon_weeks=horizon_weeks)
    cache.mkdir(parents=True, exist_ok=True)
    for old in cache.glob("dataset-*.pkl"):  # one entry at a time: inputs of an earlier state are stale
        old.unlink(missing_ok=True)
    tmp = entry.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, entry)
    return data


def open_week(
    data_dir: str | Path | None = None,
    week: str | None = None,
    out_dir: str | Path | None = None,
    horizon_weeks: int = 13,
) -> WeekRun:
    """Load and validate the inputs for ``week`` and choose where results go (see module doc).

    With an ``out_dir`` (a weekly run), the validated inputs are cached in ``out_dir/.cache`` for the
    run's next notebooks (:func:`cached_load`).
    """
    if out_dir is not None:
        folder = Path(out_dir)
        data = cached_load(data_dir, week, horizon_weeks, folder / CACHE_DIR)
    else:
        data = load_data(data_dir, week=week, horizon_weeks=horizon_weeks)
        folder = outputs_dir() / "lab" / data.week_label
    folder.mkdir(parents=True, exist_ok=True)
    return WeekRun(data, folder, horizon_weeks)
