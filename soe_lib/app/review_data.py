"""What the review app shows, as plain data (unit-testable without a browser).

Everything comes from what the weekly run wrote in ``outputs/<week>/`` (tables and the archived
inputs) and from the action log; nothing is recomputed except the what-if of one SKU-location.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.kernel import Policy, backorder_shares, spread_of
from ..core.kernel import flows as kernel_flows
from ..core.kernel import money as kernel_money
from ..core.params import HORIZON_WEEKS
from ..core.weeks import parse_weeks
from ..io.archive import list_runs
from ..io.results import table_path

__all__ = [
    "ITEM_COLUMNS", "KPI_DEFINITIONS", "KPI_NAMES", "ReviewWeek", "WhatIf", "action_counts", "available_weeks", "filter_items", "headline_text",
    "item_names", "kpi_history", "kpi_tiles", "item_table", "previous_figures", "top_decisions", "what_if",
]

KPI_NAMES = (
    "plan accuracy", "plan bias", "projected fill rate", "revenue at risk", "margin at risk",
    "gap to financial plan", "open actions", "overdue actions",
)

# what each tile measures (the tile's tooltip): the formula in words, and what it covers
KPI_DEFINITIONS = {
    "plan accuracy": "1 - WAPE of the demand plan against actual demand over the last weeks of actuals (all SKU-locations together).",
    "plan bias": "(plan - actual) / actual over the same weeks: above zero the plan was too high, below too low; worse further from zero.",
    "projected fill rate": "Share of the horizon's demand the projected stock and supply can serve, after capacity limits.",
    "revenue at risk": "Revenue of the units the projection cannot deliver within the horizon (lost sales and late deliveries).",
    "margin at risk": "Margin (price - cost) of the units at risk, plus the cost of the customers who wait: the projection kernel's money.",
    "gap to financial plan": "Latest revenue estimate (sensed demand the supply can serve) minus the financial plan, over the horizon.",
    "open actions": "Actions recorded in earlier meetings and not yet done or cancelled.",
    "overdue actions": "Open actions past their due week.",
}
MONEY_KPIS = ("revenue at risk", "margin at risk", "gap to financial plan")
HISTORY_KPIS = ("plan accuracy", "plan bias")  # these look back at actuals; the others cover the horizon ahead


def _read(path: Path, damaged: dict[str, str]) -> pd.DataFrame:
    """A run table; sku and location as categoricals, so picking one item out of millions of rows
    compares integer codes, not strings. A file that cannot be read is noted in ``damaged`` (for the
    page to say) and read as empty, so the rest of the page still works."""
    if not path.exists():
        return pd.DataFrame()
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # a damaged file: name it, never show its path or a traceback
        damaged[f"{path.parent.name}/{path.stem}"] = type(exc).__name__
        return pd.DataFrame()
    if "sku" in frame and "location" in frame and len(frame) > 10_000:
        for col in ("sku", "location"):
            frame[col] = frame[col].astype("category")
        if _series_blocks(frame) is None:  # rows of one SKU-location apart (e.g. actuals appended week by week): group them once
            order = np.lexsort((frame["location"].cat.codes.to_numpy(), frame["sku"].cat.codes.to_numpy()))
            frame = frame.iloc[order].reset_index(drop=True)
    return frame


def available_weeks(out: Path) -> list[str]:
    """Weeks with a successful run, newest first."""
    return [r["week"] for r in list_runs(out) if r.get("status") == "succeeded"]


@dataclass(frozen=True, eq=False)  # identity: each instance keeps its own cache and its own list of damaged files
class ReviewWeek:
    folder: Path
    damaged: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # tables that cannot be read

    @property
    def week(self) -> str:
        return self.folder.name

    @functools.cache  # noqa: B019 (one ReviewWeek per selected week; the cache lives with it)
    def table(self, name: str) -> pd.DataFrame:
        return _read(table_path(self.folder / "tables", name), self.damaged)

    @functools.cache  # noqa: B019
    def inputs(self, name: str) -> pd.DataFrame:
        return _read(self.folder / "inputs" / f"{name}.parquet", self.damaged)

    @functools.cache  # noqa: B019 (every filter change and selection reads it)
    def items(self) -> pd.DataFrame:
        """The decision list with each item's family (for filtering)."""
        items = self.table("decision_list")
        if items.empty:
            return items
        family = self.inputs("products").set_index("sku")["family"] if len(self.inputs("products")) else pd.Series(dtype=str)
        return items.assign(family=items["sku"].map(family).fillna(""))

    @functools.cache  # noqa: B019
    def scenarios(self) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
        """The disruption scenarios saved with the week (``soe scenario run``): per scenario name, its
        ``scenario_comparison`` and ``scenario_lines`` rows."""
        folder = self.folder / "scenarios"
        out = {}
        for saved in sorted(folder.iterdir()) if folder.is_dir() else []:
            comparison = _read(saved / "scenario_comparison.parquet", self.damaged)
            if len(comparison):
                out[str(comparison["scenario"].iloc[0])] = (comparison, _read(saved / "scenario_lines.parquet", self.damaged))
        return out

    @functools.cache  # noqa: B019
    def parameters(self) -> dict:
        """The run's parameters (its ``parameters.json``; empty for a folder without one)."""
        import json

        path = self.folder / "parameters.json"
        try:
            return json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            self.damaged["parameters"] = "unreadable"
            return {}

    @property
    def currency(self) -> str:
        """The currency of the run's money (its ``currency`` parameter)."""
        return str(self.parameters().get("currency") or "USD")

    @property
    def horizon_weeks(self) -> int:
        return int(self.parameters().get("horizon_weeks") or HORIZON_WEEKS)

    def policy_of(self, sku: str, location: str) -> Policy:
        """The run's policy for one SKU-location: its backorder share (product, location, parameter) and the delay cost share."""
        p = self.parameters()
        keys = pd.DataFrame({"sku": [sku], "location": [location]})
        locations = self.inputs("locations")
        share = backorder_shares(keys, self.inputs("products"), locations if len(locations) else None, float(p.get("backorder_share", 0.0)))
        return Policy(share, float(p.get("delay_cost_share", 0.0)))

    def headline(self) -> dict[str, float]:
        """The numbers behind the KPI tiles (see :data:`KPI_NAMES`, without the action counts)."""
        total = self.table("forecast_accuracy_by_total")
        supply = self.table("supply_headline")
        impact = self.table("financial_impact")
        pve = self.table("plan_vs_estimate")
        fill = supply.set_index("measure")["value"].get("projected fill rate", np.nan) if len(supply) else np.nan
        return {
            "plan accuracy": float(total["accuracy"].iloc[0]) if len(total) else np.nan,
            "plan bias": float(total["bias"].iloc[0]) if len(total) else np.nan,
            "projected fill rate": float(fill),
            "revenue at risk": float(impact["revenue_at_risk"].sum()) if len(impact) else 0.0,
            "margin at risk": float(impact["margin_at_risk"].sum()) if len(impact) else 0.0,
            "gap to financial plan": float(pve["gap"].sum()) if len(pve) and pve["revenue_plan"].notna().any() else np.nan,
        }

    def warm(self) -> None:
        """Read every table the drill-down picks from, so the first selection is as fast as the next
        (done while Voila prepares the page, before anyone asks)."""
        tables = [self.table(n) for n in ("sensed_demand", "inventory_projection", "inbound_delays", "countermeasures", "supply_gaps", "gap_causes")]
        inputs = [self.inputs(n) for n in ("actuals", "demand_plan", "inventory", "routings", "products")]
        for frame in tables + inputs:
            if len(frame) > 10_000 and "sku" in frame and "location" in frame:
                _series_blocks(frame)

    def series_rows(self, sku: str, location: str) -> dict[str, pd.DataFrame]:
        """Everything about one SKU-location for the drill-down."""
        def pick(frame: pd.DataFrame) -> pd.DataFrame:
            if frame.empty or "sku" not in frame:
                return frame
            span = _sorted_span(frame, sku, location)
            if span is not None:  # a table in (sku, location) order: two binary searches, not a scan of millions of rows
                return frame.iloc[span[0] : span[1]].reset_index(drop=True)
            return frame[(frame["sku"] == sku) & (frame["location"] == location)].reset_index(drop=True)

        routes = pick(self.inputs("routings"))
        cap = self.table("capacity_load")
        return {
            "actuals": pick(self.inputs("actuals")),
            "plan": pick(self.inputs("demand_plan")),
            "sensed": pick(self.table("sensed_demand")),
            "projection": pick(self.table("inventory_projection")),
            "orders": pick(self.table("inbound_delays")),
            "options": pick(self.table("countermeasures")),
            "gaps": pick(self.table("supply_gaps")),
            "causes": pick(self.table("gap_causes")),
            "capacity": cap[cap["resource"].isin(routes["resource"])] if len(cap) and len(routes) else pd.DataFrame(),
            "inventory": pick(self.inputs("inventory")),
            "product": self.inputs("products")[self.inputs("products")["sku"] == sku],
            "policy": self.policy_of(sku, location),
            "allocation": pick(self.table("order_allocation")),
            "promise": pick(self.table("available_to_promise")),
        }


