"""Supply gap analysis: will supply be there, and if not, where, when, how much and why.

Three projections per SKU-location over the horizon (:mod:`soe_lib.core.projection`):

- **plan**: the S&OP demand plan against receipts at their *planned* week;
- **current**: sensed demand against receipts at their current ETA (``projected_on_hand``);
- **constrained**: as current, with production receipts scaled to what capacity allows
  (:mod:`soe_lib.supply.capacity`). Gaps are found on this one (:mod:`soe_lib.supply.gaps`): it is the most realistic.

And a fourth beside them, **predicted**: the constrained one with the inbound lines on a lane in the weeks their
lane's record predicts (the logistics step's ``eta_forecast``); a shortage that appears (or deepens) only there is
a **slip risk** (:mod:`soe_lib.supply.slipping`).

A **gap** is a run of weeks where the constrained projection is negative (``kind = shortage``); runs of
weeks at or above zero but below safety stock are reported separately (``kind = below_safety_stock``).
For each gap: first/last/peak week, weeks short, peak and total units short, and its **root cause** from
an exact decomposition at the peak week ``p`` (cumulative sums from the run week)::

    level - constrained_projected[p] = (level - plan_projected[p])          plan already short
                                     + (demand[..p] - plan_demand[..p])       demand above plan
                                     + (plan_receipts[..p] - receipts[..p])   supply late (or smaller)
                                     + (receipts[..p] - constrained[..p])     capacity shortfall

with ``level`` = 0 for a shortage and the safety stock for a safety-stock gap (the plan term counts
only when positive: a plan with a cushion absorbs part of the other causes). Each positive term is a cause; ``cause`` is the largest, ``causes`` all of those worth at least 10 % of
the peak, with the late orders and the bottleneck resources that produced them.
Storage: units held per location when receipts land (stock brought in + receipts) vs ``storage_capacity``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.lanes import ETA_COLUMNS, slipping_lines
from ..core.matrix import long_frame, row_positions, to_matrix
from ..core.params import HORIZON_WEEKS
from ..core.projection import Projection, project, weeks_of_supply
from ..core.step import InParts, Part, PartReader, Round, Step, StepContext, in_order, light_parts, series_ranges
from .capacity import capacity_load, due_load, line_completion
from .gaps import find_gaps, mark_lines
from .inbound import delay_summary, delay_sums, line_delays
from .params import SupplyParams
from .slipping import predicted_projection, slip_risk
from .storage import storage_load, units_held

__all__ = ["SUPPLY", "SupplyPart", "SupplyStep", "SupplyWeek", "analyse_supply", "demand_spread", "horizon", "number_gaps", "shortage_probability", "supply_part", "supply_week"]


@dataclass
class SupplyPart:
    """What :func:`supply_part` finds for a set of series (all of them, or a part on a Dask worker):
    every series' rows, gaps numbered within the part. :func:`supply_week` joins parts into the week."""

    series: pd.DataFrame
    projection: pd.DataFrame  # inventory_projection rows of the part's series
    gaps: pd.DataFrame  # gap_id numbered in the part: shortages first, then safety-stock gaps
    causes: pd.DataFrame  # gap_causes, by the part's gap_id
    lines: pd.DataFrame  # inbound_delays of the part's supply lines, by series then line (line_id: position in the supply table)
    held: pd.DataFrame  # location, week, units_held, units_end_of_week: sums over the part's series
    demand_qty: float  # sensed demand over the horizon (constrained projection)
    short_qty: float  # of it, units not served on time
    line_sums: dict[str, pd.DataFrame] = field(default_factory=dict)  # delay_sums of its lines by supplier and by kind
    shortage_lines: int = 0  # of its lines: late and creating a shortage
    slips: pd.DataFrame = field(default_factory=pd.DataFrame)  # slip_risk rows of the part's series


