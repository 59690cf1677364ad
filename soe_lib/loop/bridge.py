"""From last week's figure to this week's, in named parts that add up exactly (a "walk").

Both runs archived, per SKU-location and horizon week, what their projection was made of: the start
stock, sensed demand, the S&OP plan and last week's blend weight, receipts at the current ETAs
(``U``) and what capacity held back of them (``H = U - constrained receipts``). A figure ``g`` is
recomputed from those inputs with the projection's formula (:mod:`soe_lib.core.projection`) while
they are switched from last week's to this week's **one group at a time**; each part is the change
of ``g`` at its switch, so the parts telescope and add up exactly::

    last week            M0 (as published)
    week rolled          the horizon moves a week: the week that passed leaves (its projected end is the
                         new start stock), a new week enters at the end (this week's values for it)
    prices               this week's prices and costs
    inventory            the start stock as counted this week, instead of last week's projection of it
    plan                 demand + (1 - w0) x (plan now - plan then): the new S&OP plan through its share of
                         last week's chosen forecast (w = sensed_demand.w_stat)
    demand               the rest of the sensed demand change (new actuals, booked orders)
    decisions            receipts of the orders and transfers that recorded decisions moved or made
    supply               the rest of the receipts change (ETA moves, new, cancelled or received orders)
    capacity             what capacity holds back, this week's instead of last week's
    financial plan       (gap to financial plan only) the plan's revision over the common weeks
    gap minimum          (M1 - g(this week)) - (M0 - g(last week)): stock-outs below a gap's minimum,
                         which the published figures leave out and g counts
    this week            M1 (as published)

Measures, both from the projection kernel (:mod:`soe_lib.core.kernel`, the one model of money every
step uses): **margin at risk** ``g`` = the kernel's money per SKU-location (lost margin and the cost
of waiting under the week's backorder policy, over demand scenarios for uncertain series), and **gap
to financial plan** ``g = sum price x shipped - financial plan`` over the horizon (``shipped`` the
kernel's units delivered). The week's prices, costs and policy (backorder share per series, delay cost
share) switch together in "prices".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..core.kernel import Policy, Spread, backorder_shares, position, spread_of
from ..core.kernel import flows as kernel_flows
from ..core.kernel import value as kernel_value
from ..core.matrix import to_matrix

__all__ = ["PARTS", "Walk", "WeekInputs", "at_risk_money", "bridge_table", "estimate_gap", "walk", "week_inputs"]

PARTS = ("week_rolled", "prices", "inventory", "plan", "demand", "decisions", "supply", "capacity", "financial_plan", "gap_minimum")
DETAIL = {
    "week_rolled": "the horizon moved a week: the week that passed left it, a new week entered at the end",
    "prices": "new unit prices or costs, and the backorder policy",
    "inventory": "stock at the start of the week as counted, against last week's projection of it",
    "plan": "the new S&OP demand plan, through last week's blend weights",
    "demand": "the rest of the sensed demand change: new actuals, booked orders",
    "decisions": "orders moved and transfers made by decisions recorded in the decision log",
    "supply": "other ETA moves, new, cancelled or received orders",
    "capacity": "production held back by capacity, more or less",
    "financial_plan": "the financial plan's revision over the weeks both runs cover",
    "gap_minimum": "what the published figures leave out: stock-outs below a gap's minimum (margin at risk), weeks without a financial plan (gap to plan)",
}


@dataclass(frozen=True)
class WeekInputs:
    """One run's projection inputs on a common (series x weeks) grid."""

    weeks: pd.DatetimeIndex
    on_hand: np.ndarray  # (S,) stock at the start of the run week
    demand: np.ndarray  # (S, T) sensed demand
    plan: np.ndarray  # (S, T) S&OP plan
    weight: np.ndarray  # (S, T) blend weight of the statistical forecast
    receipts: np.ndarray  # (S, T) at current ETAs (U)
    held: np.ndarray  # (S, T) held back by capacity (U - constrained)
    price: np.ndarray  # (S,)
    margin: np.ndarray  # (S,)
    planned_price: np.ndarray  # (S,) the price where the family has a financial plan, else 0 (the published gap counts only those)
    financial_plan: np.ndarray  # (S, T) the family's financial plan spread over its SKU-locations (only sums are used)
    sd: np.ndarray | None  # (S, T) the spread of demand (None: a week archived before it was kept)
    share: np.ndarray  # (S,) backorder share
    delay: float  # delay cost share
    keys: pd.DataFrame  # sku, location of the rows (the scenarios' seeds)