_SPANS: dict[int, tuple[pd.Index, pd.Index, np.ndarray, np.ndarray] | None] = {}


def _series_blocks(frame: pd.DataFrame) -> tuple[pd.Index, pd.Index, np.ndarray, np.ndarray] | None:
    """For a large table whose sku and location are categoricals and whose rows of each SKU-location
    are together (as the run writes them): (sku categories, location categories, first row and end row
    per SKU-location key); else None. Computed once per table (tables are read once per week, cached)."""
    if id(frame) in _SPANS:
        return _SPANS[id(frame)]
    found = None
    sku, loc = frame["sku"], frame["location"]
    if len(frame) and isinstance(sku.dtype, pd.CategoricalDtype) and isinstance(loc.dtype, pd.CategoricalDtype):
        width = len(loc.cat.categories) + 1
        key = sku.cat.codes.to_numpy(np.int64) * width + loc.cat.codes.to_numpy(np.int64)
        starts = np.concatenate([[0], np.flatnonzero(np.diff(key) != 0) + 1])
        if len(np.unique(key[starts])) == len(starts):  # every SKU-location in one block of rows
            first = np.full((len(sku.cat.categories) + 1) * width, -1, dtype=np.int64)
            end = np.full_like(first, -1)
            first[key[starts]] = starts
            end[key[starts]] = np.concatenate([starts[1:], [len(key)]])
            found = (sku.cat.categories, loc.cat.categories, first, end)
    _SPANS[id(frame)] = found
    return found


