"""Validation of raw input tables against :mod:`soe_lib.contract`.

Every problem is collected before anything stops (never fail on the first one), and each
:class:`Problem` names the file, column, rule and the offending rows. Rows are numbered as a
spreadsheet shows them: the header is row 1, so the first data row is row 2 (for Parquet files, the
same numbering over the records).

Typing is done here by hand (codes to text, numbers with ``to_numeric``, weeks with
:func:`soe_lib.weeks.parse_weeks`) because a failed coercion must name its rows and must not hide the
other rules of that column; the value rules (bounds, allowed values, unique keys, references) are
then checked on the typed frame by a pandera schema built from the contract, lazily, and its failure
cases are translated into :class:`Problem` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from .contract import TABLES, Column, Table
from .weeks import parse_weeks

__all__ = ["Problem", "ValidationReport", "ValidationError", "type_table", "check_values", "MAX_ROWS_SHOWN"]

Severity = Literal["error", "warning", "info"]
MAX_ROWS_SHOWN = 20
ROW_OFFSET = 2  # header is row 1


@dataclass(frozen=True)
class Problem:
    """One finding: ``severity`` in error/warning/info; ``rows`` are the first 20 offending rows."""

    severity: Severity
    table: str
    file: str
    column: str
    rule: str
    message: str
    rows: tuple[int, ...] = ()
    count: int = 0
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.file}" + (f", column '{self.column}'" if self.column else "")
        text = f"{self.severity.upper()} {where}, rule '{self.rule}': {self.message}"
        if self.count:
            shown = ", ".join(str(r) for r in self.rows)
            more = f" (first {len(self.rows)} shown)" if self.count > len(self.rows) else ""
            text += f"; {self.count} row{'s' if self.count != 1 else ''}: {shown}{more}"
            if self.examples:
                text += "; values: " + ", ".join(repr(v) for v in self.examples)
        return text


def problem_for_rows(
    severity: Severity,
    table: str,
    file: str,
    column: str,
    rule: str,
    message: str,
    positions: np.ndarray,
    values: pd.Series | None = None,
    examples: tuple[str, ...] = (),
) -> Problem:
    """Build a :class:`Problem` from 0-based row positions (sorted, first 20 kept)."""
    positions = np.unique(np.asarray(positions, dtype=np.int64))
    shown = positions[:MAX_ROWS_SHOWN]
    if values is not None and not examples:
        examples = tuple(str(v) for v in values.iloc[shown[:5]].tolist())
    return Problem(
        severity,
        table,
        file,
        column,
        rule,
        message,
        tuple(int(p) + ROW_OFFSET for p in shown),
        int(len(positions)),
        examples,
    )


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        """One row per problem, rows as a comma-separated string (Parquet friendly)."""
        cols = ["severity", "table", "file", "column", "rule", "message", "count", "rows", "examples"]
        records = [
            {
                **{k: getattr(p, k) for k in cols[:7]},
                "rows": ", ".join(map(str, p.rows)),
                "examples": ", ".join(p.examples),
            }
            for p in self.problems
        ]
        return pd.DataFrame.from_records(records, columns=cols)

    def summary(self) -> str:
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"

    def render(self, severities: tuple[str, ...] = ("error", "warning")) -> str:
        lines = [str(p) for p in self.problems if p.severity in severities]
        return "\n".join(lines) if lines else "no problems found"


class ValidationError(Exception):
    """Raised when input data has errors; carries the full report."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(f"input data is invalid: {report.summary()}\n{report.render(('error',))}")


def _blank(raw: pd.Series) -> pd.Series:
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        return raw.isna() | (raw.astype("string").str.strip() == "")
    return raw.isna()


def _as_code(raw: pd.Series) -> pd.Series:
    """Codes are text. Integral floats (a Parquet/Excel column read as numbers) lose their '.0'."""
    if pd.api.types.is_float_dtype(raw):
        whole = raw.dropna()
        if len(whole) and np.all(np.mod(whole, 1) == 0):
            raw = raw.astype("Int64")
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        out = raw.astype("string")
    else:
        out = raw.astype("string").str.strip()
    return out.mask(out == "")


