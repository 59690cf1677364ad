"""What-if scenarios: several changes across items, evaluated together, saved by name, compared.

A scenario is a list of changes (plain dicts, stored as JSON in the decision log):

| change | keys | effect |
|---|---|---|
| ``demand`` | sku, location, pct | the SKU-location's sensed demand x (1 + pct/100) |
| ``move`` | sku, location, order_id, weeks | an inbound order's receipt moved by some weeks |
| ``transfer`` | sku, to_location, from_location (blank: from outside), qty, week | qty lands at ``to_location`` in the horizon week; the donor ``from_location`` sends it the same week |

Every SKU-location a scenario touches (the donor side of a transfer too) is recomputed with the
projection's formulas (:func:`.review_data.what_if`, all its changes at once); the comparison shows,
per SKU-location and in total, units short and margin at risk in the base plan and in each scenario.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from .review_data import ReviewWeek, what_if

__all__ = ["CHANGE_KINDS", "compare_scenarios", "describe_change", "evaluate_scenario"]

CHANGE_KINDS = ("demand", "move", "transfer")


def describe_change(change: dict) -> str:
    """One line a meeting can read."""
    kind = change.get("kind")
    if kind == "demand":
        return f"demand of {change['sku']} @ {change['location']} {change['pct']:+g} %"
    if kind == "move":
        return f"order {change['order_id']} ({change['sku']} @ {change['location']}) moved {change['weeks']:+d} weeks"
    if kind == "transfer":
        src = f"from {change['from_location']}" if change.get("from_location") else "from outside"
        return f"transfer {change['qty']:,.0f} of {change['sku']} to {change['to_location']} {src} in week +{change['week']}"
    raise ValueError(f"unknown change kind {kind!r}: one of {', '.join(CHANGE_KINDS)}")


def _per_series(changes: list[dict]) -> dict[tuple[str, str], dict]:
    """The changes grouped by the SKU-location they act on (a transfer acts on two)."""
    out: dict[tuple[str, str], dict] = defaultdict(lambda: {"pct": 0.0, "moves": [], "transfers": []})
    for c in changes:
        describe_change(c)  # refuses an unknown kind
        if c["kind"] == "demand":
            out[(c["sku"], c["location"])]["pct"] += float(c["pct"])
        elif c["kind"] == "move":
            out[(c["sku"], c["location"])]["moves"].append((str(c["order_id"]), int(c["weeks"])))
        else:
            out[(c["sku"], c["to_location"])]["transfers"].append((float(c["qty"]), int(c["week"])))
            if c.get("from_location"):
                out[(c["sku"], c["from_location"])]["transfers"].append((-float(c["qty"]), int(c["week"])))
    return dict(out)


def evaluate_scenario(week: ReviewWeek, changes: list[dict]) -> pd.DataFrame:
    """Per SKU-location the scenario touches: units short and margin at risk, base and scenario."""
    rows = []
    for (sku, location), c in sorted(_per_series(changes).items()):
        series = week.series_rows(sku, location)
        if series["projection"].empty:
            continue  # not in this week's projection (a mistyped code): nothing to recompute
        base = what_if(series)
        new = what_if(series, c["pct"], moves=c["moves"], transfers=c["transfers"])
        rows.append({"sku": sku, "location": location, "base_shortage_qty": base.shortage_qty, "base_margin_at_risk": base.margin_at_risk,
                     "shortage_qty": new.shortage_qty, "margin_at_risk": new.margin_at_risk})
    return pd.DataFrame(rows, columns=["sku", "location", "base_shortage_qty", "base_margin_at_risk", "shortage_qty", "margin_at_risk"])


def compare_scenarios(week: ReviewWeek, scenarios: dict[str, list[dict]]) -> pd.DataFrame:
    """Side by side: per SKU-location any scenario touches, and in total, the base plan's units short
    and margin at risk and each scenario's (columns ``<name>: units short``, ``<name>: margin at risk``)."""
    evaluated = {name: evaluate_scenario(week, changes).set_index(["sku", "location"]) for name, changes in scenarios.items()}
    keys = sorted(set().union(*(e.index for e in evaluated.values()))) if evaluated else []
    index = pd.MultiIndex.from_tuples(keys, names=["sku", "location"]) if keys else pd.MultiIndex.from_tuples([], names=["sku", "location"])
    table = pd.DataFrame(index=index)
    base_all = [week.series_rows(s, loc) for s, loc in keys]
    base = [what_if(r) for r in base_all]
    table["base: units short"] = [b.shortage_qty for b in base]
    table["base: margin at risk"] = [b.margin_at_risk for b in base]
    for name, e in evaluated.items():
        # a SKU-location the scenario leaves alone keeps its base values
        table[f"{name}: units short"] = e["shortage_qty"].reindex(index).fillna(table["base: units short"])
        table[f"{name}: margin at risk"] = e["margin_at_risk"].reindex(index).fillna(table["base: margin at risk"])
    total = table.sum().to_frame().T
    total.index = pd.MultiIndex.from_tuples([("total", "")], names=["sku", "location"])
    return pd.concat([table, total]).reset_index()