def _sorted_span(frame: pd.DataFrame, sku: str, location: str) -> tuple[int, int] | None:
    """The rows [start, stop) of one SKU-location in a table whose SKU-locations are blocks of rows."""
    found = _series_blocks(frame)
    if found is None:
        return None
    skus, locs, first, end = found
    i, j = skus.get_indexer([sku])[0], locs.get_indexer([location])[0]
    if i < 0 or j < 0 or first[i * (len(locs) + 1) + j] < 0:
        return (0, 0)
    k = i * (len(locs) + 1) + j
    return int(first[k]), int(end[k])


def kpi_history(out: Path, weeks: list[str], upto: str, n: int = 12) -> dict[str, list[float]]:
    """Each KPI's value over the archived weeks up to ``upto`` (oldest first, at most ``n``): the tiles' trend."""
    chosen = sorted(w for w in weeks if w <= upto)[-n:]
    values = [ReviewWeek(Path(out) / w).headline() for w in chosen]
    return {name: [v.get(name, np.nan) for v in values] for name in KPI_NAMES if any(name in v for v in values)}


ITEM_COLUMNS = {  # the decision list as the meeting reads it: column -> header
    "place": "#", "kind": "Kind", "item": "Item", "description": "Description", "location": "Location", "cause": "Cause",
    "week": "First week", "shortage_qty": "Units short", "money_at_risk": "Money at risk", "best_action": "Recommended action",
    "action_net_benefit": "Net benefit", "owner": "Owner", "status": "Status",
}