def type_table(table: Table, raw: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Type the contract columns of ``raw`` (codes->text, numbers->float, weeks->ISO Monday).

    Returns the typed frame (extra columns kept as they are) and the problems found: missing
    columns, empty required table, missing values, values that are not numbers or weeks.
    """
    problems: list[Problem] = []
    out = raw.copy()
    if table.required and len(raw) == 0:
        problems.append(Problem("error", table.name, file, "", "not empty", "the table has no rows"))
    for col in table.columns:
        if col.name not in raw.columns:
            if col.required:
                problems.append(
                    Problem(
                        "error",
                        table.name,
                        file,
                        col.name,
                        "required column",
                        f"column '{col.name}' is missing (found: {', '.join(map(str, raw.columns)) or 'none'})",
                    )
                )
            out[col.name] = pd.Series(index=raw.index, dtype=_dtype(col))  # all missing
            continue
        values = raw[col.name]
        blank = _blank(values).to_numpy()
        if col.kind in ("code", "text"):
            typed = _as_code(values)
        elif col.kind == "number":
            typed = pd.to_numeric(values, errors="coerce").astype("float64")
            bad = ~blank & typed.isna().to_numpy()
            if bad.any():
                problems.append(
                    problem_for_rows(
                        "error", table.name, file, col.name, "number", "not a number", np.flatnonzero(bad), values
                    )
                )
        else:
            typed = parse_weeks(values)
            bad = ~blank & typed.isna().to_numpy()
            if bad.any():
                problems.append(
                    problem_for_rows(
                        "error",
                        table.name,
                        file,
                        col.name,
                        "week",
                        "not an ISO week (2026-W48) or a date",
                        np.flatnonzero(bad),
                        values,
                    )
                )
        if blank.any() and not col.nullable:
            problems.append(
                problem_for_rows(
                    "error", table.name, file, col.name, "not blank", "missing value", np.flatnonzero(blank)
                )
            )
        out[col.name] = typed
    return out, problems


def _dtype(col: Column) -> str:
    return {"code": "string", "text": "string", "number": "float64", "week": "datetime64[ns]"}[col.kind]


def _value_rule(col: Column) -> tuple[pa.Check, str, str] | None:
    if col.min is None:
        return None
    if col.min_exclusive:
        return pa.Check.gt(col.min), f"> {col.min:g}", f"must be greater than {col.min:g}"
    return pa.Check.ge(col.min), f">= {col.min:g}", "negative value"


def check_values(
    table: Table, typed: pd.DataFrame, file: str, known: dict[str, pd.Index] | None = None
) -> list[Problem]:
    """Check bounds, allowed values, unique keys and references (sku, location) on a typed table.

    ``known`` maps a referenced table name to the codes it holds (``products`` -> skus).
    """
    known = known or {}
    rules: dict[tuple[str, int], tuple[str, str]] = {}
    columns: dict[str, pa.Column] = {}
    for col in table.columns:
        checks: list[pa.Check] = []
        value = _value_rule(col)
        if value:
            checks.append(value[0])
            rules[(col.name, len(checks) - 1)] = value[1:]
        if col.allowed:
            checks.append(pa.Check(lambda s, a=col.allowed: s.str.lower().isin(a)))
            rules[(col.name, len(checks) - 1)] = ("one of " + "/".join(col.allowed), "value not allowed")
        ref = table.references.get(col.name)
        if ref and ref in known:
            checks.append(pa.Check(lambda s, k=known[ref]: s.isin(k)))
            rules[(col.name, len(checks) - 1)] = (f"known {col.name}", f"{col.name} not found in {ref}")
        columns[col.name] = pa.Column(None, checks, nullable=True, required=False)
    unique = list(table.key) if table.key and not table.sum_duplicates else None
    schema = pa.DataFrameSchema(columns, unique=unique, report_duplicates="all")
    frame = typed.reset_index(drop=True)
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        return _translate(table, file, frame, exc.failure_cases, rules)
    return []


def _translate(
    table: Table,
    file: str,
    frame: pd.DataFrame,
    cases: pd.DataFrame,
    rules: dict[tuple[str, int], tuple[str, str]],
) -> list[Problem]:
    problems: list[Problem] = []
    cases = cases[cases["index"].notna()].copy()
    uniq = cases["check"].astype(str).str.contains("uniqueness")
    if uniq.any():
        key = ", ".join(table.key)
        rows = cases.loc[uniq, "index"].astype(int).to_numpy()
        first = frame.iloc[np.unique(rows)[:5]][list(table.key)].astype(str)
        labels = tuple(" / ".join(r) for r in first.itertuples(index=False))
        problems.append(
            problem_for_rows(
                "error",
                table.name,
                file,
                key,
                f"unique ({key})",
                f"duplicate key: more than one row for the same {key}",
                rows,
                examples=labels,
            )
        )
    for (column, number), group in cases[~uniq].groupby(["column", "check_number"], sort=False):
        rule, message = rules.get((str(column), int(number)), (str(group["check"].iloc[0]), "rule failed"))
        problems.append(
            problem_for_rows(
                "error",
                table.name,
                file,
                str(column),
                rule,
                message,
                group["index"].astype(int).to_numpy(),
                frame[str(column)],
            )
        )
    return problems
