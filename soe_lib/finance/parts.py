"""Finance in parts of the series (the Dask engine; in process the whole company is one part).

What finance reads of the projection comes in two kinds. Sums and rows every series adds to (plan vs
estimate per family and week, excess stock per SKU-location): each part gives its own
(:func:`projection_part`). And the shortage gaps' money at risk and countermeasure options
(:func:`gap_part`): per gap, over the series it can draw on: its own, every location of its SKU (a
transfer's source) and an accepted substitute at its location. With parts that hold every location of
their SKUs (:func:`soe_lib.core.step.sku_ranges`) only the substitutes' rows come from other
parts (:func:`substitute_pairs`); :func:`join_gap_parts` puts the parts' gaps and options back in the order
one part gives (largest margin at risk first) for the joint plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.lanes import ETA_COLUMNS
from ..core.matrix import keys_in
from ..core.step import Part, PartReader
from .catalogue import load_catalogue
from .countermeasures import generate_options, serving_ports, substitutes_at
from .decisions import FINDING_WEEKS
from .money import estimate_sums, excess_rows, money_at_risk
from .params import FinanceParams
from .slips import slip_money
from .world import World, make_world, series_blocks

__all__ = ["GapPart", "ProjectionPart", "finance_part", "gap_part", "join_gap_parts", "projection_part", "read_part", "substitute_pairs", "week_world"]


def substitute_pairs(gaps: pd.DataFrame, substitutes: pd.DataFrame) -> pd.DataFrame:
    """(sku, location) of every accepted substitute at the location of a shortage among ``gaps``: the
    series whose stock the substitute options of those gaps draw on."""
    short = gaps.loc[gaps["kind"] == "shortage", ["sku", "location"]].astype(str)
    if not len(substitutes) or not len(short):
        return pd.DataFrame({"sku": pd.Series(dtype="str"), "location": pd.Series(dtype="str")})
    at = substitutes_at(short, substitutes[["sku", "substitute_sku", "location"]].astype({"sku": "str"}))
    return pd.DataFrame({"sku": at["substitute_sku"].astype(str), "location": at["location"]}).drop_duplicates().reset_index(drop=True)


def week_world(data: Dataset, projection: pd.DataFrame, p: FinanceParams, weeks: pd.DatetimeIndex) -> World:
    """The :class:`~.world.World` of ``projection`` (rows of whole series) under the run's policy."""
    return make_world(projection, data.products, weeks, p.backorder_share, p.delay_cost_share, data.locations)


@dataclass
class ProjectionPart:
    """What finance reads of (part of) ``inventory_projection``: the sums and rows every series adds
    to, and the rows of some series (all rows when nothing says which)."""

    estimate: pd.DataFrame  # family x week sums (money.estimate_sums)
    excess: pd.DataFrame  # money.excess_rows
    rows: pd.DataFrame  # inventory_projection rows of the series asked for (the demand findings')
    slips: pd.DataFrame = field(default_factory=pd.DataFrame)  # slips.slip_money: its slipping lines valued by the kernel


def projection_part(world: World, projection: pd.DataFrame, products: pd.DataFrame, p: FinanceParams, keep: pd.DataFrame | None = None,
                    eta: pd.DataFrame | None = None) -> ProjectionPart:
    """:class:`ProjectionPart` of the series of ``world`` (``projection``: their rows; ``eta``: their ``eta_forecast`` rows,
    whose slipping lines are valued by :func:`~.slips.slip_money`); ``keep``: (sku,
    location) of the rows to keep (default all); kept for a part, only what the decision list reads of them (the
    demand and plan of the weeks its findings are valued on: 1.3M rows of 13M at 1M series, not 4.2M whole)."""
    if keep is None:
        rows = projection
    else:
        near = _rows_of(world, projection, keep) & (projection["week"] < world.weeks[0] + pd.Timedelta(weeks=FINDING_WEEKS)).to_numpy()
        rows = projection.loc[near, ["sku", "location", "week", "demand_qty", "plan_demand_qty"]].reset_index(drop=True)
    return ProjectionPart(estimate_sums(world, products), excess_rows(world, products, p.excess_weeks), rows, slip_money(world, eta))


def _rows_of(world: World, projection: pd.DataFrame, keep: pd.DataFrame) -> np.ndarray:
    """The rows of ``projection`` of the SKU-locations ``keep``: by the world's series rows when the projection is
    in series blocks (as the supply step writes it: the world's row ``i`` is its ``i``-th block), else by key."""
    if not series_blocks(projection):
        return keys_in(projection, keep)
    rows = world.rows(keep["sku"].astype(str), keep["location"].astype(str))
    wanted = np.zeros(len(world.keys), dtype=bool)
    wanted[rows[rows >= 0]] = True
    return np.repeat(wanted, len(world.weeks))


@dataclass
class GapPart:
    """Money at risk and the countermeasure options of the shortage gaps of a part of the series."""

    impact: pd.DataFrame  # financial_impact rows of the part, largest margin at risk first
    options: pd.DataFrame  # generate_options of the part's gaps (with the model's columns; ``row`` in ``world``)
    world: World  # the part's gap series (what the joint plan reads of them)


