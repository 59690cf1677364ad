"""What a decision keeps, and the meeting's minutes: the app's decision logic, used by the review app and by
``soe actions`` alike (the store itself, SQL only, is :mod:`soe_lib.io.decision_store`).

A decision on an item of a published week keeps the item's state (its money at risk, units short and cause now)
and the countermeasure's (type, target, units, expected net benefit and cost: the joint plan's, else the option's
own), so that next week's loop can follow it. :func:`option_state` is the one reading of a countermeasure row;
:func:`item_state` finds an item's row and its option in a week's tables (the CLI), and the app's record form
offers every feasible option of the selected item through the same function.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.excel import FORMULA_STARTS
from ..core.weeks import parse_week, week_label
from ..io.decision_store import ActionLog
from ..io.results import read_table, table_path

__all__ = ["action_text", "export_minutes", "item_base_state", "item_state", "option_state"]


def option_state(option: pd.Series) -> dict:
    """What a decision taking countermeasure row ``option`` keeps: its type, target (the order, the donor
    location, the substitute, the resource, or for a new order the week it arrives), pool, and the joint plan's
    units, net benefit and cost when the plan takes it, else the option's own."""
    planned = float(option["chosen_qty"] or 0.0) > 0
    arrive = week_label(parse_week(option["effective_week"])) if option["action"] == "new_order" else ""
    return {
        "action_type": str(option["action"]),
        "target": str(option["order_id"] or option["source_location"] or option["substitute_sku"] or option["resource"] or arrive or ""),
        "pool": str(option.get("pool", "") or ""),
        "qty": float((option["chosen_qty"] if planned else option["qty"]) or 0.0),
        "expected_benefit": float((option["chosen_net_benefit"] if planned else option["net_benefit"]) or 0.0),
        "expected_cost": float((option["chosen_cost"] if planned else option["cost"]) or 0.0),
    }


def action_text(option: pd.Series, qty: float | None = None) -> str:
    """The action as the minutes say it: ``re-plan: order 321 by 2026-W49 ...`` for a new order, else the
    lever and its detail (``pull in: PO-665 from 2026-W51 to 2026-W49``)."""
    if option["action"] == "new_order":
        return f"re-plan: order {qty if qty is not None else option_state(option)['qty']:,.0f} {option['detail']}"
    return f"{str(option['action']).replace('_', ' ')}: {option['detail']}"


def item_base_state(item: pd.Series) -> tuple[dict[str, str], dict]:
    """(the item's kind and keys, its state now: id, money at risk, units short, cause) of a decision-list row."""
    where = {"item_kind": str(item["kind"]), "sku": str(item["sku"] or ""), "location": str(item["location"] or ""),
             "resource": str(item["resource"] or "")}
    state = {"item_id": str(item["item_id"]), "item_money_at_risk": float(item["money_at_risk"] or 0.0),
             "item_shortage_qty": float(item["shortage_qty"] or 0.0), "item_cause": str(item["cause"] or "")}
    return where, state


def _option_for(options: pd.DataFrame, item: pd.Series, action_type: str | None) -> pd.Series | None:
    """The countermeasure of the item a decision takes: the joint plan's largest move (of ``action_type``
    when given), else the best feasible option of that type on its own."""
    if item["kind"] != "sku-location" or options.empty:
        return None
    mine = options[(options["sku"] == item["sku"]) & (options["location"] == item["location"]) & options["feasible"] & (options["qty"] > 0)]
    if action_type:
        mine = mine[mine["action"] == action_type]
    planned = mine[mine["chosen_qty"] > 0].sort_values("chosen_net_benefit", ascending=False)
    if len(planned):
        return planned.iloc[0]
    return mine.sort_values("net_benefit", ascending=False).iloc[0] if len(mine) else None


def item_state(tables_dir: Path, item_id: str, action_type: str | None = None) -> tuple[dict[str, str], dict, str]:
    """What a decision on ``item_id`` of a published week keeps: (the item's kind and keys, its state and the
    chosen countermeasure's (:func:`option_state`), a default action text). Raises KeyError when the week's
    decision list has no such item."""
    items = read_table(tables_dir, "decision_list")
    found = items[items["item_id"] == item_id]
    if found.empty:
        raise KeyError(f"no item {item_id} in {tables_dir.parent.name}'s decision list")
    item = found.iloc[0]
    where, state = item_base_state(item)
    options = read_table(tables_dir, "countermeasures") if table_path(tables_dir, "countermeasures").exists() else pd.DataFrame()
    option = _option_for(options, item, action_type)
    if option is None:
        return where, {**state, "action_type": action_type or ""}, str(item["best_action"] or "")
    state |= option_state(option)
    return where, state, action_text(option, state["qty"])


def export_minutes(log: ActionLog, week: str, folder: Path) -> tuple[Path, Path]:
    """The week's decisions and status changes as ``minutes.md`` and ``minutes.csv`` in ``folder`` (the CSV is
    opened in Excel: text that would run as a formula gets a leading apostrophe)."""
    folder.mkdir(parents=True, exist_ok=True)
    ev = log.events_in(week)
    csv_path, md_path = folder / "minutes.csv", folder / "minutes.md"
    typed = ev.select_dtypes(include=["object", "string"]).columns
    ev.assign(**{c: ev[c].map(lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v) for c in typed}).to_csv(csv_path, index=False)
    lines = [f"# S&OE meeting minutes, week {week}", ""]
    recorded = ev[ev["event"] == "recorded"]
    changed = ev[ev["event"] == "status"]
    lines += ["## Decisions", ""] + (
        [f"- #{r.action_id} {r.action} ({r.sku} @ {r.location}) - owner {r.owner}; {r.note}".rstrip("; ") for r in recorded.itertuples()]
        or ["- none"]
    )
    lines += ["", "## Status changes", ""] + (
        [f"- #{r.action_id} {r.action}: {r.status} ({r.by}); {r.note}".rstrip("; ") for r in changed.itertuples()] or ["- none"]
    )
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return md_path, csv_path
