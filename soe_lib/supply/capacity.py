"""Production capacity: the load per resource-week, and when production can actually be completed.

For resource r and week t (production lines at their current ETA; routings give hours per unit)::

    load_hours[r, t]    = sum(qty x hours_per_unit) over the production lines of r due in week t
    load_pct[r, t]      = load_hours / available_hours

A week's production that does not fit is **carried into the next weeks**, first in, first out: each
week's hours first finish what earlier weeks could not, then the week's own load::

    carried_in[r, t]    = carried_out[r, t-1]
    completed[r, t]     = min(available[r, t], carried_in + load)
    carried_out[r, t]   = carried_in + load - completed
    slack_hours[r, t]   = available - completed                 (room to build ahead)

A production line due in week t0 completes, on each resource of its routing, in the weeks its
origin week's hours are finished; its units arrive as the slowest resource finishes them. What is
still unfinished at the horizon's end is production at risk. A resource without capacity rows (or a
week without a row) is unlimited.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.outputs import OUTPUTS

__all__ = ["capacity_load", "carry_over", "due_load", "line_completion", "load_table"]


def _production(supply: pd.DataFrame, routings: pd.DataFrame) -> pd.DataFrame:
    """The production lines of ``supply`` (``line``: position in it) with their routings' resources and hours."""
    prod = supply[supply["kind"].eq("production").fillna(False).to_numpy()]
    lines = prod.reset_index().rename(columns={"index": "line"})
    route = routings[["sku", "location", "resource", "hours_per_unit"]]
    keys = ("sku", "location")
    if all(isinstance(lines[k].dtype, pd.CategoricalDtype) for k in keys):
        # the routings' keys in the lines' categories: joined on integer codes, not text (at 1M, 176k lines x 400k
        # routings per part); a routing of an unknown key becomes blank and joins no line
        route = route.assign(**{k: pd.Categorical(route[k].astype(str), dtype=lines[k].dtype) for k in keys})
    return lines.merge(route, on=list(keys), how="inner")


def carry_over(load: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FIFO completion of each origin week's hours, for all resources at once.

    ``load``, ``available`` (R, T); ``available`` NaN = unlimited. Returns ``done`` (R, T origin, T week):
    hours of origin week t0 completed in week t; and ``carried_in`` (R, T).
    """
    n_r, n_t = load.shape
    avail = np.where(np.isnan(available), np.inf, available)
    left = load.astype(float).copy()  # hours of each origin week not yet done
    done = np.zeros((n_r, n_t, n_t))
    carried_in = np.zeros((n_r, n_t))
    for t in range(n_t):  # weeks, each vectorised over resources; origin weeks oldest first
        carried_in[:, t] = left[:, :t].sum(axis=1)
        room = avail[:, t].copy()
        for t0 in range(t + 1):
            take = np.minimum(left[:, t0], room)
            done[:, t0, t] = take
            left[:, t0] -= take
            room -= take
    return done, carried_in


DUE_COLUMNS = {"resource": "object", "week": "datetime64[ns]", "load_hours": "float64", "lines": "int64"}


def due_load(supply: pd.DataFrame, routings: pd.DataFrame, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Production hours due per resource and ETA week of the horizon:
    ``load_hours[r, t] = sum(qty x hours_per_unit)`` and ``lines[r, t]`` (production lines due) over the
    production lines of ``supply``. Sums: the load of a set of series is the sum of its parts' loads (a
    line belongs to one series), which is how the Dask engine adds up capacity from its parts."""
    if routings.empty or supply.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in DUE_COLUMNS.items()})
    routed = _production(supply, routings)
    routed = routed[routed["eta_week"].isin(weeks)].assign(hours=lambda f: f["qty"] * f["hours_per_unit"])
    due = routed.groupby(["resource", "eta_week"], as_index=False).agg(load_hours=("hours", "sum"), lines=("line", "nunique"))
    return due.rename(columns={"eta_week": "week"})[list(DUE_COLUMNS)]


LOAD_COLUMNS = OUTPUTS["capacity_load"].names  # the contract's order (soe_lib/core/outputs.py)