@dataclass
class SupplyWeek:
    series: pd.DataFrame  # sku, location, family, unit_price, unit_cost, safety_stock, _series
    weeks: pd.DatetimeIndex
    projection: pd.DataFrame
    gaps: pd.DataFrame
    lines: pd.DataFrame  # supply lines with delay, constrained qty, creates_shortage
    capacity: pd.DataFrame
    storage: pd.DataFrame
    demand_qty: float = 0.0  # sensed demand over the horizon
    short_qty: float = 0.0  # of it, units not served on time (constrained projection)
    shortage_lines: int = 0  # supply lines late and creating a shortage (the late ones: by_kind's late_lines)
    by_supplier: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_kind: pd.DataFrame = field(default_factory=pd.DataFrame)
    causes: pd.DataFrame = field(default_factory=pd.DataFrame)  # gap_causes: per gap and week
    slips: pd.DataFrame = field(default_factory=pd.DataFrame)  # slip_risk: shortages that appear (or deepen) with predicted ETAs
    # in parts: the projection and the lines were written by the parts; a chart reads its series' rows back
    # (rows_of(table, series))
    written: frozenset[str] = frozenset()
    rows_of: Callable[[str, pd.DataFrame], pd.DataFrame] | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The step's output tables (declared in :mod:`soe_lib.core.outputs`) but those its parts wrote."""
        return {
            **({} if "inventory_projection" in self.written else {"inventory_projection": self.projection}),
            "supply_gaps": self.gaps.drop(columns=["_series"]),
            "gap_causes": self.causes,
            **({} if "inbound_delays" in self.written else {"inbound_delays": self.lines}),
            "inbound_delays_by_supplier": self.by_supplier,
            "inbound_delays_by_kind": self.by_kind,
            "capacity_load": self.capacity,
            "storage_load": self.storage,
            "slip_risk": self.slips,
            "supply_headline": self.headline(),
        }

    def focus(self, sku: str | None, location: str | None) -> tuple[str, str]:
        """The SKU-location to chart: the one asked for, else the one with the deepest shortage."""
        if sku is not None and location is not None:
            return str(sku), str(location)
        short = self.gaps[self.gaps["kind"] == "shortage"]
        top = (short if len(short) else self.gaps).sort_values("peak_shortage_qty", ascending=False)
        if not len(top):
            return str(self.series["sku"].iloc[0]), str(self.series["location"].iloc[0])
        return str(top["sku"].iloc[0]), str(top["location"].iloc[0])

    def largest_gaps(self, n: int = 25) -> pd.DataFrame:
        """The ``n`` deepest shortages, then the deepest safety-stock gaps, as in ``supply_gaps``."""
        gaps = self.gaps.drop(columns=["_series"])
        return gaps.sort_values(["kind", "peak_shortage_qty"], ascending=[False, False]).head(n)

    def headline(self) -> pd.DataFrame:
        """The numbers a planner reads first: gaps, units short, fill rate, late lines, overloads, overflows."""
        short = self.gaps[self.gaps["kind"] == "shortage"]
        demand = self.demand_qty
        return pd.DataFrame(
            {
                "measure": [
                    "SKU-locations", "shortage gaps", "SKU-locations short", "units short (total over gaps)",
                    "projected fill rate", "below-safety-stock gaps", "late inbound lines", "late lines causing a shortage",
                    "overloaded resource-weeks", "storage overflow location-weeks", "SKU-locations at risk of slipping",
                ],
                "value": [
                    len(self.series), len(short), short[["sku", "location"]].drop_duplicates().shape[0], short["shortage_qty"].sum(),
                    1 - self.short_qty / demand if demand > 0 else 1.0,
                    int((self.gaps["kind"] == "below_safety_stock").sum()), int(self.by_kind["late_lines"].sum()) if len(self.by_kind) else 0,
                    self.shortage_lines, int(self.capacity["overloaded"].sum()) if len(self.capacity) else 0,
                    int(self.storage["overflow"].sum()),
                    int((self.slips["status"] == "at risk of slipping").sum()) if len(self.slips) else 0,
                ],
            }
        )

    def gap_summary(self, by: str) -> pd.DataFrame:
        """Shortage gaps counted and summed by ``by`` (cause, location, family)."""
        gaps = self.gaps[self.gaps["kind"] == "shortage"].merge(self.series[["sku", "location", "family"]], on=["sku", "location"], how="left")
        return (
            gaps.groupby(by, as_index=False)
            .agg(gaps=("sku", "size"), shortage_qty=("shortage_qty", "sum"), peak_shortage_qty=("peak_shortage_qty", "sum"))
            .sort_values("shortage_qty", ascending=False)
            .reset_index(drop=True)
        )


    def projection_frame(self, sku: str, location: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """One SKU-location for a chart: (projections as a long frame week/measure/qty, its supply lines
        due in the horizon), read from the ``inventory_projection`` rows."""
        rows = self._rows_of("inventory_projection", self.projection, sku, location)
        if not len(rows):
            raise KeyError(f"no SKU-location {sku!r} @ {location!r} in this week's data")
        measures = {"projected_on_hand": "projected (current ETAs)", "constrained_projected_on_hand": "projected (capacity-constrained)",
                    "plan_projected_on_hand": "projected (as planned)", "predicted_projected_on_hand": "projected (predicted ETAs)",
                    "safety_stock": "safety stock"}
        lines = pd.concat([pd.DataFrame({"week": rows["week"].to_numpy(), "measure": label, "qty": rows[col].to_numpy(dtype=float)})
                           for col, label in measures.items() if col in rows], ignore_index=True)
        rec = self._rows_of("inbound_delays", self.lines, sku, location)
        return lines, rec[rec["eta_week"] <= self.weeks[-1]].reset_index(drop=True)

    def _rows_of(self, table: str, held: pd.DataFrame, sku: str, location: str) -> pd.DataFrame:
        """One SKU-location's rows of ``table``: read back from the run when the parts wrote it, else from ``held``."""
        if table in self.written:
            return self.rows_of(table, pd.DataFrame({"sku": [sku], "location": [location]}))
        return held[(held["sku"] == sku).to_numpy() & (held["location"] == location).to_numpy()]


def _matrix(frame: pd.DataFrame, series: pd.DataFrame, weeks: pd.DatetimeIndex, week_col: str, qty_col: str) -> np.ndarray:
    """Sum ``qty_col`` by series and ``week_col``; weeks before the horizon count in its first week."""
    f = frame[["_series", week_col, qty_col]].rename(columns={week_col: "week", qty_col: "qty"})
    f = f.assign(week=f["week"].clip(lower=weeks[0]))  # past due: arrives in the run week
    return to_matrix(f, series, weeks)


def _series_with_stock(data: Dataset) -> pd.DataFrame:
    """Every SKU-location with its product's money and its stock (no inventory row: 0 on hand and 0
    safety stock, a data-health warning)."""
    series = data.series().merge(data.products[["sku", "family", "unit_price", "unit_cost"]], on="sku", how="left")
    inv = data.inventory
    on_hand = np.zeros(len(series))
    safety = np.zeros(len(series))
    rows = row_positions(inv, series)
    on_hand[rows], safety[rows] = inv["on_hand"].to_numpy(), inv["safety_stock"].to_numpy()
    series["on_hand"], series["safety_stock"] = on_hand, safety
    return series


def horizon(week: pd.Timestamp, horizon_weeks: int) -> pd.DatetimeIndex:
    """The horizon's ISO Mondays: the run week and the ``horizon_weeks - 1`` after it."""
    return pd.date_range(week, periods=horizon_weeks, freq="7D")


def analyse_supply(data: Dataset, sensed: pd.DataFrame, params: SupplyParams | None = None, horizon_weeks: int = HORIZON_WEEKS,
                   eta: pd.DataFrame | None = None) -> SupplyWeek:
    """Project, find gaps and their causes, delays, capacity and storage for the run week: the whole
    company as one :func:`supply_part`.

    ``sensed``: the ``sensed_demand`` table of the sensing step (week as ISO Mondays); ``eta``: the logistics
    step's ``eta_forecast`` (None: no predicted ETAs, the predicted projection is the constrained one).
    """
    weeks = horizon(data.week, horizon_weeks)
    load = capacity_load(data.supply, data.routings, data.capacity, weeks)  # empty without routings/capacity
    return supply_week([supply_part(data, sensed, params or SupplyParams(), weeks, load, eta=eta)], weeks, load, data.locations)


def supply_part(data: Dataset, sensed: pd.DataFrame, p: SupplyParams, weeks: pd.DatetimeIndex, load: pd.DataFrame,
                line_ids: np.ndarray | None = None, eta: pd.DataFrame | None = None) -> SupplyPart:
    """Projections, gaps and their causes, line delays and stock held for the series of ``data`` (all of
    them, or a part), given the capacity ``load`` of every series (:func:`~.capacity.capacity_load`): the
    only thing series share here is a resource's hours, and its load is a sum over series.
    ``line_ids``: each supply row's position in the whole supply table (default: ``data.supply`` is whole);
    ``eta``: the ``eta_forecast`` rows of these series (:mod:`.slipping`)."""
    series = _series_with_stock(data)
    safety = series["safety_stock"].to_numpy()
    sensed_keys = sensed.merge(series[["sku", "location", "_series"]], on=["sku", "location"], how="inner")
    supply = data.supply
    plan, current, constrained, per_line = _projections(data, sensed_keys, series, weeks, load)
    lines = line_delays(supply, line_ids).assign(
        constrained_qty=(per_line["on_time_qty"] + per_line["late_qty"]).to_numpy(),
        carried_qty=per_line["late_qty"].to_numpy(),
        at_risk_qty=per_line["at_risk_qty"].to_numpy(),
        bottleneck=per_line["bottleneck"].to_numpy(),
    )
    gaps, causes = find_gaps(series, weeks, plan, current, constrained, safety, lines, supply, p.min_gap_qty)
    lines = mark_lines(lines, supply, gaps)
    # by series, then line: parts of consecutive series give the same rows in the same order as the whole
    lines = lines.iloc[np.lexsort((lines["line_id"].to_numpy(), supply["_series"].to_numpy()))].reset_index(drop=True)
    sd = demand_spread(sensed_keys, series, weeks)
    chance = shortage_probability(constrained.projected, sd)
    gaps["shortage_probability"] = _gap_probability(gaps, series, weeks, chance)
    slipping = slipping_lines(eta).astype({"sku": str, "location": str}).merge(series[["sku", "location", "_series"]], on=["sku", "location"])
    predicted = predicted_projection(series, weeks, constrained, slipping)
    projection = _projection_table(series, weeks, plan, current, constrained, safety, p.cover_weeks, chance, sd, predicted)
    return SupplyPart(series, projection, gaps, causes, lines, units_held(series, weeks, constrained),
                      float(constrained.demand.sum()), float(constrained.short_new.sum()),
                      {by: delay_sums(lines, by) for by in ("supplier", "kind")}, int(lines["creates_shortage"].sum()),
                      slip_risk(series, weeks, constrained, predicted, slipping, p.min_gap_qty))


def _projections(data: Dataset, sensed_keys: pd.DataFrame, series: pd.DataFrame, weeks: pd.DatetimeIndex,
                 load: pd.DataFrame) -> tuple[Projection, Projection, Projection, pd.DataFrame]:
    """The three projections (plan, current, constrained) and per supply line what capacity lets arrive."""
    on_hand = series["on_hand"].to_numpy()
    demand = to_matrix(sensed_keys, series, weeks, "sensed_qty")
    # only the horizon's weeks of the plan: read alone from a snapshot (at 1M series the whole plan is 182M rows)
    # (and only the key, week and quantity: no key strings decoded)
    plan_rows = data.weeks_of("demand_plan", weeks[0], weeks[-1] + pd.Timedelta(weeks=1), ["_series", "week", "qty"])
    plan_demand = to_matrix(plan_rows, series, weeks, "qty")
    # supply: planned week, current ETA, and when capacity lets production arrive (carried over)
    supply = data.supply
    arrivals, per_line = line_completion(supply, data.routings, load, weeks)
    arrivals = arrivals.assign(_series=supply["_series"].to_numpy()[arrivals["line"].to_numpy()])
    plan = project(on_hand, _matrix(supply, series, weeks, "week", "qty"), plan_demand)
    current = project(on_hand, _matrix(supply, series, weeks, "eta_week", "qty"), demand)
    constrained = project(on_hand, _matrix(arrivals, series, weeks, "week", "qty"), demand)
    return plan, current, constrained, per_line


def supply_week(parts: list[SupplyPart], weeks: pd.DatetimeIndex, load: pd.DataFrame, locations: pd.DataFrame) -> SupplyWeek:
    """The week from its parts (in series order): rows concatenated, gaps numbered across the parts
    (every shortage first, then every safety-stock gap; by series, then week: as one part numbers
    them), supply lines by series then line (as one part orders them), storage from the parts' summed
    units held, the supplier and kind summaries from the parts' summed delays."""
    gaps, causes = number_gaps([p.gaps for p in parts], [p.causes for p in parts])
    result = SupplyWeek(
        pd.concat([p.series for p in parts], ignore_index=True), weeks, pd.concat([p.projection for p in parts], ignore_index=True),
        gaps, pd.concat([p.lines for p in parts], ignore_index=True), load,
        storage_load(locations, pd.concat([p.held for p in parts], ignore_index=True)),
        sum(p.demand_qty for p in parts), sum(p.short_qty for p in parts),
        sum(p.shortage_lines for p in parts), causes=causes, slips=pd.concat([p.slips for p in parts], ignore_index=True),
    )
    result.by_supplier, result.by_kind = (delay_summary(pd.concat([p.line_sums[by] for p in parts], ignore_index=True), by) for by in ("supplier", "kind"))
    return result


def number_gaps(gaps: list[pd.DataFrame], causes: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gaps and their causes of several parts, ``gap_id`` numbered across them: all shortages in part
    order, then all safety-stock gaps (each part numbers its own that way)."""
    tagged = pd.concat([g.assign(_part=i) for i, g in enumerate(gaps)], ignore_index=True)
    tagged = tagged.sort_values("kind", key=lambda k: (k != "shortage").astype(int), kind="stable").reset_index(drop=True)
    new_id = pd.Series(np.arange(len(tagged)), index=pd.MultiIndex.from_arrays([tagged["_part"], tagged["gap_id"]]))
    out = tagged.assign(gap_id=new_id.to_numpy()).drop(columns="_part")
    week_causes = pd.concat([c.assign(_part=i) for i, c in enumerate(causes)], ignore_index=True)
    at = pd.MultiIndex.from_arrays([week_causes["_part"], week_causes["gap_id"]])
    week_causes["gap_id"] = new_id.reindex(at).to_numpy()
    # each part's causes are in (gap, week, cause) order: a stable sort by the new number keeps the rest
    week_causes = week_causes.sort_values("gap_id", kind="stable").drop(columns="_part").reset_index(drop=True)
    return out.astype({"gap_id": "int64"}), week_causes.astype({"gap_id": "int64"})


Z90 = 1.2815515655446004  # the standard normal's 90 % quantile: P10..P90 spans 2 x 1.2816 standard deviations


def demand_spread(sensed: pd.DataFrame, series: pd.DataFrame, weeks: pd.DatetimeIndex) -> np.ndarray:
    """(series x weeks) standard deviation of each week's demand, read from sensing's P10 and P90:
    ``sd = (P90 - P10) / (2 x 1.2816)`` (0 without bands)."""
    if "p90_qty" not in sensed or "p10_qty" not in sensed:
        return np.zeros((len(series), len(weeks)))
    width = sensed.assign(_w=(sensed["p90_qty"] - sensed["p10_qty"]).clip(lower=0))
    return to_matrix(width, series, weeks, "_w") / (2 * Z90)


def shortage_probability(projected: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """P(the week ends short) = P(cumulative demand exceeds what the projection expects it to leave)
    = ``Phi(-projected / sqrt(sum of the weekly variances so far))`` (weeks independent); 1 or 0 when
    demand is certain."""
    from scipy.special import ndtr  # the normal distribution function, vectorised

    cum_sd = np.sqrt(np.cumsum(sd**2, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = ndtr(-projected / cum_sd)
    return np.where(cum_sd > 0, p, (projected < 0).astype(float))


def _gap_probability(gaps: pd.DataFrame, series: pd.DataFrame, weeks: pd.DatetimeIndex, chance: np.ndarray) -> np.ndarray:
    """Per gap: the largest shortage probability over its weeks."""
    if gaps.empty:
        return np.zeros(0)
    rows = pd.Index(series["_series"]).get_indexer(gaps["_series"])
    first, last = weeks.get_indexer(gaps["first_week"]), weeks.get_indexer(gaps["last_week"])
    t = np.arange(len(weeks))[None, :]
    inside = (t >= first[:, None]) & (t <= last[:, None])
    return np.where(inside, chance[rows], 0.0).max(axis=1)


def _projection_table(
    series: pd.DataFrame, weeks: pd.DatetimeIndex, plan: Projection, current: Projection, constrained: Projection,
    safety: np.ndarray, cover_weeks: int, chance: np.ndarray, sd: np.ndarray, predicted: Projection,
) -> pd.DataFrame:
    """The ``inventory_projection`` table: the three projections, long (one row per series and week)."""
    h = len(weeks)
    out = long_frame(
        series[["sku", "location"]],
        weeks,
        {
            "demand_qty": current.demand,
            "receipts_qty": current.receipts,
            "projected_on_hand": current.projected,
            "shortage_qty": current.backlog,
            "weeks_of_supply": weeks_of_supply(current.projected, current.demand, cover_weeks),
            "constrained_receipts_qty": constrained.receipts,
            "constrained_projected_on_hand": constrained.projected,
            "constrained_shortage_qty": constrained.backlog,
            "shortage_probability": chance,
            "demand_sd": sd,
            "plan_demand_qty": plan.demand,
            "plan_receipts_qty": plan.receipts,
            "plan_projected_on_hand": plan.projected,
            "plan_shortage_qty": plan.backlog,
            "predicted_receipts_qty": predicted.receipts,
            "predicted_projected_on_hand": predicted.projected,
            "predicted_shortage_qty": predicted.backlog,
        },
    )
    out["safety_stock"] = np.repeat(safety, h)
    out["below_safety_stock"] = (out["constrained_projected_on_hand"] >= 0) & (out["constrained_projected_on_hand"] < out["safety_stock"])
    return out


SENSED_COLUMNS = ["sku", "location", "week", "sensed_qty", "p10_qty", "p90_qty"]  # what a part reads of sensed_demand


class SupplyStep(Step):
    """Step 3 on the step protocol. In parts (light: one per 100k series): round 1 sums the production hours
    each part's lines put on each resource and week into the ``capacity_load`` table (a resource's hours are
    what couples series, and its load is a sum over them); round 2 projects each part against that load,
    finds its gaps and their causes, its lines' delays and the stock its locations hold (its rows of
    ``sensed_demand`` read from the run's tables); the parts are joined as :func:`supply_week` joins them."""

    name = "supply"
    notebook = "03_supply_gaps.ipynb"
    title = "supply gaps"
    groups = (SupplyParams,)
    inputs = ("sensed_demand", "eta_forecast")
    written_in_parts = ("inventory_projection", "inbound_delays")
    reads = {"inventory": None, "supply": None, "routings": None, "capacity": None, "locations": None, "products": None}

    def run(self, ctx: StepContext) -> SupplyWeek:
        return analyse_supply(ctx.data, ctx.table("sensed_demand"), ctx.group(SupplyParams), ctx.horizon_weeks, ctx.table("eta_forecast"))

    def split(self, ctx: StepContext, partitions: int, workers: int) -> list[tuple[int, int]]:
        keys = ctx.data.series()["_series"].to_numpy()
        return series_ranges(keys, light_parts(len(keys), partitions, workers))

    def in_parts(self, ctx: StepContext, ranges: list[tuple[int, int]]) -> InParts:
        data, weeks = ctx.data, horizon(ctx.data.week, ctx.horizon_weeks)

        def load_of(results: Iterable[tuple[int, pd.DataFrame]], _carried: Any) -> pd.DataFrame:
            dues = [d for d in in_order(results) if len(d)]
            due = pd.concat(dues, ignore_index=True) if dues else due_load(pd.DataFrame(), data.routings, weeks)
            return capacity_load(None, data.routings, data.capacity, weeks, due=due)

        def joined(results: Iterable[tuple[int, SupplyPart]], load: pd.DataFrame) -> SupplyWeek:
            week = supply_week(in_order(results), weeks, load, data.locations)
            week.written, week.rows_of = frozenset(self.written_in_parts), ctx.rows
            return week

        return InParts(
            prepare=Part.state,
            rounds=(Round(partial(_due_of_part, weeks), load_of), Round(partial(_part_of_week, ctx.group(SupplyParams), weeks), joined)),
            combine=lambda week: week,
            bytes_per_series=5_000,
        )


def _due_of_part(weeks: pd.DatetimeIndex, state: tuple[Part, PartReader, Dataset], _carried: Any) -> pd.DataFrame:
    data = state[2]
    return due_load(data.supply, data.routings, weeks)


def _part_of_week(p: SupplyParams, weeks: pd.DatetimeIndex, state: tuple[Part, PartReader, Dataset], load: pd.DataFrame) -> SupplyPart:
    """The part's supply analysis; its lines numbered by their position in the whole supply table, as the whole
    run numbers them (the part's rows come in the whole table's order)."""
    part, reader, data = state
    sensed = reader.rows("sensed_demand", data.series(), SENSED_COLUMNS)
    eta = reader.rows("eta_forecast", data.series(), ETA_COLUMNS)
    found = supply_part(data, sensed, p, weeks, load, part.rows_of(reader, "supply", len(data.supply)), eta)
    # its projection rows and lines written here, as parts of the tables: the client never holds the 13M rows
    # and 8.7M lines of 1M series (only the lines' sums by supplier and kind come back)
    reader.write("inventory_projection", found.projection)
    reader.write("inbound_delays", found.lines)
    return dataclasses.replace(found, projection=found.projection.iloc[:0], lines=found.lines.iloc[:0])


SUPPLY = SupplyStep()
