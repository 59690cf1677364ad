"""Disruption scenarios: named events that move the receipt weeks of the open lines they touch.

A scenario is a name and a list of events (YAML, ``docs/logistics.md``); each event moves lines, vectorised over
all of them, and the events apply in their order (a line a port closure moved can then be held by a carrier):

- ``port_closed`` (port, first_week, last_week): a line arriving at or leaving from the port (``destination`` or
  ``origin``) with its receipt week inside the closure arrives the week after it reopens;
- ``lane_delay`` (origin, destination, optional mode, weeks, from_week): a line on the lane due from that week on
  comes ``weeks`` later;
- ``carrier_capacity`` (carrier, pct, first_week, last_week): in each week of the window the carrier carries
  ``100 - pct`` % of the units due: its lines of that week in line order up to that share keep their week, the rest
  arrive the week after the window;
- ``supplier_stop`` (supplier, weeks, from_week): a line of the supplier not shipped yet and due from that week on
  comes ``weeks`` later.

:func:`moved_lines` returns one row per line that moved: the week before, the week after, the events that moved it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.weeks import parse_week
from ..core.yamlfile import read_yaml_file

__all__ = ["EVENTS", "Scenario", "ScenarioError", "describe_event", "moved_lines", "read_scenario"]



class ScenarioError(ValueError):
    """A scenario that cannot be applied: which event, which field, what is wrong."""


def _text(lines: pd.DataFrame, column: str) -> pd.Series:
    return lines[column].astype("string").fillna("").str.lower() if column in lines else pd.Series("", index=lines.index, dtype="string")


def _port_closed(lines: pd.DataFrame, eta: pd.Series, e: dict) -> pd.Series:
    first, last, port = e["first_week"], e["last_week"], str(e["port"]).lower()
    through = _text(lines, "destination").eq(port) | _text(lines, "origin").eq(port)
    hit = through & (eta >= first) & (eta <= last)
    return eta.where(~hit, last + pd.Timedelta(weeks=1))


def _lane_delay(lines: pd.DataFrame, eta: pd.Series, e: dict) -> pd.Series:
    on = _text(lines, "origin").eq(str(e["origin"]).lower()) & _text(lines, "destination").eq(str(e["destination"]).lower())
    if e.get("mode"):
        on &= _text(lines, "mode").eq(str(e["mode"]).lower())
    hit = on & (eta >= e["from_week"])
    return eta.where(~hit, eta + pd.Timedelta(weeks=int(e["weeks"])))


def _carrier_capacity(lines: pd.DataFrame, eta: pd.Series, e: dict) -> pd.Series:
    first, last = e["first_week"], e["last_week"]
    mine = _text(lines, "carrier").eq(str(e["carrier"]).lower()) & (eta >= first) & (eta <= last)
    qty = lines["qty"].where(mine, 0.0).astype(float)
    # units of the same week before each line (line order), against what the carrier still carries that week
    before = qty.groupby(eta.where(mine)).cumsum() - qty
    carried = qty.groupby(eta.where(mine)).transform("sum") * (1 - float(e["pct"]) / 100)
    held = mine & (before + qty > carried + 1e-9)
    return eta.where(~held, last + pd.Timedelta(weeks=1))


def _supplier_stop(lines: pd.DataFrame, eta: pd.Series, e: dict) -> pd.Series:
    shipped = lines["ship_week"].notna() & (lines["ship_week"] < e["from_week"]) if "ship_week" in lines else False
    hit = _text(lines, "supplier").eq(str(e["supplier"]).lower()) & (eta >= e["from_week"]) & ~shipped
    return eta.where(~hit, eta + pd.Timedelta(weeks=int(e["weeks"])))


# event kind -> (its fields: required, then optional; weeks are ISO weeks or dates, the move)
EVENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], Callable]] = {
    "port_closed": (("port", "first_week", "last_week"), (), _port_closed),
    "lane_delay": (("origin", "destination", "weeks", "from_week"), ("mode",), _lane_delay),
    "carrier_capacity": (("carrier", "pct", "first_week", "last_week"), (), _carrier_capacity),
    "supplier_stop": (("supplier", "weeks", "from_week"), (), _supplier_stop),
}
_WEEK_FIELDS = ("first_week", "last_week", "from_week")


def _checked(event: object, i: int) -> dict:
    """The event with its weeks parsed; a ScenarioError naming the event and the field otherwise."""
    if not isinstance(event, dict) or event.get("kind") not in EVENTS:
        kind = event.get("kind") if isinstance(event, dict) else event
        raise ScenarioError(f"event {i + 1}: kind must be one of {', '.join(EVENTS)}, not {str(kind)[:40]!r}")
    required, optional, _ = EVENTS[event["kind"]]
    missing = [f for f in required if event.get(f) in (None, "")]
    unknown = sorted(set(event) - {"kind", *required, *optional})
    if missing or unknown:
        raise ScenarioError(f"event {i + 1} ({event['kind']}): " + "; ".join(
            ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown field {', '.join(unknown)}"] if unknown else [])))
    out = dict(event)
    for field in set(_WEEK_FIELDS) & set(out):
        if isinstance(out[field], pd.Timestamp):  # checked already (read_scenario's events)
            continue
        try:
            out[field] = parse_week(out[field])
        except ValueError:
            raise ScenarioError(f"event {i + 1} ({event['kind']}): {field} is not an ISO week or a date: {str(out[field])[:40]!r}") from None
    for field, low, high in (("weeks", 0, 104), ("pct", 0, 100)):
        if field in out and not (isinstance(out[field], int | float) and low <= out[field] <= high):
            raise ScenarioError(f"event {i + 1} ({event['kind']}): {field} must be a number from {low} to {high}, not {str(out[field])[:40]!r}")
    if "first_week" in out and out["last_week"] < out["first_week"]:
        raise ScenarioError(f"event {i + 1} ({event['kind']}): last_week is before first_week")
    return out


def moved_lines(lines: pd.DataFrame, events: list[dict]) -> pd.DataFrame:
    """The open lines (``line_id``, ``week``, ``eta_week`` blank = planned, ``qty`` and the logistics columns) that
    the ``events`` move, in line order: ``eta_week`` before, ``scenario_eta_week`` after, ``moved_weeks``, and
    ``events`` (the numbers of the events that moved it, "2, 3")."""
    checked = [_checked(e, i) for i, e in enumerate(events)]
    eta = (lines["eta_week"].fillna(lines["week"]) if "eta_week" in lines else lines["week"]).astype("datetime64[ns]")
    start, by = eta.copy(), np.full(len(lines), "", dtype=object)
    for i, event in enumerate(checked):
        after = EVENTS[event["kind"]][2](lines, eta, event)
        changed = (after != eta).to_numpy()
        by[changed] = np.where(by[changed] == "", str(i + 1), by[changed] + f", {i + 1}")
        eta = after
    moved = (eta != start).to_numpy()
    out = lines.loc[moved, [c for c in ("line_id", "order_id", "sku", "location", "supplier", "mode", "origin", "destination", "carrier", "qty")
                            if c in lines]].copy()
    out["eta_week"], out["scenario_eta_week"] = start[moved], eta[moved]
    out["moved_weeks"] = ((out["scenario_eta_week"] - out["eta_week"]).dt.days // 7).astype("int64")
    out["events"] = by[moved]
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class Scenario:
    """A named list of events (checked: :func:`read_scenario`)."""

    name: str
    events: tuple[dict, ...]

    def moved(self, lines: pd.DataFrame, events: int | None = None) -> pd.DataFrame:
        """:func:`moved_lines` of ``lines`` under the first ``events`` events (all by default; 0: none moves)."""
        chosen = list(self.events if events is None else self.events[:events])
        return moved_lines(lines, chosen) if chosen else moved_lines(lines.iloc[:0], [])

    def describe(self, k: int) -> str:
        """Event ``k`` (from 1) in words: :func:`describe_event`."""
        return describe_event(self.events[k - 1])

    @property
    def slug(self) -> str:
        """The folder name the scenario is saved under: its name in lower case, letters, digits and dashes."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")[:60] or "scenario"