def week_inputs(keys: pd.DataFrame, projection: pd.DataFrame, sensed: pd.DataFrame, products: pd.DataFrame, financial_plan: pd.DataFrame,
                locations: pd.DataFrame | None = None, parameters: dict | None = None) -> WeekInputs:
    """A run's inputs for the walk, on ``keys`` (sku, location; absent series are zero) and its own
    weeks; ``parameters``: the run's (its backorder share and delay cost share)."""
    weeks = pd.DatetimeIndex(sorted(projection["week"].unique()))

    def grid(frame: pd.DataFrame, col: str) -> np.ndarray:
        return to_matrix(frame, keys, weeks, col) if len(frame) else np.zeros((len(keys), len(weeks)))

    demand, receipts = grid(projection, "demand_qty"), grid(projection, "receipts_qty")
    first = projection[projection["week"] == weeks[0]] if len(weeks) else projection
    start = first.assign(start=first["projected_on_hand"] - first["receipts_qty"] + first["demand_qty"])
    on_hand = to_matrix(start.assign(week=weeks[0]), keys, weeks[:1], "start")[:, 0] if len(first) else np.zeros(len(keys))
    money = products.set_index("sku")[["unit_price", "unit_cost"]].reindex(keys["sku"])
    price = money["unit_price"].fillna(0.0).to_numpy(dtype=float)
    family = keys["sku"].map(products.set_index("sku")["family"])
    planned = family.isin(set(financial_plan["family"])).to_numpy() if len(financial_plan) else np.zeros(len(keys), dtype=bool)
    params = parameters or {}
    return WeekInputs(
        weeks, on_hand, demand, grid(sensed, "plan_qty"), grid(sensed, "w_stat"), receipts,
        receipts - grid(projection, "constrained_receipts_qty"), price, price - money["unit_cost"].fillna(0.0).to_numpy(dtype=float),
        np.where(planned, price, 0.0), _financial_plan(keys, weeks, products, financial_plan),
        grid(projection, "demand_sd") if "demand_sd" in projection else None,
        backorder_shares(keys, products, locations if locations is not None and len(locations) else None, float(params.get("backorder_share", 0.0))),
        float(params.get("delay_cost_share", 0.0)), keys,
    )


def _financial_plan(keys: pd.DataFrame, weeks: pd.DatetimeIndex, products: pd.DataFrame, financial_plan: pd.DataFrame) -> np.ndarray:
    """The family-week financial plan put on the first SKU-location of each family (the walk only sums it)."""
    out = np.zeros((len(keys), len(weeks)))
    if financial_plan.empty or not len(keys):
        return out
    family = keys["sku"].map(products.set_index("sku")["family"]).fillna("")
    holder = pd.Series(np.arange(len(keys))).groupby(family.to_numpy()).first()
    plan = financial_plan[financial_plan["family"].isin(holder.index)]
    rows = holder.reindex(plan["family"]).to_numpy()
    cols = weeks.get_indexer(pd.to_datetime(plan["week"]))
    ok = cols >= 0
    np.add.at(out, (rows[ok], cols[ok]), plan["revenue_plan"].to_numpy(dtype=float)[ok])
    return out


_SPREADS: dict[tuple[int, int], Spread] = {}


def _spread(w: WeekInputs) -> Spread:
    """The demand scenarios of ``w`` (the same demand and spread objects give the same scenarios: made once per walk)."""
    key = (id(w.demand), id(w.sd))
    if key not in _SPREADS:
        _SPREADS[key] = spread_of(w.keys, w.demand, w.sd)
    return _SPREADS[key]


def at_risk_money(w: WeekInputs) -> np.ndarray:
    """Margin at risk per series: the kernel's money of the week's position under its policy."""
    p = position(w.on_hand, w.receipts - w.held, w.demand)
    return kernel_value(p, w.demand, Policy(w.share, w.delay), w.price, w.price - w.margin, _spread(w))


def estimate_gap(w: WeekInputs) -> np.ndarray:
    """Latest revenue estimate minus the financial plan over the horizon, per series (only the sum means much)."""
    p = position(w.on_hand, w.receipts - w.held, w.demand)
    shipped = kernel_flows(p, w.demand, Policy(w.share, w.delay), _spread(w)).shipped
    return w.planned_price * shipped.sum(axis=1) - w.financial_plan.sum(axis=1)