def gap_part(data: Dataset, gaps: pd.DataFrame, world: World, lines: pd.DataFrame, capacity: pd.DataFrame, p: FinanceParams,
             lane_load: pd.DataFrame | None = None) -> GapPart:
    """Money at risk (:func:`~.money.money_at_risk`) and every option (:func:`~.countermeasures.generate_options`)
    of the shortages among ``gaps``, in ``world`` (the series they can draw on: their own, every location
    of their SKUs, the substitutes at their locations). The world kept is that of the gaps' series. ``lane_load``: the
    logistics step's table (what the lanes carry already: a mode switch's room)."""
    impact = money_at_risk(gaps, data.products, world)
    w = world.with_gaps(impact)
    options = generate_options(w, lines, capacity, data.routings, data.products, data.substitutes, data.open_orders,
                               load_catalogue(p.countermeasure_catalogue), p.frozen_fence_weeks,
                               data.tables["lanes"] if data.has("lanes") else None, lane_load,
                               serving_ports(lines, data.tables["receipts_history"] if data.has("receipts_history") else None))
    used = np.unique(np.r_[options["row"].to_numpy(dtype=np.int64), w.gaps["row"].to_numpy(dtype=np.int64)])
    return GapPart(impact, options.assign(row=np.searchsorted(used, options["row"].to_numpy())), w.restrict(used))


def join_gap_parts(parts: list[GapPart]) -> tuple[pd.DataFrame, pd.DataFrame, World]:
    """(impact, options, the gaps' world) of all parts in the order one part gives: gaps by margin at
    risk, largest first (ties in gap order: parts come in series order), each gap's options together
    in the order its part ranked them."""
    if len(parts) == 1:
        return parts[0].impact, parts[0].options, parts[0].world
    impact = pd.concat([x.impact for x in parts], ignore_index=True).sort_values("margin_at_risk", ascending=False, kind="stable")
    position = pd.Series(np.arange(len(impact)), index=impact["gap_id"].to_numpy())
    offsets = np.cumsum([0] + [len(x.world.keys) for x in parts])[:-1]
    options = pd.concat([x.options.assign(row=x.options["row"] + o) for x, o in zip(parts, offsets, strict=True)], ignore_index=True)
    options = options.iloc[np.argsort(position.reindex(options["gap_id"].to_numpy()).to_numpy(), kind="stable")].reset_index(drop=True)
    world = World.concat([x.world for x in parts])
    at = pd.Index(world.gaps["gap_id"]).get_indexer(impact["gap_id"].to_numpy())
    world.gaps = world.gaps.iloc[at].reset_index(drop=True)
    return impact.reset_index(drop=True), options, world


# what the options read of a substitute's projection (World) and money at risk of a gap's
WORLD_COLUMNS = ["sku", "location", "week", "constrained_projected_on_hand", "constrained_shortage_qty", "demand_qty", "weeks_of_supply",
                 "safety_stock", "constrained_receipts_qty", "demand_sd", "plan_demand_qty"]
# what the order options read of the supply lines
LINE_COLUMNS = ["line_id", "sku", "location", "order_id", "eta_week", "qty", "kind", "late", "firm", "mode", "origin", "destination", "ship_week",
                "status"]


def read_part(part: Part, reader: PartReader) -> tuple[Dataset, PartReader]:
    """A part's snapshot rows (the state of :func:`finance_part`)."""
    return reader.snapshot(), reader


def finance_part(p: FinanceParams, weeks: pd.DatetimeIndex, findings: pd.DataFrame, state: tuple[Dataset, PartReader],
                 _carried: object = None) -> tuple[ProjectionPart, GapPart]:
    """A part's sums, excess rows and rows of ``findings`` (:func:`projection_part`), and its gaps' money at risk
    and options (:func:`gap_part`) from its own rows (every location of its SKUs) and those of the substitutes at
    its short locations, read from the run's tables."""
    data, reader = state
    series = data.series()
    own = reader.rows("inventory_projection", series)
    gaps = reader.rows("supply_gaps", series)
    wanted = substitute_pairs(gaps, data.substitutes)
    wanted = wanted[~keys_in(wanted, series)]  # those of other parts
    lines = reader.rows("inbound_delays", series, LINE_COLUMNS)  # the file is in supply order: every part scans it
    own_world = week_world(data, own, p, weeks)
    # the substitutes' series beside the part's own (every figure of a series is its own: its scenarios are not drawn twice)
    world = World.concat([own_world, week_world(data, reader.rows("inventory_projection", wanted, WORLD_COLUMNS), p, weeks)]) if len(wanted) else own_world
    eta = reader.rows("eta_forecast", series, ETA_COLUMNS)
    return projection_part(own_world, own, data.products, p, findings, eta), gap_part(data, gaps, world, lines, reader.table("capacity_load"), p,
                                                                                         reader.table("lane_load"))
