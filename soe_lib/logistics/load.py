"""Lane load: the units the open lines ship on each lane and week, against the lane's weekly capacity.

For every open line on a lane of the ``lanes`` table (origin, destination, mode; not delivered), its shipping week is
its ``ship_week``, else its ETA less the lane's ``transit_weeks``; per lane and shipping week of the horizon::

    shipping_qty = sum(qty of the lines shipping that week)
    room_qty     = max(weekly_capacity - shipping_qty, 0)        (blank: the lane has no stated capacity)

A mode switch in the joint plan may use at most ``room_qty`` of a lane in a week. Sums of parts of the lines add up
to the sums of all of them (:func:`load_sums` per part, :func:`lane_load` of the stacked sums).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.lanes import LANE, lane_keys

__all__ = ["lane_load", "load_sums"]

LOAD_COLUMNS = {"origin": "str", "destination": "str", "mode": "str", "week": "datetime64[ns]", "shipping_qty": "float64",
                "weekly_capacity": "float64", "room_qty": "float64"}


def load_sums(supply: pd.DataFrame, lanes: pd.DataFrame | None, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Units shipping per lane (of ``lanes``) and horizon week of the open lines of ``supply`` (all, or a part's)."""
    if lanes is None or lanes.empty or "mode" not in supply or supply.empty:
        return pd.DataFrame({"origin": [], "destination": [], "mode": [], "week": pd.Series(dtype="datetime64[ns]"), "shipping_qty": []})
    status = supply["status"].astype("string").str.lower().fillna("") if "status" in supply else pd.Series("", index=supply.index)
    lines = supply[~status.eq("delivered").to_numpy()]
    keys = lane_keys(lines)
    transit = lanes.assign(**lane_keys(lanes)).set_index(LANE)["transit_weeks"].reindex(pd.MultiIndex.from_frame(keys))
    eta = pd.to_datetime(lines["eta_week"].fillna(lines["week"]) if "eta_week" in lines else lines["week"])
    derived = eta - pd.to_timedelta(transit.to_numpy(dtype=float) * 7, unit="D")
    ship = pd.to_datetime(lines["ship_week"]).fillna(derived) if "ship_week" in lines else derived
    frame = keys.assign(week=ship.to_numpy(), shipping_qty=lines["qty"].to_numpy(dtype=float))
    frame = frame[transit.notna().to_numpy() & frame["week"].between(weeks[0], weeks[-1]).to_numpy()]
    return frame.groupby([*LANE, "week"], as_index=False)["shipping_qty"].sum()


def lane_load(sums: pd.DataFrame, lanes: pd.DataFrame | None) -> pd.DataFrame:
    """``lane_load`` from :func:`load_sums` of all lines (or stacked sums of parts), every lane-week with shipments."""
    if sums.empty or lanes is None:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in LOAD_COLUMNS.items()})
    load = sums.groupby([*LANE, "week"], as_index=False)["shipping_qty"].sum()
    # matched in lower case; shown as the lanes table spells them
    named = lanes.assign(**{f"_{c}": v for c, v in lane_keys(lanes).items()}).set_index([f"_{c}" for c in LANE])
    at = pd.MultiIndex.from_frame(load[LANE])
    load["weekly_capacity"] = named["weekly_capacity"].reindex(at).to_numpy(dtype=float) if "weekly_capacity" in lanes else np.nan
    load["room_qty"] = (load["weekly_capacity"] - load["shipping_qty"]).clip(lower=0)
    for column in LANE:
        load[column] = named[column].astype(str).reindex(at).to_numpy()
    return load.sort_values([*LANE, "week"]).reset_index(drop=True).astype(LOAD_COLUMNS)
