"""The allocation step: scarce supply shared among order lines, service per customer, three policies compared,
and what can still be promised (notebooks/04_financial_impact.ipynb).

It reads the supply step's ``inventory_projection`` (the capacity-constrained supply, :mod:`.lines`), the booked
``open_orders`` with their customers, and the capacity left on the resources (``capacity_load``); the allocation
itself is :mod:`.engine`. Tables: ``order_allocation`` (per line: allocated, cut, confirmed week, why),
``customer_service`` (per customer: projected fill rate and OTIF against target), ``allocation_policies`` (the
configured rule, fair share and margin first on the same lines: fill rate by tier, spread of cut percentages,
margin kept) and ``available_to_promise`` (per SKU-location and week: cumulative ATP, and CTP with the units spare
hours can make).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.params import HORIZON_WEEKS
from ..core.step import Step, StepContext
from .engine import POLICIES, Allocation, allocate, available_to_promise, policy_tiers
from .lines import FORECAST, order_lines, supply_matrix
from .params import AllocationParams
from .service import actual_service

__all__ = ["ALLOCATION", "AllocationStep", "AllocationWeek", "allocate_week", "analyse_allocation"]


@dataclass
class AllocationWeek:
    lines: pd.DataFrame  # order_allocation
    service: pd.DataFrame  # customer_service
    policies: pd.DataFrame  # allocation_policies
    promise: pd.DataFrame  # available_to_promise
    actual: pd.DataFrame = field(default_factory=pd.DataFrame)  # actual_service (order_history)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"order_allocation": self.lines, "customer_service": self.service, "allocation_policies": self.policies,
                "available_to_promise": self.promise, "actual_service": self.actual}

    def cut(self) -> pd.DataFrame:
        """The lines cut in their week, the largest cut first."""
        return self.lines[self.lines["cut_qty"] > 0].sort_values("cut_qty", ascending=False, kind="stable").reset_index(drop=True)


def _keys(projection: pd.DataFrame) -> pd.DataFrame:
    """Every SKU-location of the projection (ATP of one without orders: all its supply), in its order."""
    return projection[["sku", "location"]].astype(str).drop_duplicates().reset_index(drop=True)


def _reasons(lines: pd.DataFrame, a: Allocation) -> np.ndarray:
    """Why a line got what it got, in words."""
    pct = pd.Series(a.week_share * 100).round().astype(int).astype(str).to_numpy(dtype=object)
    tier = lines["tier"].astype(str).to_numpy(dtype=object)
    return np.select(
        [a.cut <= 1e-9, a.min_missed, a.week_share <= 1e-9],
        ["", "contractual minimum not honoured: the week's supply does not cover the minima of tier " + tier + " and above",
         "nothing left for tier " + tier + " after the tiers before it"],
        "tier " + tier + " served " + pct + " % of what it asked (equal share within the tier)",
    )


def _line_table(lines: pd.DataFrame, a: Allocation, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    out = lines[["line_id", "order_id", "line", "customer", "channel", "tier", "sku", "location", "week", "promised_week"]].rename(
        columns={"week": "requested_week"})
    out["requested_qty"] = lines["qty"].to_numpy()
    out["allocated_qty"] = a.allocated
    out["cut_qty"] = a.cut
    out["cut_pct"] = np.where(lines["qty"] > 0, a.cut / np.where(lines["qty"] > 0, lines["qty"], 1.0), 0.0)
    out["confirmed_week"] = pd.Series(weeks[np.maximum(a.confirmed, 0)]).where(a.confirmed >= 0).to_numpy()
    out["minimum_honoured"] = ~a.min_missed
    out["reason"] = _reasons(lines, a)
    return out[lines["customer"].to_numpy() != FORECAST].reset_index(drop=True)


def _service(table: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Per customer: projected fill rate (units allocated in their week / asked) and OTIF (lines complete in their
    week / lines), against targets."""
    t = table.assign(_complete=table["cut_qty"] <= 1e-9, _missed=~table["minimum_honoured"],
                     fill_rate_target=lines.loc[lines["customer"] != FORECAST, "fill_rate_target"].to_numpy(dtype=float),
                     otif_target=lines.loc[lines["customer"] != FORECAST, "otif_target"].to_numpy(dtype=float))
    out = t.groupby(["customer", "channel", "tier"], as_index=False, dropna=False).agg(
        lines=("line_id", "size"), requested_qty=("requested_qty", "sum"), allocated_qty=("allocated_qty", "sum"), cut_qty=("cut_qty", "sum"),
        complete_lines=("_complete", "sum"), minimum_missed_lines=("_missed", "sum"), fill_rate_target=("fill_rate_target", "first"),
        otif_target=("otif_target", "first"))
    out["fill_rate"] = np.where(out["requested_qty"] > 0, out["allocated_qty"] / out["requested_qty"].where(out["requested_qty"] > 0, 1.0), 1.0)
    out["otif"] = out["complete_lines"] / out["lines"]
    out["below_target"] = (out["fill_rate"] < out["fill_rate_target"].fillna(0) - 1e-9) | (out["otif"] < out["otif_target"].fillna(0) - 1e-9)
    cols = ["customer", "channel", "tier", "lines", "requested_qty", "allocated_qty", "cut_qty", "fill_rate", "fill_rate_target", "otif", "otif_target",
            "below_target", "minimum_missed_lines"]
    return out[cols].sort_values(["tier", "fill_rate", "customer"], kind="stable").reset_index(drop=True)


