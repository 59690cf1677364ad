"""Finding and reading the files of a data folder, as they are on disk.

A data folder holds one file per table: ``<table>.csv``, ``<table>.parquet``, or a sheet named
``<table>`` in one ``.xlsx`` workbook; a large table may be a folder ``<table>/`` of Parquet parts
(``part-00000.parquet``, ...: one table, read as a Parquet dataset, e.g. written by ``soe sample --parts``). CSV and Excel cells are read as text, so codes keep their
leading zeros; :mod:`soe_lib.io.validation` then types them.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
from pathlib import Path

import pandas as pd
import pyarrow.types as pa_types

from ..core.contract import TABLES
from ..core.dataset import Source
from ..core.problems import Problem

__all__ = ["SERIES_FILE", "SNAPSHOT_FILE", "file_sha256", "find_sources", "parquet_parts", "header_problems", "normalise_header", "raw_header", "read_source", "sniff_csv"]

SNAPSHOT_FILE = "snapshot.json"  # what a run's stored snapshot holds besides the tables (io.snapshot)


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes; of a folder of parts: of its parts' names and hashes (in name order)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for part in parquet_parts(path):
            digest.update(f"{part.name}:{file_sha256(part)};".encode())
        return digest.hexdigest()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parquet_parts(folder: Path) -> list[Path]:
    """The Parquet parts of a partitioned table's folder, in name order (hidden files skipped)."""
    return sorted(p for p in Path(folder).glob("*.parquet") if not p.name.startswith((".", "_")))


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() == ".parquet" or path.is_dir()


SERIES_FILE = "_series.parquet"  # a snapshot's list of SKU-locations (io.snapshot)
QUIET = (SNAPSHOT_FILE, SERIES_FILE, "planted.json")  # files this project writes beside tables: not worth a note


def _classify_file(path: Path, found: dict[str, list[Source]], problems: list[Problem]) -> None:
    """One file of the folder: a table, a workbook of tables, or something that is ignored (and said so)."""
    suffix, stem = path.suffix.lower(), path.stem.strip().lower()
    if path.is_dir() and stem in TABLES and parquet_parts(path):  # a partitioned table: <table>/ of Parquet parts
        found.setdefault(stem, []).append(Source(stem, path))
    elif suffix in (".csv", ".parquet") and stem in TABLES and path.is_file():
        found.setdefault(stem, []).append(Source(stem, path))
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheets = load_workbook(path, read_only=True).sheetnames
        except Exception as exc:  # not a workbook, damaged, password-protected: say which file, go on
            problems.append(Problem("warning", "", path.name, "", "readable workbook", f"cannot open this workbook ({type(exc).__name__}: {exc}); ignored"))
            return
        for sheet in sheets:
            if sheet.strip().lower() in TABLES:
                found.setdefault(sheet.strip().lower(), []).append(Source(sheet.strip().lower(), path, sheet))
    elif suffix in (".csv", ".parquet", ".xls", ".tsv", ".txt") or path.is_dir():
        hint = difflib.get_close_matches(stem, TABLES, n=1)
        why = "an old .xls workbook is not read: save it as .xlsx" if suffix == ".xls" else "not a table of the data contract"
        problems.append(Problem("warning", "", path.name, "", "known table name", f"{why}; ignored" + (f" (did you mean {hint[0]}{suffix}?)" if hint else "")))
    elif path.name not in QUIET:
        problems.append(Problem("info", "", path.name, "", "known table name", "not a data file; ignored"))


def find_sources(data_dir: Path) -> tuple[dict[str, Source], list[Problem]]:
    """Map each table to the one file (or workbook sheet) that holds it; every other file is named as ignored."""
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    if not data_dir.is_dir():
        problems.append(Problem("error", "", str(data_dir), "", "data folder exists", "the data folder does not exist"))
        return {}, problems
    found: dict[str, list[Source]] = {}
    for path in sorted(data_dir.iterdir()):
        if not path.name.startswith((".", "~$")):
            _classify_file(path, found, problems)
    sources: dict[str, Source] = {}
    for name, table in TABLES.items():
        options = found.get(name, [])
        if len(options) > 1:
            problems.append(
                Problem("error", name, ", ".join(s.label for s in options), "", "one file per table", f"table '{name}' is given more than once")
            )
        elif options:
            sources[name] = options[0]
        elif table.required:
            problems.append(
                Problem("error", name, f"{name}.csv", "", "required table", f"no {name}.csv, {name}.parquet or '{name}' sheet in {data_dir}")
            )
    return sources, problems


DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # latin-1 decodes any byte: the last resort


