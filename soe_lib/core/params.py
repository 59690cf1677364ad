"""Parameter declarations: the one source of every run parameter's name, type, default, range and meaning.

Each step declares its parameters as a frozen dataclass whose fields are :func:`param` (see
``SensingParams`` in :mod:`soe_lib.sensing`, for instance). From those declarations come:

- the engines' defaults (the dataclass itself);
- ``parameters/*.yaml``, the defaults as files a user copies and edits (``soe params`` writes them;
  a test proves the committed files equal the declarations);
- the notebooks' ``parameters`` cells (a test proves every notebook declares its steps' parameters
  with these defaults);
- the checks ``soe run`` makes before any notebook starts (:func:`check_value`: type and range).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import types
import typing
from dataclasses import dataclass
from typing import Any

from .weeks import parse_week

__all__ = ["HORIZON_WEEKS", "CycleParams", "EngineParams", "FocusParams", "MoneyParams", "ParamSpec", "ParameterError", "check_value", "param", "param_specs", "shown"]


class ParameterError(ValueError):
    """A parameter value, file or override is invalid (unknown name, wrong type, out of range, bad YAML)."""


def param(
    default: Any,
    doc: str,
    *,
    min: float | None = None,  # noqa: A002 (the word a reader expects)
    max: float | None = None,  # noqa: A002
    choices: tuple[str, ...] | None = None,
    week: bool = False,
) -> Any:
    """A declared parameter: a dataclass field with its meaning and allowed range (bounds inclusive)."""
    meta = {"doc": doc, "min": min, "max": max, "choices": choices, "week": week}
    return dataclasses.field(default=default, metadata={"soe": meta})


@dataclass(frozen=True)
class ParamSpec:
    """What is declared about one parameter."""

    name: str
    group: str  # the declaring class
    kind: str  # int, float, str or bool
    nullable: bool
    default: Any
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    week: bool = False

    @property
    def rule(self) -> str:
        """The allowed values in words (used in messages and docs)."""
        parts = ["ISO week or date" if self.week else {"int": "whole number", "float": "number", "str": "text", "bool": "true/false"}[self.kind]]
        if self.min is not None and self.max is not None:
            parts.append(f"{self.min:g} to {self.max:g}")
        elif self.min is not None:
            parts.append(f">= {self.min:g}")
        elif self.max is not None:
            parts.append(f"<= {self.max:g}")
        if self.choices:
            parts.append("one of " + "/".join(self.choices))
        if self.nullable:
            parts.append("or null")
        return ", ".join(parts)


def _kind(hint: Any) -> tuple[str, bool]:
    """(int/float/str/bool, nullable) from a field's type hint."""
    args = typing.get_args(hint)
    nullable = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    base = next((a for a in args if a is not type(None)), hint) if nullable else hint
    return base.__name__, nullable


def param_specs(cls: type) -> list[ParamSpec]:
    """The declared parameters of a parameter class, in declaration order (fields without
    :func:`param` metadata are internal settings, not run parameters)."""
    hints = typing.get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("soe")
        if meta is None:
            continue
        kind, nullable = _kind(hints[f.name])
        specs.append(ParamSpec(f.name, cls.__name__, kind, nullable, f.default, **meta))
    return specs


SHOWN_CHARACTERS = 200  # a value in a message or a log line is cut to this: a 200 MB value is not echoed


def shown(value: Any, limit: int = SHOWN_CHARACTERS) -> str:
    """``repr(value)`` cut to ``limit`` characters (saying how long it was)."""
    text = repr(value) if not isinstance(value, (list, dict)) or len(value) < 10_000 else f"<{type(value).__name__} of {len(value):,} items>"
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def check_value(spec: ParamSpec, value: Any, source: str = "parameters") -> Any:
    """``value`` if it fits ``spec`` (an int is accepted for a float), else :class:`ParameterError`
    naming the source, the parameter, the rule and the value."""

    def refuse(why: str) -> ParameterError:
        return ParameterError(f"{source}: parameter '{spec.name}' must be {spec.rule}; {why}: {shown(value)}")

    if value is None:
        if spec.nullable:
            return None
        raise refuse("got null")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise refuse("not true/false")
        return value
    if spec.kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise refuse("not a number")
        if spec.kind == "int" and not (isinstance(value, int) or float(value).is_integer()):
            raise refuse("not a whole number")
        if not math.isfinite(value):
            raise refuse("not finite")
        if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
            raise refuse("out of range")
        return int(value) if spec.kind == "int" else float(value)
    if spec.week and isinstance(value, dt.date):  # YAML reads 2026-11-23 as a date
        value = value.isoformat()
    if not isinstance(value, str):
        raise refuse("not text")
    if spec.choices and value not in spec.choices:
        raise refuse("not allowed")
    if spec.week:
        try:
            parse_week(value)
        except ValueError:
            raise refuse("not a week") from None
    return value


@dataclass(frozen=True)
class CycleParams:
    """Parameters of the weekly S&OE run: every weekly notebook declares them."""

    data_dir: str | None = param(None, "Folder with the input tables (see docs/data-contract.md); null = the built-in sample company.")
    week: str | None = param(
        None, "Run week, as an ISO week (2026-W48) or any date in it; null = the week after the last week of actuals.", week=True
    )
    horizon_weeks: int = param(13, "Weeks ahead the cycle looks at (plan coverage, projections).", min=1, max=104)


# the cycle's horizon when no run says otherwise: every engine function's default comes from the declaration
HORIZON_WEEKS: int = CycleParams.horizon_weeks


@dataclass(frozen=True)
class FocusParams:
    """The SKU-location the sensing and supply notebooks chart."""

    focus_sku: str | None = param(None, "SKU to chart; null = each notebook's worst case (quote codes: \"00123\").")
    focus_location: str | None = param(None, "Location to chart; null = each notebook's worst case.")


@dataclass(frozen=True)
class EngineParams:
    """Where the per-series work of a run happens (set by ``soe run --engine``; docs/scale.md)."""

    engine: str = param("local", "Where the per-series work runs: local (in the notebook's process) or dask (a Dask cluster).",
                        choices=("local", "dask"))
    scheduler: str | None = param(None, "Dask scheduler address (tcp://host:8786); null = a local cluster of 2 worker processes on 127.0.0.1.")
    partitions: int = param(8, "Parts the SKU-locations are split into on Dask for sensing (a few per worker); supply and finance use one per 100k, at most this many.",
                            min=1, max=100_000)


@dataclass(frozen=True)
class MoneyParams:
    """How units become money (the projection kernel, :mod:`soe_lib.core.kernel`): one policy for money at risk,
    the estimate, every option, the plan, the what-if and last week's credit."""

    backorder_share: float = param(
        0.0, "Share of customers who wait for an item out of stock (delivered late, not lost); the rest buy elsewhere. The products' or "
        "locations' backorder_share column overrides it. One policy for money at risk, the estimate, every option and the plan.", min=0, max=1,
    )
    delay_cost_share: float = param(
        0.01, "What a week of waiting costs per unit backordered, as a share of its price (discounts, penalties, goodwill).", min=0, max=1,
    )
    overflow_cost_per_unit: float = param(
        1.0, "Cost of one unit over storage capacity (external storage, handling), per week.", min=0, max=1e9
    )
