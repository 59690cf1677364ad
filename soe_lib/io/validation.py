"""Validation of raw input tables against the input contract (:mod:`soe_lib.core.contract`).

Every problem is collected before anything stops (never fail on the first one), and each
:class:`~soe_lib.core.problems.Problem` names the file, column, rule and the offending rows.

Typing is done here by hand (codes to text, numbers with ``to_numeric``, weeks with
:func:`soe_lib.core.weeks.parse_weeks`) because a failed coercion must name its rows and must not hide the
other rules of that column; the value rules (bounds, allowed values) are then checked on
the typed frame by a pandera schema built from the contract, lazily, and its failure cases are
translated into :class:`Problem` rows; references (sku, location) by one lookup per distinct code. Unique keys are checked on int-coded keys (:func:`key_codes`):
at 15M rows that is seconds faster than comparing strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..core.contract import MAX_NUMBER, Column, Table
from ..core.problems import Problem, problem_for_rows
from ..core.weeks import SLASHED, parse_weeks, slashed_order, week_label

__all__ = [
    "Codes",
    "check_references",
    "check_values",
    "column_dtype",
    "duplicate_positions",
    "key_codes",
    "position_in",
    "type_table",
]

Codes = dict[str, tuple[np.ndarray, pd.Index]]  # column -> (code per row, -1 = missing; distinct typed values)


def _distinct(raw: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """``(codes, uniques)`` of a text column (None for numbers/dates); uniques trimmed, as str.

    Every text rule is applied to the distinct values and mapped back by code: a 15M-row column
    with 25k distinct skus costs one hash pass (none for a dictionary-encoded column), not 15M
    Python string operations.
    """
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes, uniques = raw.cat.codes.to_numpy().astype(np.int64), raw.cat.categories
    elif raw.dtype == object or pd.api.types.is_string_dtype(raw):
        codes, uniques = pd.factorize(raw)
    else:
        return None
    return codes, pd.Series(pd.Index(uniques).astype("str"), dtype="str").str.strip()


def _canonical(codes: np.ndarray, typed_uniques: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes over the *typed* distinct values ('A' and 'A ' are one code once trimmed)."""
    again, distinct = pd.factorize(typed_uniques)
    lookup = np.append(again, -1).astype(np.int32)  # code -1 (missing) picks the appended -1
    return lookup[codes], pd.Index(distinct)


