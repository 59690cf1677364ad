"""Storage: units held per location and week against its storage capacity.

Per location ``l`` and week ``t``, over the SKU-locations ``i`` at ``l`` (constrained projection)::

    units_held[l, t]        = sum_i (max(projected[i, t-1], 0) + receipts[i, t])   (when receipts land: the peak)
    units_end_of_week[l, t] = sum_i max(projected[i, t], 0)
    overflow_qty[l, t]      = max(units_held - storage_capacity, 0)

Sums over series: the units held of parts of the series add up (:func:`units_held` per part,
:func:`storage_load` of all parts' rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.projection import Projection

__all__ = ["storage_load", "units_held"]


def units_held(series: pd.DataFrame, weeks: pd.DatetimeIndex, constrained: Projection) -> pd.DataFrame:
    """Units held per location (of ``series``) and week, at the peak and at week end (see module doc)."""
    locs, codes = np.unique(series["location"].to_numpy(dtype=object), return_inverse=True)
    at_peak = np.zeros((len(locs), len(weeks)))
    at_end = np.zeros((len(locs), len(weeks)))
    np.add.at(at_peak, codes, constrained.held())
    np.add.at(at_end, codes, np.clip(constrained.projected, 0, None))
    return pd.DataFrame(
        {
            "location": np.repeat(locs, len(weeks)).astype(str),
            "week": np.tile(weeks.to_numpy(), len(locs)),
            "units_held": at_peak.reshape(-1),
            "units_end_of_week": at_end.reshape(-1),
        }
    )


def storage_load(locations: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame:
    """The ``storage_load`` table: units held (:func:`units_held`, of one part or of several parts:
    summed per location and week) against ``storage_capacity``, utilisation and overflow."""
    out = held.groupby(["location", "week"], as_index=False, sort=True)[["units_held", "units_end_of_week"]].sum()
    cap = locations.set_index("location")["storage_capacity"]
    out["storage_capacity"] = out["location"].map(cap).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["utilization"] = out["units_held"] / out["storage_capacity"]
    out["overflow_qty"] = (out["units_held"] - out["storage_capacity"]).clip(lower=0).fillna(0.0)
    out["overflow"] = out["overflow_qty"] > 0
    return out