def read_scenario(path: str | Path) -> Scenario:
    """The scenario in a YAML file (``name``, ``events``: module doc); a :class:`ScenarioError` naming the file and
    what is wrong otherwise (nothing in it is executed: safe YAML, no aliases)."""
    doc = read_yaml_file(path, "scenario", ScenarioError)
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or not doc["name"].strip():
        raise ScenarioError(f"{path}: a scenario has a name (text) and a list of events")
    events = doc.get("events")
    if not isinstance(events, list) or not events:
        raise ScenarioError(f"{path}: '{doc['name'][:60]}' has no events (a list under 'events')")
    try:
        checked = tuple(_checked(e, i) for i, e in enumerate(events))
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    return Scenario(doc["name"].strip()[:120], checked)


def describe_event(event: dict) -> str:
    """One line a meeting can read ("port Hamburg closed 2026-W52 to 2027-W01")."""
    w = {k: v.strftime("%G-W%V") for k, v in event.items() if k in _WEEK_FIELDS}
    kind = event["kind"]
    if kind == "port_closed":
        return f"port {event['port']} closed {w['first_week']} to {w['last_week']}"
    if kind == "lane_delay":
        via = f" ({event['mode']})" if event.get("mode") else ""
        return f"lane {event['origin']} > {event['destination']}{via} {event['weeks']:g} weeks later from {w['from_week']}"
    if kind == "carrier_capacity":
        return f"carrier {event['carrier']} carries {event['pct']:g} % less {w['first_week']} to {w['last_week']}"
    return f"supplier {event['supplier']} ships nothing for {event['weeks']:g} weeks from {w['from_week']}"
