"""The logistics step: what lanes really do, and when every open line will really come.

From the snapshot alone (``supply``, ``receipts_history``; beside the chain of the other notebooks): the delays
of deliveries already made by lane, mode, supplier and carrier (``lane_reliability``) and each open line's
predicted receipt week beside its stated ETA (``eta_forecast``), per :mod:`soe_lib.logistics.reliability`.
Without ``receipts_history`` the predictions are the stated ETAs (basis 0) and ``lane_reliability`` is empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.step import Step, StepContext
from .params import LogisticsParams
from .reliability import eta_forecast, lane_reliability

__all__ = ["LOGISTICS", "LogisticsStep", "LogisticsWeek", "analyse_logistics"]

LINE_COLUMNS = ["order_id", "sku", "location", "supplier", "mode", "origin", "destination", "carrier", "status", "qty", "week"]


@dataclass
class LogisticsWeek:
    reliability: pd.DataFrame  # lane_reliability
    eta: pd.DataFrame  # eta_forecast

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"lane_reliability": self.reliability, "eta_forecast": self.eta}

    def lanes(self) -> pd.DataFrame:
        """The lanes, least on time (recently) first: the ones to talk about."""
        lanes = self.reliability[self.reliability["level"] == "lane"]
        return lanes.sort_values(["trend_weeks", "shrunk_mean_delay_weeks"], ascending=False, na_position="last")

    def slipping(self) -> pd.DataFrame:
        """Open lines the lanes' record says will come later than stated, the most units-weeks first."""
        late = self.eta[self.eta["slip_weeks"] > 0]
        return late.assign(_w=late["slip_weeks"] * late["qty"]).sort_values("_w", ascending=False).drop(columns="_w")


def _open_lines(supply: pd.DataFrame) -> pd.DataFrame:
    """The supply lines not yet delivered, with ``line_id`` (position in the supply input) and every
    logistics column (blank when the input has none)."""
    lines = supply.reindex(columns=[*LINE_COLUMNS, "eta_week"])
    lines.insert(0, "line_id", np.arange(len(supply), dtype=np.int64))
    status = lines["status"].astype("string").str.lower()
    return lines[~status.eq("delivered").fillna(False).to_numpy()]


def analyse_logistics(data: Dataset, p: LogisticsParams) -> LogisticsWeek:
    """``lane_reliability`` and ``eta_forecast`` of the run week ``data.week`` (module doc)."""
    history = data.tables["receipts_history"] if data.has("receipts_history") else pd.DataFrame()
    reliability = lane_reliability(history, data.week, p.prior_deliveries, p.trend_weeks, p.half_life_weeks)
    lines = _open_lines(data.supply)
    eta = eta_forecast(lines, history, data.week, p.prior_deliveries, p.half_life_weeks)
    out = lines[["line_id", *LINE_COLUMNS]].copy()
    for column in ("mode",):  # the contract accepts "Ocean" for ocean; the tables say it one way
        out[column] = out[column].astype("string").str.lower()
    out["eta_week"] = eta["eta_week"]
    for column in ("p50_delay_weeks", "p90_delay_weeks", "eta_p50_week", "eta_p90_week", "basis"):
        out[column] = eta[column]
    out["slip_weeks"] = ((out["eta_p50_week"] - out["eta_week"]).dt.days // 7).astype("int64")
    columns = [*out.columns[: out.columns.get_loc("p90_delay_weeks") + 1], "eta_p50_week", "eta_p90_week", "slip_weeks", "basis"]
    return LogisticsWeek(reliability, out.reindex(columns=list(dict.fromkeys(columns))).reset_index(drop=True))


class LogisticsStep(Step):
    """On the step protocol: whole, from the snapshot alone (a few groupbys and one sort over the deliveries,
    one vectorised pass over the open lines)."""

    name = "logistics"
    notebook = "07_logistics.ipynb"
    title = "logistics"
    groups = (LogisticsParams,)
    reads = {"supply": None, "receipts_history": None, "lanes": None}

    def run(self, ctx: StepContext) -> LogisticsWeek:
        return analyse_logistics(ctx.data, ctx.group(LogisticsParams))


LOGISTICS = LogisticsStep()
