"""The snapshot: a run's validated, normalised inputs, written once and read by every step.

``soe run`` loads and validates the data folder once and writes the result to ``<run>/inputs/``:
one Parquet file per supplied table (typed; weeks as ISO Mondays; the int series key ``_series``)
and ``snapshot.json`` (run week, where each table came from with its sha256 and rows, and the
validation findings). Every notebook of the run reads this snapshot and never the live data folder,
so a published week cannot mix two versions of an input. The folder doubles as a data folder:
``soe run --data outputs/2026-W48/inputs`` re-runs the week from its archived inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.contract import TABLES
from ..core.dataset import SERIES_TABLES, Dataset, LazyTables, Source
from ..core.problems import Problem, ValidationReport
from ..core.weeks import parse_week
from .parts import read_rows, table_profile
from .sources import SERIES_FILE, SNAPSHOT_FILE, file_sha256
from .validation import column_dtype

__all__ = [
    "SNAPSHOT_SCHEMA", "has_snapshot", "read_snapshot", "snapshot_key", "snapshot_meta", "source_hashes",
    "write_snapshot",
]

SNAPSHOT_SCHEMA = 1
# Rows per Parquet row group: written in week order per series, a group's min/max week lets a reader of
# some weeks skip most groups only within a group's range; small enough that weeks_of reads little extra.
ROW_GROUP = 1 << 20


def source_hashes(sources: dict[str, Source]) -> dict[str, str]:
    """sha256 of each source file (a workbook is hashed once)."""
    by_file: dict[Path, str] = {}
    for src in sources.values():
        if src.path not in by_file:
            by_file[src.path] = file_sha256(src.path)
    return {name: by_file[src.path] for name, src in sources.items()}


def snapshot_key(hashes: dict[str, str], week: str | None, horizon_weeks: int) -> str:
    """Identity of a load: the files' contents and the arguments that shape the snapshot."""
    blob = json.dumps([SNAPSHOT_SCHEMA, sorted(hashes.items()), week or "", int(horizon_weeks)])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def write_snapshot(data: Dataset, folder: Path, hashes: dict[str, str], key: str = "") -> dict[str, Any]:
    """Write ``data`` to ``folder`` (see the module doc); returns what ``snapshot.json`` holds."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in data.tables:
        if name in data.stored:  # validated in parts, already typed on disk: moved in whole
            os.replace(data.stored[name], folder / f"{name}.parquet")
        elif data.has(name):
            _write(data.tables[name], folder / f"{name}.parquet")
    if data.report.ok:  # the series list (and facts), so that a step needing it does not read every weekly table for it
        series = data.series()
        if data.facts is not None:
            series = series.join(data.facts, on="_series")
        _write(series, folder / SERIES_FILE)
    # every table's profile (those validated in parts have theirs): data health then reads no rows
    profiles = {**{name: table_profile(data.tables[name]) for name in data.sources if name not in data.profiles}, **data.profiles}
    meta = {
        "schema": SNAPSHOT_SCHEMA,
        "key": key,
        "week": data.week_label,
        "data_dir": str(Path(data.data_dir).resolve()),
        "sources": {
            name: {"path": str(src.path.resolve()), "sheet": src.sheet, "sha256": hashes.get(name, ""),
                   "rows": data.profiles[name]["rows"] if name in data.profiles else len(data.tables[name])}
            for name, src in data.sources.items()
        },
        "profiles": {name: {**p, "weekly": {str(w.date()): float(q) for w, q in p["weekly"].items()}} for name, p in profiles.items()},
        "problems": [asdict(p) for p in data.report.problems],
        "series": bool(data.report.ok),
    }
    tmp = folder / f".{SNAPSHOT_FILE}.tmp"
    tmp.write_text(json.dumps(meta, indent=1, default=str))
    os.replace(tmp, folder / SNAPSHOT_FILE)  # written last: a snapshot without it is incomplete
    return meta


def _write(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False, row_group_size=ROW_GROUP)
    os.replace(tmp, path)


def has_snapshot(folder: Path) -> bool:
    return (Path(folder) / SNAPSHOT_FILE).is_file()


def snapshot_meta(folder: Path) -> dict[str, Any]:
    return json.loads((Path(folder) / SNAPSHOT_FILE).read_text())


def _empty(name: str) -> pd.DataFrame:
    frame = pd.DataFrame({c.name: pd.Series(dtype=column_dtype(c)) for c in TABLES[name].columns})
    if name in SERIES_TABLES:
        frame["_series"] = np.zeros(0, dtype=np.int64)
    return frame


def read_snapshot(folder: str | Path, series: tuple[int, int] | None = None) -> Dataset:
    """The :class:`Dataset` a snapshot holds, as :func:`~soe_lib.io.loading.load_data` returned it; each
    table is read when first used (:class:`~soe_lib.core.dataset.LazyTables`).
    ``series=(first, stop)``: only the SKU-locations whose ``_series`` key is in ``[first, stop)`` (the
    series tables filtered as they are read, with Parquet row filters; the catalogues whole). ``folder``
    may be any fsspec URL (``s3://...``): Dask workers read their part from shared storage."""
    import fsspec

    base = str(folder).rstrip("/")
    with fsspec.open(f"{base}/{SNAPSHOT_FILE}", "r") as fh:
        meta = json.load(fh)
    sources = {name: Source(name, Path(s["path"]), s["sheet"]) for name, s in meta["sources"].items()}
    rows = [] if series is None else [("_series", ">=", int(series[0])), ("_series", "<", int(series[1]))]

    def read(name: str, weeks: tuple[pd.Timestamp, pd.Timestamp] | None, columns: list[str] | None) -> pd.DataFrame:
        if name not in sources:
            frame = _empty(name)
            return frame if columns is None else frame[columns]
        return read_rows(f"{base}/{name}.parquet", weeks, columns, rows if name in SERIES_TABLES else None)

    problems = [Problem(**{**p, "rows": tuple(p["rows"]), "examples": tuple(p["examples"])}) for p in meta["problems"]]
    profiles = {name: {**p, "weekly": pd.Series(p["weekly"], dtype=float).rename(index=pd.Timestamp)} for name, p in meta.get("profiles", {}).items()}
    data = Dataset(Path(meta["data_dir"]), LazyTables(list(TABLES), read), sources, parse_week(meta["week"]), ValidationReport(problems),
                   profiles=profiles)
    if meta.get("series"):  # written by this version: the series list without reading every weekly table for it
        with fsspec.open(f"{base}/{SERIES_FILE}", "rb") as fh:
            stored = pd.read_parquet(fh, filters=rows or None)
        data.__dict__["_series_frame"] = stored[["sku", "location", "_series"]]
        facts = stored.drop(columns=["sku", "location"]).set_index("_series")
        data.facts = facts if len(facts.columns) else None
    return data