def sniff_csv(path: Path) -> tuple[str, str]:
    """(encoding, delimiter) of a CSV file: UTF-8, else Windows-1252 (Excel's "CSV" in much of Europe),
    else Latin-1; the delimiter is the one of , ; tab | that the header line holds most of (a header
    rarely has a quoted comma, a data line often does)."""
    head = path.read_bytes()[: 1 << 16]
    for encoding in ENCODINGS:
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4 and encoding == "utf-8-sig":  # a character cut at the sample's end
                text = head[: exc.start].decode(encoding)
                break
    first = text.splitlines()[0] if text else ""
    counts = {d: first.count(d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return encoding, delimiter


def raw_header(source: Source) -> list[str]:
    """The column names as written in the file, before any renaming (pandas renames a repeated
    name to ``name.1``; the contract check must see the repeat)."""
    suffix = source.path.suffix.lower()
    if suffix == ".csv":
        encoding, delimiter = sniff_csv(source.path)
        with open(source.path, encoding=encoding, newline="") as fh:
            return next(csv.reader(fh, delimiter=delimiter), [])
    if _is_parquet(source.path):
        import pyarrow.parquet as pq

        first = parquet_parts(source.path)[0] if source.path.is_dir() else source.path
        return list(pq.read_schema(first).names)
    from openpyxl import load_workbook

    sheet = load_workbook(source.path, read_only=True)[source.sheet]
    row = next(sheet.iter_rows(max_row=1, values_only=True), ())
    return [str(v) for v in row if v is not None]


def normalise_header(name: object) -> str:
    return str(name).strip().lower().replace(" ", "_")


def header_problems(source: Source, names: list[str]) -> list[Problem]:
    """Two columns that are one once case and spaces are ignored (``sku`` and ``SKU``, or ``qty`` twice):
    which one holds the data cannot be guessed."""
    seen: dict[str, str] = {}
    problems = []
    for name in names:
        key = normalise_header(name)
        if key in seen:
            problems.append(
                Problem("error", source.table, source.label, key, "unique column names",
                        f"columns {seen[key]!r} and {name!r} are the same column once case and spaces are ignored: keep one")
            )
        else:
            seen[key] = name
    return problems


def read_source(source: Source) -> tuple[pd.DataFrame, list[Problem]]:
    """Read one table as it is on disk; CSV and Excel cells as text; headers trimmed and lower-cased.
    Returns the frame and notes on how it was read (a delimiter or encoding other than the default)."""
    suffix = source.path.suffix.lower()
    notes: list[Problem] = []
    # Every cell as text (a dtype=category read would turn '00123' into 123). Parquet text arrives
    # dictionary-encoded (categorical): validation then works on the distinct values only.
    if suffix == ".csv":
        encoding, delimiter = sniff_csv(source.path)
        if encoding != "utf-8-sig":
            notes.append(Problem("info", source.table, source.label, "", "UTF-8 text", f"not UTF-8: read as {encoding} (accents as Excel on Windows writes them)"))
        if delimiter != ",":
            notes.append(Problem("info", source.table, source.label, "", "comma-separated", f"read with delimiter {delimiter!r}"))
        try:
            frame = pd.read_csv(source.path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding, sep=delimiter)
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{exc} (read as {encoding}, delimiter {delimiter!r})") from exc
    elif _is_parquet(source.path):
        import pyarrow.parquet as pq

        parts = parquet_parts(source.path) if source.path.is_dir() else [source.path]
        schema = pq.read_schema(parts[0])
        text = [f.name for f in schema if pa_types.is_string(f.type) or pa_types.is_large_string(f.type)]
        frame = pq.read_table([str(p) for p in parts], read_dictionary=text).to_pandas()
    else:
        merged = merged_ranges(source)
        if merged:  # a merged cell keeps its value in its first cell only: the others would read as blank
            raise ValueError(f"merged cells {', '.join(merged[:5])}{' and more' if len(merged) > 5 else ''}: "
                             "only their first cell holds the value, the others would read as blank; unmerge them (one value per cell)")
        frame = pd.read_excel(source.path, sheet_name=source.sheet, dtype=str, engine="openpyxl")
    frame.columns = [normalise_header(c) for c in frame.columns]
    return frame, notes


def merged_ranges(source: Source) -> list[str]:
    """The merged cell ranges of a workbook sheet (``A3:A5``), in sheet order."""
    from openpyxl import load_workbook

    sheet = load_workbook(source.path)[source.sheet]  # merged ranges are not known in read-only mode
    return [str(r) for r in sheet.merged_cells.ranges]