def _take(uniques: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """``uniques[codes]`` with code -1 (missing) as missing, on the original row index."""
    values = pd.array(uniques.to_numpy(), dtype=uniques.dtype).take(codes, allow_fill=True)
    return pd.Series(values, index=index)


def _as_code(raw: pd.Series, distinct: tuple[np.ndarray, pd.Series] | None) -> pd.Series:
    """Codes are text. Integral floats (a Parquet/Excel column read as numbers) lose their '.0'."""
    if distinct is not None:
        codes, uniques = distinct
        return _take(uniques.mask(uniques == ""), codes, raw.index)
    if pd.api.types.is_float_dtype(raw):
        whole = raw.dropna()
        if len(whole) and np.all(np.mod(whole, 1) == 0):
            raw = raw.astype("Int64")
    out = raw.astype("str").mask(raw.isna())
    return out.mask(out == "")


def _type_number(values: pd.Series, distinct: tuple[np.ndarray, pd.Series] | None) -> pd.Series:
    """Numbers as float64 (NaN where not a number), parsing each distinct text once."""
    if distinct is None:
        return pd.to_numeric(values, errors="coerce").astype("float64")
    numbers = pd.to_numeric(distinct[1], errors="coerce").astype("float64").to_numpy()
    return pd.Series(np.append(numbers, np.nan)[distinct[0]], index=values.index)  # code -1: missing


def _type_week(values: pd.Series, distinct: tuple[np.ndarray, pd.Series] | None) -> tuple[pd.Series, tuple | None]:
    """Weeks as ISO Mondays (NaT where not a week), and the codes over the distinct parsed weeks."""
    if distinct is None:
        return parse_weeks(values), None
    parsed = parse_weeks(distinct[1])
    typed = pd.Series(np.append(parsed.to_numpy(), np.datetime64("NaT"))[distinct[0]], index=values.index)
    return typed, _canonical(distinct[0], parsed)


def _absurd_numbers(table: Table, col: Column, typed: pd.Series, values: pd.Series, file: str) -> list[Problem]:
    """``inf`` and values beyond :data:`MAX_NUMBER`: they pass a number check and wreck every sum after."""
    x = typed.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        infinite = np.isinf(x)
        huge = ~infinite & (np.abs(x) > MAX_NUMBER)
    problems = []
    if infinite.any():
        problems.append(problem_for_rows("error", table.name, file, col.name, "finite number", "infinite value", np.flatnonzero(infinite), values))
    if huge.any():
        problems.append(
            problem_for_rows("error", table.name, file, col.name, f"at most {MAX_NUMBER:g}", f"absurd value (beyond {MAX_NUMBER:g})", np.flatnonzero(huge), values)
        )
    return problems


UNREADABLE = {"number": ("number", "not a number"), "week": ("week", "not an ISO week (2026-W48) or a date")}


def _type_column(table: Table, col: Column, values: pd.Series, file: str, as_codes: bool = False) -> tuple[pd.Series, list[Problem], tuple | None]:
    """One contract column typed, the problems of its values, and its distinct-value codes (or None).
    ``as_codes``: a text column as a categorical of its distinct values, its rows never made strings."""
    distinct = _distinct(values)
    if distinct is not None:
        codes, uniques = distinct
        blank = (codes < 0) | np.append(uniques.to_numpy() == "", False)[codes]  # code -1 picks the extra
    else:
        blank = values.isna().to_numpy()
    codes_out = None
    if col.kind in ("code", "text"):
        if distinct is not None:
            codes_out = _canonical(distinct[0], distinct[1].mask(distinct[1] == ""))
        if as_codes and codes_out is not None:
            typed = pd.Series(pd.Categorical.from_codes(codes_out[0], categories=codes_out[1].astype("str")), index=values.index)
        else:
            typed = _as_code(values, distinct)
    elif col.kind == "number":
        typed = _type_number(values, distinct)
    else:
        typed, codes_out = _type_week(values, distinct)
    problems = []
    if col.kind == "week" and (order := slashed_order(distinct[1] if distinct is not None else values.dropna().unique())) in ("ambiguous", "mixed"):
        slashed = values.astype("string").str.match(SLASHED.pattern).fillna(False).to_numpy(dtype=bool)
        why = ("dates with slashes that read as day/month and as month/day alike (03/11/2025: 3 November or 11 March?)" if order == "ambiguous"
               else "dates with slashes written day-first (25/11/2026) and month-first (11/25/2026) in one column")
        problems.append(problem_for_rows("error", table.name, file, col.name, "one date order", why + ": write ISO dates (2025-11-03) or ISO weeks (2025-W45)",
                                         np.flatnonzero(slashed), values))
        blank = blank | slashed  # said here, not again as unreadable
    if col.kind in UNREADABLE:
        bad = ~blank & typed.isna().to_numpy()
        if bad.any():
            rule, message = UNREADABLE[col.kind]
            problems.append(problem_for_rows("error", table.name, file, col.name, rule, message, np.flatnonzero(bad), values))
    if col.kind == "number":
        problems.extend(_absurd_numbers(table, col, typed, values, file))
    if blank.any() and not col.nullable:
        problems.append(problem_for_rows("error", table.name, file, col.name, "not blank", "missing value", np.flatnonzero(blank)))
    return typed, problems, codes_out


def type_table(table: Table, raw: pd.DataFrame, file: str, key_codes_only: bool = False) -> tuple[pd.DataFrame, list[Problem], Codes]:
    """Type the contract columns of ``raw`` (codes->text, numbers->float, weeks->ISO Monday).

    ``key_codes_only``: ``sku`` and ``location`` typed as categoricals of their distinct values (for the
    large tables, whose keys the loader turns into categories anyway: 15M strings never made).

    Returns the typed frame (extra columns kept as they are), the problems found (missing
    columns, empty required table, missing values, values that are not numbers or weeks), and the
    integer codes of the text and week columns, so key and reference checks need no second hash pass.
    """
    problems: list[Problem] = []
    codes_out: Codes = {}
    out = raw.copy(deep=False)  # typed columns replace raw ones; extra columns are shared, not copied
    if table.required and len(raw) == 0:
        if table.may_be_empty:
            problems.append(Problem("warning", table.name, file, "", "not empty", "the table has no rows: nothing is on order, every gap is short of all its demand"))
        else:
            problems.append(Problem("error", table.name, file, "", "not empty", "the table has no rows"))
    for col in table.columns:
        if col.name not in raw.columns:
            if col.required:
                found = ", ".join(map(str, raw.columns)) or "none"
                problems.append(
                    Problem("error", table.name, file, col.name, "required column", f"column '{col.name}' is missing (found: {found})")
                )
            out[col.name] = pd.Series(index=raw.index, dtype=column_dtype(col))  # all missing
            continue
        typed, found, codes = _type_column(table, col, raw[col.name], file, key_codes_only and col.name in ("sku", "location"))
        problems.extend(found)
        if codes is not None:
            codes_out[col.name] = codes
        out[col.name] = typed
    return out, problems, codes_out


def key_codes(frame: pd.DataFrame, key: list[str] | tuple[str, ...], cached: Codes | None = None) -> np.ndarray:
    """One int64 per row identifying its key: each column's codes combined in mixed radix.

    Codes come from ``cached`` (:func:`type_table`) or one factorisation per column: far cheaper
    than ``DataFrame.duplicated`` on 15M strings.
    """
    cached = cached or {}
    combined = np.zeros(len(frame), dtype=np.int64)
    for col in key:
        if col in cached:
            codes, uniques = cached[col]
        else:
            codes, uniques = pd.factorize(frame[col])
        combined *= len(uniques) + 1
        combined += codes
        combined += 1  # missing (-1) is its own value
    return combined


def duplicate_positions(frame: pd.DataFrame, key: list[str] | tuple[str, ...], cached: Codes | None = None) -> np.ndarray:
    """Positions of every row whose key occurs more than once (empty when the key is unique)."""
    if len(frame) < 2:
        return np.array([], dtype=np.int64)
    codes = key_codes(frame, key, cached)
    if (codes[1:] > codes[:-1]).all():  # rows in key order, each key once (as extracts by item come): no count needed
        return np.array([], dtype=np.int64)
    if codes.max() < 200_000_000:  # dense enough: count with bincount, O(rows)
        repeated = np.bincount(codes)[codes] > 1
    else:
        repeated = pd.Series(codes).duplicated(keep=False).to_numpy()
    return np.flatnonzero(repeated)


def column_dtype(col: Column) -> str:
    """The pandas dtype a contract column has once typed."""
    return {"code": "string", "text": "string", "number": "float64", "week": "datetime64[ns]"}[col.kind]


def _value_rule(col: Column) -> tuple[pa.Check, str, str] | None:
    if col.min is None:
        return None
    if col.min_exclusive:
        return pa.Check.gt(col.min), f"> {col.min:g}", f"must be greater than {col.min:g}"
    return pa.Check.ge(col.min), f">= {col.min:g}", "negative value"


def _upper_rule(col: Column) -> tuple[pa.Check, str, str] | None:
    if col.max is None:
        return None
    return pa.Check.le(col.max), f"<= {col.max:g}", f"must be at most {col.max:g}"


def _key_labels(rows: pd.DataFrame, key: tuple[str, ...]) -> tuple[str, ...]:
    """``a / b / c`` per row of its key's values (a blank value as blank: a location left empty holds everywhere)."""
    def text(v: object) -> str:
        return "" if pd.isna(v) else week_label(v) if isinstance(v, pd.Timestamp) else str(v)

    return tuple(" / ".join(text(v) for v in r) for r in rows[list(key)].itertuples(index=False))


def check_values(table: Table, typed: pd.DataFrame, file: str, cached: Codes | None = None) -> list[Problem]:
    """Check bounds, allowed values and unique keys on a typed table (references: :func:`check_references`)."""
    rules: dict[tuple[str, int], tuple[str, str]] = {}
    columns: dict[str, pa.Column] = {}
    for col in table.columns:
        checks: list[pa.Check] = []
        for value in (_value_rule(col), _upper_rule(col)):
            if value:
                checks.append(value[0])
                rules[(col.name, len(checks) - 1)] = value[1:]
        if col.allowed:
            checks.append(pa.Check(lambda s, a=col.allowed: s.str.lower().isin(a)))
            rules[(col.name, len(checks) - 1)] = ("one of " + "/".join(col.allowed), "value not allowed")
        columns[col.name] = pa.Column(None, checks, nullable=True, required=False)
    schema = pa.DataFrameSchema(columns)
    frame = typed.reset_index(drop=True)
    problems: list[Problem] = []
    if table.key and not table.sum_duplicates:  # unique keys: int-coded, see key_codes
        dup = duplicate_positions(frame, table.key, cached)
        if len(dup):
            key = ", ".join(table.key)
            labels = _key_labels(frame.iloc[dup[:5]], table.key)
            problems.append(
                problem_for_rows(
                    "error", table.name, file, key, f"unique ({key})",
                    f"duplicate key: more than one row for the same {key}", dup, examples=labels,
                )
            )
    line_key = tuple(c for c in table.line_key if c in frame)  # an order line: its order and line, when given
    if line_key and line_key[0] == table.line_key[0] and len(line_key) > 1 and len(frame):
        given = frame[line_key[0]].notna().to_numpy()
        dup = np.flatnonzero(given)[duplicate_positions(frame[given].reset_index(drop=True), line_key)]
        if len(dup):
            key = ", ".join(line_key)
            labels = _key_labels(frame.iloc[dup[:5]], line_key)
            problems.append(problem_for_rows("error", table.name, file, key, f"unique ({key})",
                                             f"the same line twice: more than one row for the same {key} (it would be counted twice)", dup, examples=labels))
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        problems.extend(_translate(table, file, frame, exc.failure_cases, rules))
    return problems


def position_in(values: pd.Series, index: pd.Index, cached: tuple[np.ndarray, pd.Index] | None = None) -> np.ndarray:
    """Position of each value in ``index`` (-1 if absent or missing), looking each distinct value up once."""
    codes, uniques = cached if cached is not None else pd.factorize(values)
    found = index.get_indexer(uniques)
    if not len(found):  # every value blank (an optional reference left empty)
        return np.full(len(codes), -1, dtype=np.int64)
    if not len(codes) or codes.min() >= 0:  # no blank (a key column): one gather, not four passes over 9M rows
        return found[codes]
    return np.where(codes >= 0, found[np.maximum(codes, 0)], -1)


def check_references(
    table: Table, typed: pd.DataFrame, file: str, known: dict[str, pd.Index], cached: Codes | None = None
) -> tuple[dict[str, np.ndarray], list[Problem]]:
    """Every sku / location must exist in products / locations.

    Returns the positions found (reused to build the int series keys) and the problems.
    """
    positions: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    for column, ref in table.references.items():
        if ref not in known or column not in typed:
            continue
        pos = position_in(typed[column], known[ref], (cached or {}).get(column))
        positions[column] = pos
        bad = (pos < 0) & typed[column].notna().to_numpy()
        if bad.any():
            problems.append(
                problem_for_rows(
                    "error", table.name, file, column, f"known {column}", f"{column} not found in {ref}",
                    np.flatnonzero(bad), typed[column],
                )
            )
    return positions, problems


def _translate(
    table: Table,
    file: str,
    frame: pd.DataFrame,
    cases: pd.DataFrame,
    rules: dict[tuple[str, int], tuple[str, str]],
) -> list[Problem]:
    problems: list[Problem] = []
    cases = cases[cases["index"].notna()]
    for (column, number), group in cases.groupby(["column", "check_number"], sort=False):
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
