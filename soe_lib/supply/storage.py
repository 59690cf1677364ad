"""Storage: units held per location and week against its storage capacity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.projection import Projection

__all__ = ["storage_load"]


def storage_load(locations: pd.DataFrame, series: pd.DataFrame, weeks: pd.DatetimeIndex, constrained: Projection) -> pd.DataFrame:
    """Units held per location and week (when receipts land, and at week end) vs storage capacity."""
    held = constrained.held()
    end = np.clip(constrained.projected, 0, None)
    locs, codes = np.unique(series["location"].to_numpy(dtype=object), return_inverse=True)
    at_peak = np.zeros((len(locs), len(weeks)))
    at_end = np.zeros((len(locs), len(weeks)))
    np.add.at(at_peak, codes, held)
    np.add.at(at_end, codes, end)
    out = pd.DataFrame(
        {
            "location": np.repeat(locs, len(weeks)).astype(str),
            "week": np.tile(weeks.to_numpy(), len(locs)),
            "units_held": at_peak.reshape(-1),
            "units_end_of_week": at_end.reshape(-1),
        }
    )
    cap = locations.set_index("location")["storage_capacity"]
    out["storage_capacity"] = out["location"].map(cap).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["utilization"] = out["units_held"] / out["storage_capacity"]
    out["overflow_qty"] = (out["units_held"] - out["storage_capacity"]).clip(lower=0).fillna(0.0)
    out["overflow"] = out["overflow_qty"] > 0
    return out
