"""Finding and reading the files of a data folder, as they are on disk.

A data folder holds one file per table: ``<table>.csv``, ``<table>.parquet``, or a sheet named
``<table>`` in one ``.xlsx`` workbook. CSV and Excel cells are read as text, so codes keep their
leading zeros; :mod:`soe_lib.io.validation` then types them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow.types as pa_types

from ..core.contract import TABLES
from ..core.dataset import Source
from ..core.problems import Problem

__all__ = ["SNAPSHOT_FILE", "file_sha256", "find_sources", "read_source"]

SNAPSHOT_FILE = "snapshot.json"  # what a run's stored snapshot holds besides the tables (io.snapshot)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_sources(data_dir: Path) -> tuple[dict[str, Source], list[Problem]]:
    """Map each table to the one file (or workbook sheet) that holds it."""
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    if not data_dir.is_dir():
        problems.append(
            Problem("error", "", str(data_dir), "", "data folder exists", "the data folder does not exist")
        )
        return {}, problems
    found: dict[str, list[Source]] = {}
    for path in sorted(data_dir.iterdir()):
        if path.name.startswith((".", "~$")):
            continue
        if path.suffix.lower() in (".csv", ".parquet") and path.stem.lower() in TABLES:
            found.setdefault(path.stem.lower(), []).append(Source(path.stem.lower(), path))
        elif path.suffix.lower() == ".xlsx":
            from openpyxl import load_workbook

            sheets = load_workbook(path, read_only=True).sheetnames
            for sheet in sheets:
                if sheet.strip().lower() in TABLES:
                    found.setdefault(sheet.strip().lower(), []).append(Source(sheet.strip().lower(), path, sheet))
    sources: dict[str, Source] = {}
    for name, table in TABLES.items():
        options = found.get(name, [])
        if len(options) > 1:
            problems.append(
                Problem(
                    "error",
                    name,
                    ", ".join(s.label for s in options),
                    "",
                    "one file per table",
                    f"table '{name}' is given more than once",
                )
            )
        elif options:
            sources[name] = options[0]
        elif table.required:
            problems.append(
                Problem(
                    "error",
                    name,
                    f"{name}.csv",
                    "",
                    "required table",
                    f"no {name}.csv, {name}.parquet or '{name}' sheet in {data_dir}",
                )
            )
    return sources, problems


def read_source(source: Source) -> pd.DataFrame:
    """Read one table as it is on disk; CSV and Excel cells as text. Headers are trimmed and lower-cased."""
    suffix = source.path.suffix.lower()
    # Every cell as text (a dtype=category read would turn '00123' into 123). Parquet text arrives
    # dictionary-encoded (categorical): validation then works on the distinct values only.
    if suffix == ".csv":
        frame = pd.read_csv(source.path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(source.path)
        text = [f.name for f in schema if pa_types.is_string(f.type) or pa_types.is_large_string(f.type)]
        frame = pq.read_table(source.path, read_dictionary=text).to_pandas()
    else:
        frame = pd.read_excel(source.path, sheet_name=source.sheet, dtype=str, engine="openpyxl")
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    return frame