def _rolled(then: WeekInputs, now: WeekInputs) -> WeekInputs:
    """Last week's inputs moved to this week's horizon: the week that passed leaves (its projected end
    becomes the start stock), the weeks both cover keep last week's values, a new week takes this week's."""
    shift = int(round((now.weeks[0] - then.weeks[0]).days / 7))
    p = position(then.on_hand, then.receipts - then.held, then.demand)
    start = p[:, shift - 1] if 0 < shift <= len(then.weeks) else (then.on_hand if shift <= 0 else now.on_hand)

    def move(old: np.ndarray, new: np.ndarray) -> np.ndarray:
        out = new.copy()
        common = max(0, min(len(then.weeks) - shift, len(now.weeks)))
        if shift >= 0 and common:
            out[:, :common] = old[:, shift : shift + common]
        return out

    sd = move(then.sd, now.sd) if then.sd is not None and now.sd is not None else None
    return replace(now, on_hand=start, demand=move(then.demand, now.demand), plan=move(then.plan, now.plan), weight=move(then.weight, now.weight),
                   receipts=move(then.receipts, now.receipts), held=move(then.held, now.held), price=then.price, margin=then.margin,
                   planned_price=then.planned_price, share=then.share, delay=then.delay, sd=sd,
                   financial_plan=move(then.financial_plan, now.financial_plan))


@dataclass(frozen=True)
class Walk:
    """The figure before and after, and each part, per series (sum them for the whole business)."""

    measure: str
    before: np.ndarray  # (S,) as published last week
    after: np.ndarray  # (S,) as published this week
    parts: dict[str, np.ndarray]  # part -> (S,) change

    def check(self) -> float:
        """Largest per-series difference between before + parts and after (0 up to rounding)."""
        total = self.before + sum(self.parts.values())
        return float(np.abs(total - self.after).max(initial=0.0))


def walk(then: WeekInputs, now: WeekInputs, decisions: np.ndarray, published_then: np.ndarray, published_now: np.ndarray,
         measure: str) -> Walk:
    """The walk of the module doc for one measure; ``decisions`` (S, T): receipts the recorded decisions
    moved or made (this week's grid); ``published_*`` (S,): the figure as each run published it."""
    g = at_risk_money if measure == "margin at risk" else estimate_gap
    states = [("start", then)]
    rolled = _rolled(then, now)
    states += [("week_rolled", rolled), ("prices", replace(rolled, price=now.price, margin=now.margin, planned_price=now.planned_price,
                                                            share=now.share, delay=now.delay))]
    s = states[-1][1]
    s = replace(s, on_hand=now.on_hand)
    states.append(("inventory", s))
    s = replace(s, demand=s.demand + (1 - np.nan_to_num(s.weight)) * (now.plan - s.plan))
    states.append(("plan", s))
    s = replace(s, demand=now.demand, sd=now.sd)
    states.append(("demand", s))
    s = replace(s, receipts=s.receipts + decisions)
    states.append(("decisions", s))
    s = replace(s, receipts=now.receipts)
    states.append(("supply", s))
    s = replace(s, held=now.held)
    states.append(("capacity", s))
    s = replace(s, financial_plan=now.financial_plan, plan=now.plan, weight=now.weight)
    states.append(("financial_plan", s))
    _SPREADS.clear()
    values = [g(state) for _, state in states]
    _SPREADS.clear()
    parts = {name: values[k] - values[k - 1] for k, (name, _) in enumerate(states) if k}
    if measure == "margin at risk":
        parts.pop("financial_plan")  # it moves no stock: always 0 here
    parts["gap_minimum"] = (published_now - values[-1]) - (published_then - values[0])
    return Walk(measure, published_then, published_now, parts)


def bridge_table(walks: list[Walk]) -> pd.DataFrame:
    """The ``risk_bridge`` table: per measure, last week, the parts, this week."""
    rows = []
    for w in walks:
        rows.append((w.measure, 0, "last week", float(w.before.sum()), "as published in last week's run"))
        for k, (name, values) in enumerate(w.parts.items(), start=1):
            rows.append((w.measure, k, name.replace("_", " "), float(values.sum()), DETAIL[name]))
        rows.append((w.measure, len(w.parts) + 1, "this week", float(w.after.sum()), "as published in this week's run"))
    return pd.DataFrame(rows, columns=["measure", "step", "component", "amount", "detail"])