def _policies(lines: pd.DataFrame, rows: np.ndarray, supply: np.ndarray) -> pd.DataFrame:
    """``allocation_policies``: each policy on the same lines and supply: per tier (of the rule) and for all lines,
    fill rate, the spread of customers' cut percentages (largest - smallest), margin kept."""
    frames = []
    booked = (lines["customer"] != FORECAST).to_numpy()
    for policy in POLICIES:
        a = allocate(supply, rows, lines["t"].to_numpy(), lines["qty"].to_numpy(), policy_tiers(policy, lines["tier"].to_numpy(), lines["margin"].to_numpy()),
                     lines["margin"].to_numpy(), lines["min_fill"].to_numpy() if policy == "rule" else None)
        f = lines.assign(_alloc=a.allocated, _kept=a.allocated * lines["margin"].to_numpy())[booked]
        for tier, group in [*f.groupby("tier"), ("all", f)]:
            by_customer = group.groupby("customer")[["qty", "_alloc"]].sum()
            cut_pct = 1 - by_customer["_alloc"] / by_customer["qty"].where(by_customer["qty"] > 0, np.nan)
            frames.append({"policy": policy, "tier": str(tier), "lines": len(group), "requested_qty": group["qty"].sum(),
                           "allocated_qty": group["_alloc"].sum(),
                           "fill_rate": group["_alloc"].sum() / group["qty"].sum() if group["qty"].sum() > 0 else 1.0,
                           "cut_pct_spread": float(cut_pct.max() - cut_pct.min()) if cut_pct.notna().any() else 0.0,
                           "margin_kept": group["_kept"].sum()})
    return pd.DataFrame(frames)