def item_table(items: pd.DataFrame, products: pd.DataFrame, actions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The decision list for the table widget: place (rank, in hand, S&OP), the item, its product's
    description, cause, first week, units short, money, the joint plan's move and its net benefit, and
    the owner and status of the open action on it (from the decision log, read when the page opens)."""
    if items.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ITEM_COLUMNS})
    rank = items["rank"].astype("Int64").astype(str).str.replace("<NA>", "", regex=False)
    track = items["track"].astype(str) if "track" in items else pd.Series("execution", index=items.index)
    in_hand = items["in_hand"].fillna(False).astype(bool) if "in_hand" in items else pd.Series(False, index=items.index)
    desc = products.set_index("sku")["description"] if len(products) and "description" in products else pd.Series(dtype=str)
    out = pd.DataFrame({
        "place": np.where(track == "sop", "S&OP", np.where(in_hand, "in hand", rank)),
        "kind": items["kind"].astype(str),
        "item": np.where(items["sku"].fillna("").astype(str) != "", items["sku"].astype(str), items["resource"].fillna("").astype(str)),
        "description": items["sku"].map(desc).fillna("").astype(str),
        "location": items["location"].fillna("").astype(str),
        "cause": items["cause"].fillna("").astype(str),
        "week": items["week"],
        "shortage_qty": items["shortage_qty"].astype(float),
        "money_at_risk": items["money_at_risk"].astype(float),
        "best_action": items["best_action"].fillna("").astype(str),
        "action_net_benefit": items["action_net_benefit"].astype(float),
    }, index=items.index)
    owner = status = pd.Series("", index=items.index)
    if actions is not None and len(actions) and "item_id" in actions:
        last = actions[actions["item_id"].fillna("") != ""].sort_values("id").drop_duplicates("item_id", keep="last").set_index("item_id")
        owner = items["item_id"].map(last["owner"]).fillna("")
        status = items["item_id"].map(last["status"]).fillna("")
    out["owner"], out["status"] = owner.astype(str), status.astype(str)
    return out


def action_counts(log, week: str) -> dict[str, int]:
    """The action tiles' numbers in ``week`` from the decision log ``log`` (an ActionLog; None: no figures)."""
    if log is None:
        return {}
    open_ = log.open_actions(week)
    return {"open actions": len(open_), "overdue actions": int(open_["overdue"].sum()) if len(open_) else 0}


def previous_figures(out: Path, weeks: list[str], week: str, log) -> dict[str, float] | None:
    """The tiles' figures of the meeting before ``week`` (its headline and action counts); None for the first."""
    older = [w for w in weeks if w < week]
    if not older:
        return None
    folder = Path(out) / max(older)
    return {**_headline_of(folder, folder.stat().st_mtime_ns), **action_counts(log, max(older))}


@functools.lru_cache(maxsize=16)
def _headline_of(folder: Path, _published: int) -> dict[str, float]:
    """A published week's headline, read once per publication (every status change refreshes the tiles; the week
    before does not change unless it is run again, which gives its folder a new time)."""
    return ReviewWeek(folder).headline()


def item_names(items: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """Each item as people name it: ``SKU - description @ location``, ``resource LINE-1``, ``storage at DC-2``."""
    desc = products.set_index("sku")["description"] if len(products) and "description" in products else pd.Series(dtype=str)
    sku = items["sku"].fillna("").astype(str)
    described = sku + (" - " + sku.map(desc).fillna("").astype(str)).where(sku.map(desc).fillna("").astype(str) != "", "")
    location = items["location"].fillna("").astype(str)
    return pd.Series(np.select([items["kind"] == "capacity", items["kind"] == "storage"],
                               ["resource " + items["resource"].fillna("").astype(str), "storage at " + location],
                               described + " @ " + location), index=items.index)


def top_decisions(items: pd.DataFrame, products: pd.DataFrame, actions: pd.DataFrame | None = None, n: int = 6) -> pd.DataFrame:
    """The first screen's decisions: the top ``n`` ranked items (place, the item named, what to do, why it ranks
    there, money at risk, owner), in the decision list's order."""
    ranked = items[items["rank"].notna()].sort_values("rank").head(n) if len(items) else items
    if ranked.empty:
        return pd.DataFrame(columns=["place", "item", "what", "why", "money_at_risk", "owner"])
    owners = item_table(ranked, products, actions)["owner"]
    return pd.DataFrame({"place": ranked["rank"].astype(int).to_numpy(), "item": item_names(ranked, products).to_numpy(),
                         "what": ranked["best_action"].fillna("").astype(str).to_numpy(), "why": ranked.get("why", pd.Series("", index=ranked.index)).fillna("").astype(str).to_numpy(),
                         "money_at_risk": ranked["money_at_risk"].astype(float).to_numpy(), "owner": owners.to_numpy()})


def headline_text(current: dict[str, float], previous: dict[str, float] | None, items: pd.DataFrame, counts: dict[str, int], currency: str,
                  horizon: int, top: int = 3) -> str:
    """The page's one sentence: margin at risk over the horizon and its change, the decisions to take and what the top ones
    are worth, overdue actions."""
    margin = current.get("margin at risk", np.nan)
    text = f"{margin:,.0f} {currency} margin at risk over the next {horizon} weeks"
    if previous and not np.isnan(previous.get("margin at risk", np.nan)):
        text += f" ({margin - previous['margin at risk']:+,.0f} {currency} since the last meeting)"
    ranked = items[items["rank"].notna()] if "rank" in items else items.iloc[:0]
    if len(ranked):
        worth = ranked.sort_values("rank")["money_at_risk"].head(top).sum()
        text += f". {len(ranked)} decisions to take; the top {min(top, len(ranked))} are worth {worth:,.0f} {currency}"
    else:
        text += ". No decision to take this week"
    overdue = counts.get("overdue actions", 0)
    text += f". {overdue} overdue action{'s' if overdue != 1 else ''}." if "overdue actions" in counts else "."
    return text


def kpi_tiles(current: dict[str, float], previous: dict[str, float] | None, actions: dict[str, int]) -> pd.DataFrame:
    """One row per tile: name, value, previous value and change (NaN without a previous week)."""
    values = {**current, **{k: float(v) for k, v in actions.items()}}
    rows = []
    for name in KPI_NAMES:
        value = values.get(name, np.nan)
        before = (previous or {}).get(name, np.nan)
        rows.append({"kpi": name, "value": value, "previous": before, "change": value - before})
    return pd.DataFrame(rows)


def filter_items(items: pd.DataFrame, family: str = "", location: str = "", cause: str = "", severity: str = "") -> pd.DataFrame:
    """The decision-list rows matching every non-empty filter."""
    mask = np.ones(len(items), dtype=bool)
    for col, value in (("family", family), ("location", location), ("cause", cause), ("severity", severity)):
        if value:
            mask &= (items[col] == value).to_numpy()
    return items[mask]


@dataclass
class WhatIf:
    weeks: pd.DatetimeIndex
    projected: np.ndarray  # the net position per week (< 0: short)
    shortage_qty: float  # units not delivered within the horizon (lost, or still owed at its end)
    margin_at_risk: float  # the projection kernel's money (lost margin and the cost of waiting)
    revenue_at_risk: float


def _move(change: np.ndarray, weeks: pd.DatetimeIndex, orders: pd.DataFrame, order_id: str, by_weeks: int, qty: float | None = None) -> None:
    """One inbound order's receipt (``qty`` of it, default all that arrives in the horizon) moved by
    ``by_weeks`` (beyond the horizon: gone from it), as a change of the net position per week."""
    line = orders[orders["order_id"] == order_id] if len(orders) else orders
    if not by_weeks or not len(line):
        return
    eta = parse_weeks(line["eta_week"]).iloc[0]
    if qty is None:
        qty = float(line["constrained_qty"].iloc[0]) if "constrained_qty" in line else float(line["qty"].iloc[0])
    t = len(weeks)
    old = weeks.get_indexer([max(eta, weeks[0])])[0]
    old = old if old >= 0 else t
    new = int(np.clip(old + by_weeks, 0, t))
    if new < old:  # earlier: the units are there from the new week to the old one
        change[new:old] += qty
    elif new > old:  # later: missing from the old week to the new one
        change[old:new] -= qty


def what_if(
    rows: dict[str, pd.DataFrame],
    demand_pct: float = 0.0,
    move_order: str | None = None,
    move_weeks: int = 0,
    transfer_qty: float = 0.0,
    transfer_week: int = 0,
    moves: list[tuple] = (),
    transfers: list[tuple[float, int]] = (),
) -> WhatIf:
    """One SKU-location re-projected by the projection kernel (:mod:`soe_lib.core.kernel`) under the
    run's policy (``rows["policy"]``), as finance values every gap and option: demand x (1 + pct/100);
    inbound orders moved by some weeks (``move_order``/``move_weeks``, and any ``(order, weeks[, qty])``
    in ``moves``); transfers of a quantity landing in a horizon week (``transfer_qty``/``transfer_week``,
    and any in ``transfers``; negative: stock sent away from that week on). Receipts are the
    capacity-constrained ones."""
    proj = rows["projection"]
    weeks = pd.DatetimeIndex(parse_weeks(proj["week"]))
    t = len(weeks)
    demand = proj["demand_qty"].to_numpy(dtype=float)
    change = -np.cumsum(demand * demand_pct / 100.0)
    for move in [*([(move_order, move_weeks)] if move_order else []), *moves]:
        _move(change, weeks, rows["orders"], str(move[0]), int(move[1]), float(move[2]) if len(move) > 2 else None)
    for qty, week in [*([(transfer_qty, transfer_week)] if transfer_qty else []), *transfers]:
        change[int(np.clip(week, 0, t - 1)) :] += qty
    position = proj["constrained_projected_on_hand"].to_numpy(dtype=float) + change
    keys = proj[["sku", "location"]].iloc[:1].astype(str).reset_index(drop=True)
    sd = proj["demand_sd"].to_numpy(dtype=float)[None, :] if "demand_sd" in proj else None
    spread = spread_of(keys, demand[None, :], sd)  # the base demand's scenarios, as finance takes them
    policy = rows.get("policy") or Policy(np.zeros(1), 0.0)
    product = rows["product"]
    price = float(product["unit_price"].iloc[0]) if len(product) else 0.0
    cost = float(product["unit_cost"].iloc[0]) if len(product) else 0.0
    f = kernel_flows(position[None, :], (demand * (1 + demand_pct / 100.0))[None, :], policy, spread)
    m = kernel_money(f, np.array([price]), np.array([cost]), policy.delay_cost_share)
    return WhatIf(weeks, position, float(f.undelivered[0]), float(m.margin_at_risk[0]), float(m.revenue_at_risk[0]))
