"""Findings about input data: one :class:`Problem` per rule broken, collected in a report.

Every problem names the file, column, rule and the offending rows. Rows are numbered as a
spreadsheet shows them: the header is row 1, so the first data row is row 2 (for Parquet files, the
same numbering over the records). Checks that produce problems live in :mod:`soe_lib.io.validation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["MAX_ROWS_SHOWN", "Problem", "Severity", "ValidationError", "ValidationReport", "problem_for_rows"]

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
        len(positions),
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
