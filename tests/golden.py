"""Digests of a weekly run's result tables, to prove a change leaves the numbers as they were.

A digest keeps, per table, the row count and per column: text columns a sha256 of their values in
row order; number columns the count of missing and infinite values, the sum and a position-weighted
sum (so a reordering shows), compared with a relative tolerance. Small, diffable, and robust to the
last bits of floating point that a reordering of operations may move.

Regenerate the stored digest only for a deliberate change of results, and say so in the commit:
``python -m tests.golden outputs/2026-W48 > tests/data/sample_week_digest.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

RTOL = 1e-6


def column_digest(values: pd.Series) -> dict:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(x)
        # position weights without a short period (a period of 7 hid a permutation of 7-row groups)
        weights = 1.0 + ((np.arange(len(x), dtype=np.int64) * 2654435761) % 1009) / 1009
        return {
            "kind": "number",
            "missing": int(np.isnan(x).sum()),
            "infinite": int(np.isinf(x).sum()),
            "sum": float(x[finite].sum()),
            "weighted": float((x[finite] * weights[finite]).sum()),
        }
    text = "\x1f".join("\x00" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values.astype(object).tolist())
    return {"kind": "text", "sha256": hashlib.sha256(text.encode()).hexdigest()}


def table_digest(frame: pd.DataFrame) -> dict:
    return {"rows": len(frame), "columns": {str(c): column_digest(frame[c]) for c in frame.columns}}


def week_digest(folder: Path) -> dict:
    """Digest of every table of a run folder (a file, or a folder of parts written by a step's parts: the same
    rows in the same order digest alike) and of ``sop_feedback.md``."""
    folder = Path(folder)
    found = [*(folder / "tables").glob("*.parquet"), *(p for p in (folder / "tables").iterdir() if p.is_dir())]
    tables = {p.name.removesuffix(".parquet"): table_digest(pd.read_parquet(p)) for p in sorted(found, key=lambda p: p.name)}
    feedback = folder / "sop_feedback.md"
    files = {"sop_feedback.md": hashlib.sha256(feedback.read_bytes()).hexdigest()} if feedback.exists() else {}
    return {"tables": tables, "files": files}


def contract_problems(tables_dir: Path) -> list[str]:
    """Every way the tables of a run folder break the output contract: a declared table missing, columns other than
    declared (names and order), values of the wrong kind, a duplicated key, a week not labelled ``YYYY-Www``."""
    from soe_lib.core.outputs import OUTPUTS, OutputContractError, check_table
    from soe_lib.io.results import table_path

    problems = []
    for name, table in OUTPUTS.items():
        if table.step == "scenario":  # written by soe scenario run beside the week, not by the week
            continue
        path = table_path(tables_dir, name)
        if not path.exists():
            problems.append(f"{name}: not written")
            continue
        frame = pd.read_parquet(path)
        if list(frame.columns) != table.names:
            problems.append(f"{name}: columns {list(frame.columns)} != {table.names}")
            continue
        try:
            check_table(name, frame)
        except OutputContractError as exc:
            problems.append(str(exc))
        if table.key and frame.duplicated(list(table.key)).any():
            problems.append(f"{name}: key {table.key} not unique")
        for col in table.columns:
            weeks = frame[col.name].dropna()
            if col.kind == "week" and len(weeks) and not weeks.astype(str).str.fullmatch(r"\d{4}-W\d{2}").all():
                problems.append(f"{name}.{col.name}: not ISO week labels")
    return problems


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-6)


def differences(expected: dict, actual: dict, ignore: dict[str, set[str]] | None = None) -> list[str]:
    """What differs between two digests; ``ignore`` maps a table to columns deliberately changed."""
    ignore = ignore or {}
    out = []
    for name, want in expected["tables"].items():
        got = actual["tables"].get(name)
        if got is None:
            out.append(f"table {name} is missing")
            continue
        if want["rows"] != got["rows"]:
            out.append(f"{name}: {got['rows']} rows, expected {want['rows']}")
            continue
        for col, w in want["columns"].items():
            if col in ignore.get(name, set()):
                continue
            g = got["columns"].get(col)
            if g is None:
                out.append(f"{name}.{col} is missing")
            elif w["kind"] != g["kind"]:
                out.append(f"{name}.{col}: {g['kind']}, expected {w['kind']}")
            elif w["kind"] == "text" and w["sha256"] != g["sha256"]:
                out.append(f"{name}.{col}: text values differ")
            elif w["kind"] == "number" and (
                w["missing"] != g["missing"] or w["infinite"] != g["infinite"]
                or not _close(w["sum"], g["sum"]) or not _close(w["weighted"], g["weighted"])
            ):
                out.append(f"{name}.{col}: numbers differ ({g['sum']!r} vs {w['sum']!r})")
    for name, sha in expected["files"].items():
        if actual["files"].get(name) != sha:
            out.append(f"{name} differs")
    return out


if __name__ == "__main__":
    print(json.dumps(week_digest(Path(sys.argv[1])), indent=1, sort_keys=True))