def _ctp_units(keys: pd.DataFrame, capacity: pd.DataFrame, routings: pd.DataFrame, weeks: pd.DatetimeIndex, lead: int) -> np.ndarray:
    """(N, T) units of each SKU-location its resources' spare hours could make each week (from ``lead`` on): the
    fewest over its routing's resources of spare hours / hours per unit (each item as if it alone used them)."""
    out = np.zeros((len(keys), len(weeks)))
    if capacity is None or capacity.empty or routings is None or routings.empty:
        return out
    # a resource-week without an available figure is unlimited: it is not what limits the item (its other resources may)
    spare = capacity.assign(spare=(capacity["available_hours"] - capacity["completed_hours"]).clip(lower=0)).dropna(subset=["spare"])
    spare = spare.assign(t=((pd.to_datetime(spare["week"]) - weeks[0]).dt.days // 7))
    r = routings.assign(sku=routings["sku"].astype(str), location=routings["location"].astype(str))
    pairs = keys.reset_index(names="i").merge(r[["sku", "location", "resource", "hours_per_unit"]], on=["sku", "location"]).merge(
        spare[["resource", "t", "spare"]], on="resource")
    pairs = pairs[(pairs["t"] >= lead) & (pairs["t"] < len(weeks)) & (pairs["hours_per_unit"] > 0)]
    units = (pairs["spare"] / pairs["hours_per_unit"]).groupby([pairs["i"], pairs["t"]]).min()
    out[units.index.get_level_values(0), units.index.get_level_values(1)] = np.floor(units.to_numpy() + 1e-9)
    return out


def _promise_table(keys: pd.DataFrame, weeks: pd.DatetimeIndex, atp: np.ndarray, ctp_units: np.ndarray) -> pd.DataFrame:
    n, t = atp.shape
    return pd.DataFrame({"sku": np.repeat(keys["sku"].to_numpy(), t), "location": np.repeat(keys["location"].to_numpy(), t),
                         "week": np.tile(weeks, n), "atp_qty": np.floor(atp + 1e-9).ravel(),
                         "ctp_qty": np.floor(atp + np.cumsum(ctp_units, axis=1) + 1e-9).ravel()})


def analyse_allocation(data: Dataset, projection: pd.DataFrame, capacity: pd.DataFrame, p: AllocationParams,
                       horizon_weeks: int = HORIZON_WEEKS, sensed: pd.DataFrame | None = None) -> AllocationWeek:
    """The week's allocation (:func:`allocate_week` of the snapshot's tables)."""
    weeks = pd.date_range(data.week, periods=horizon_weeks, freq="7D")
    customers = data.tables["customers"] if data.has("customers") else pd.DataFrame()
    week = allocate_week(data.open_orders, customers, data.products, data.routings, projection, capacity, weeks, p, sensed)
    week.actual = actual_service(data.tables["order_history"] if data.has("order_history") else None, data.products, data.week)
    return week


def allocate_week(open_orders: pd.DataFrame, customers: pd.DataFrame, products: pd.DataFrame, routings: pd.DataFrame, projection: pd.DataFrame,
                  capacity: pd.DataFrame, weeks: pd.DatetimeIndex, p: AllocationParams, sensed: pd.DataFrame | None = None) -> AllocationWeek:
    """The allocation of the module doc: the configured policy's per line and customer, the three policies
    compared, ATP and CTP per SKU-location and week (``projection``: ``inventory_projection`` rows; ``capacity``:
    ``capacity_load``)."""
    lines = order_lines(open_orders, customers, products, weeks, p.default_tier, sensed, p.forecast_tier)
    keys = _keys(projection)
    supply = supply_matrix(projection, keys, weeks)
    rows = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(lines[["sku", "location"]]))
    a = allocate(supply, rows, lines["t"].to_numpy(), lines["qty"].to_numpy(),
                 policy_tiers(p.allocation_policy, lines["tier"].to_numpy(), lines["margin"].to_numpy()), lines["margin"].to_numpy(),
                 lines["min_fill"].to_numpy() if p.allocation_policy == "rule" else None)
    table = _line_table(lines, a, weeks)
    atp = available_to_promise(supply, a.cumulative)
    promise = _promise_table(keys, weeks, atp, _ctp_units(keys, capacity, routings, weeks, p.ctp_lead_weeks))
    return AllocationWeek(table, _service(table, lines), _policies(lines, rows, supply), promise, actual_service(None, products, weeks[0]))


class AllocationStep(Step):
    """On the step protocol, whole: the order lines of a week are few beside its series (100k lines allocate in
    about a second, :mod:`benchmarks`), and every policy reads all of them."""

    name = "allocation"
    notebook = "04_financial_impact.ipynb"
    title = "allocation"
    groups = (AllocationParams,)
    inputs = ("inventory_projection", "capacity_load", "sensed_demand")
    reads = {"open_orders": None, "customers": None, "products": None, "routings": None, "order_history": None}

    def run(self, ctx: StepContext) -> AllocationWeek:
        p = ctx.group(AllocationParams)
        columns = ["sku", "location", "week", "constrained_receipts_qty", "constrained_projected_on_hand", "demand_qty"]
        return analyse_allocation(ctx.data, ctx.table("inventory_projection", columns=columns), ctx.table("capacity_load"), p, ctx.horizon_weeks,
                                  ctx.table("sensed_demand") if p.forecast_tier > 0 else None)


ALLOCATION = AllocationStep()