def capacity_load(supply: pd.DataFrame | None, routings: pd.DataFrame, capacity: pd.DataFrame, weeks: pd.DatetimeIndex,
                  due: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per resource and horizon week: due load, carry-over in and out, completion, slack
    (:func:`load_table` of :func:`due_load` of ``supply``, or of ``due`` when given: the hours due of
    several parts, concatenated). Empty without routings or capacity."""
    if routings.empty or capacity.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c.endswith(("hours", "pct")) else "object") for c in LOAD_COLUMNS})
    return load_table(due_load(supply, routings, weeks) if due is None else due, capacity, weeks)


def load_table(due: pd.DataFrame, capacity: pd.DataFrame, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """The ``capacity_load`` table from the hours due (:func:`due_load`, or the concatenation of several
    parts' dues: summed here) and the hours available, with the FIFO carry-over of the module doc."""
    cols = LOAD_COLUMNS
    grid, load, avail, lines = _grid(due, capacity, weeks)
    done, carried_in = carry_over(load, avail)
    completed = done.sum(axis=1)
    out = grid.copy()
    out["load_hours"] = load.reshape(-1)
    out["available_hours"] = avail.reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(avail > 0, load / avail, np.where(load > 0, np.inf, 0.0))
    out["load_pct"] = np.where(np.isnan(avail), np.nan, pct).reshape(-1)
    out["carried_in_hours"] = carried_in.reshape(-1)
    out["completed_hours"] = completed.reshape(-1)
    out["carried_out_hours"] = (carried_in + load - completed).reshape(-1)
    out["overloaded"] = (carried_in + load > np.where(np.isnan(avail), np.inf, avail) + 1e-9).reshape(-1)
    out["slack_hours"] = np.where(np.isnan(avail), np.nan, np.clip(avail - completed, 0, None)).reshape(-1)
    out["lines"] = lines.reshape(-1).astype(int)
    return out[cols]


def _grid(due: pd.DataFrame, capacity: pd.DataFrame, weeks: pd.DatetimeIndex) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """(resource x week grid, load hours, available hours, lines) as (R, T) matrices."""
    resources = sorted(capacity["resource"].unique())
    grid = pd.MultiIndex.from_product([resources, weeks], names=["resource", "week"]).to_frame(index=False)
    summed = due.groupby(["resource", "week"])[["load_hours", "lines"]].sum()  # parts of one resource-week add up
    at = pd.MultiIndex.from_frame(grid)
    load = summed["load_hours"].reindex(at).fillna(0.0).to_numpy(dtype=float).reshape(len(resources), len(weeks))
    lines = summed["lines"].reindex(at).fillna(0).to_numpy(dtype=float).reshape(len(resources), len(weeks))
    avail = capacity.set_index(["resource", "week"])["available_hours"].reindex(at).to_numpy(dtype=float).reshape(len(resources), len(weeks))
    return grid, load, avail, lines


def line_completion(supply: pd.DataFrame, routings: pd.DataFrame, load: pd.DataFrame, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """When each production line's units arrive once capacity is respected.

    Returns one row per (supply line, week) with ``qty`` arriving that week (lines untouched by
    capacity arrive whole at their ETA), and per line: ``on_time_qty`` (in its ETA week),
    ``late_qty`` (carried into a later horizon week), ``at_risk_qty`` (not finished in the horizon) and
    ``bottleneck`` (the resource that finishes it last). Lines outside the horizon are untouched.
    """
    idx = np.arange(len(supply))
    whole = pd.DataFrame({"line": idx, "week": supply["eta_week"].to_numpy(), "qty": supply["qty"].to_numpy(dtype=float)})
    per_line = pd.DataFrame({"line": idx, "on_time_qty": whole["qty"], "late_qty": 0.0, "at_risk_qty": 0.0,
                             "bottleneck": pd.Series([None] * len(supply), dtype="str")})
    if load.empty:
        return whole, per_line
    fractions, routed = _completion_fractions(supply, routings, load, weeks)
    if routed.empty:
        return whole, per_line
    # the slowest resource of each line decides when its units arrive
    by_line = pd.DataFrame(fractions, columns=range(len(weeks))).assign(line=routed["line"].to_numpy(), resource=routed["resource"].to_numpy())
    slowest = by_line.groupby("line")[list(range(len(weeks)))].min()
    cum = slowest.to_numpy()
    arrive = np.diff(np.concatenate([np.zeros((len(cum), 1)), cum], axis=1), axis=1)
    lines = slowest.index.to_numpy()
    qty = supply["qty"].to_numpy(dtype=float)[lines]
    eta_col = weeks.get_indexer(supply["eta_week"].to_numpy()[lines])
    rows, cols = np.nonzero(arrive > 1e-12)
    spread = pd.DataFrame({"line": lines[rows], "week": weeks[cols], "qty": qty[rows] * arrive[rows, cols]})
    whole = pd.concat([whole[~whole["line"].isin(lines)], spread], ignore_index=True).sort_values(["line", "week"]).reset_index(drop=True)
    on_time = qty * arrive[np.arange(len(lines)), eta_col]
    done = qty * cum[:, -1]
    per_line.loc[lines, "on_time_qty"] = on_time
    per_line.loc[lines, "late_qty"] = done - on_time
    per_line.loc[lines, "at_risk_qty"] = qty - done
    last_res = by_line.assign(score=by_line[list(range(len(weeks)))].sum(axis=1)).sort_values("score").drop_duplicates("line")
    held = per_line.loc[lines, "late_qty"].to_numpy() + per_line.loc[lines, "at_risk_qty"].to_numpy() > 1e-9
    bottleneck = last_res.set_index("line")["resource"].reindex(lines).to_numpy()
    per_line.loc[lines, "bottleneck"] = np.where(held, bottleneck, None)
    return whole, per_line


def _completion_fractions(supply, routings, load, weeks) -> tuple[np.ndarray, pd.DataFrame]:
    """Per (line, resource) of the routed production in the horizon: the cumulative share of the line
    finished by each week (the share of its origin week's hours the resource has finished)."""
    resources = sorted(load["resource"].unique())
    r_index = {r: i for i, r in enumerate(resources)}
    grid_load = load["load_hours"].to_numpy().reshape(len(resources), len(weeks))
    avail = load["available_hours"].to_numpy(dtype=float).reshape(len(resources), len(weeks))
    done, _ = carry_over(grid_load, avail)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(grid_load[:, :, None] > 0, np.cumsum(done, axis=2) / grid_load[:, :, None], 1.0)  # (R, T0, T)
    routed = _production(supply, routings)
    routed = routed[routed["eta_week"].isin(weeks) & routed["resource"].isin(r_index)].reset_index(drop=True)
    if routed.empty:
        return np.zeros((0, len(weeks))), routed
    r = routed["resource"].map(r_index).to_numpy()
    t0 = weeks.get_indexer(routed["eta_week"].to_numpy())
    fractions = np.clip(share[r, t0, :], 0, 1)
    fractions[np.arange(len(weeks))[None, :] < t0[:, None]] = 0.0  # nothing arrives before its ETA
    return fractions, routed
