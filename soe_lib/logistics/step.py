"""The logistics step: what lanes really do, what they carry, and when every open line will really come.

From the snapshot alone (``supply``, ``receipts_history``; beside the chain of the other notebooks): the delays
of deliveries already made by lane, mode, supplier and carrier (``lane_reliability``) and each open line's
predicted receipt week beside its stated ETA (``eta_forecast``), per :mod:`soe_lib.logistics.reliability`; the units
the open lines ship per lane and week against its capacity (``lane_load``, :mod:`soe_lib.logistics.load`).
Without ``receipts_history`` the predictions are the stated ETAs (basis 0) and ``lane_reliability`` is empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.params import HORIZON_WEEKS
from ..core.step import InParts, Part, PartReader, Round, Step, StepContext, in_order, light_parts, series_ranges
from .load import lane_load, load_sums
from .params import LogisticsParams
from .reliability import Learnt, eta_forecast, lane_reliability, learn

__all__ = ["LOGISTICS", "LogisticsStep", "LogisticsWeek", "analyse_logistics", "eta_table"]

LINE_COLUMNS = ["order_id", "sku", "location", "supplier", "mode", "origin", "destination", "carrier", "status", "qty", "week"]


@dataclass
class LogisticsWeek:
    reliability: pd.DataFrame  # lane_reliability
    load: pd.DataFrame  # lane_load: units shipping per lane and week against its capacity
    eta_frame: pd.DataFrame | None = None  # eta_forecast (whole; in parts: None until read back)
    read_eta: Callable[[], pd.DataFrame] | None = None  # in parts: reads back the table the parts wrote

    @property
    def eta(self) -> pd.DataFrame:
        """``eta_forecast``: computed here, or (in parts) read back from the run's tables when first asked."""
        if self.eta_frame is None and self.read_eta is not None:
            self.eta_frame = self.read_eta()
        return self.eta_frame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The step's tables but the one its parts wrote themselves."""
        return {"lane_reliability": self.reliability, "lane_load": self.load, **({} if self.read_eta is not None else {"eta_forecast": self.eta})}

    def lanes(self) -> pd.DataFrame:
        """The lanes, least on time (recently) first: the ones to talk about."""
        lanes = self.reliability[self.reliability["level"] == "lane"]
        lanes = lanes.sort_values(["trend_weeks", "shrunk_mean_delay_weeks"], ascending=False, na_position="last")
        return lanes.drop(columns=["level", "supplier", "carrier"]).reset_index(drop=True)

    def slipping(self) -> pd.DataFrame:
        """Open lines the lanes' record says will come later than stated, the most units-weeks first."""
        late = self.eta[self.eta["slip_weeks"] > 0]
        ranked = late.assign(_w=late["slip_weeks"] * late["qty"]).sort_values("_w", ascending=False, kind="stable")
        return ranked.drop(columns="_w").reset_index(drop=True)


def _open_lines(supply: pd.DataFrame, line_ids: np.ndarray | None = None) -> pd.DataFrame:
    """The supply lines not yet delivered, with ``line_id`` (position in the supply input: ``line_ids`` when
    ``supply`` is a part of it) and every logistics column (blank when the input has none)."""
    lines = supply.reindex(columns=[*LINE_COLUMNS, "eta_week"])
    lines.insert(0, "line_id", np.arange(len(supply), dtype=np.int64) if line_ids is None else np.asarray(line_ids, dtype=np.int64))
    status = lines["status"].astype("string").str.lower()
    return lines[~status.eq("delivered").fillna(False).to_numpy()]


def _history(data: Dataset) -> pd.DataFrame:
    return data.tables["receipts_history"] if data.has("receipts_history") else pd.DataFrame()


def _lanes(data: Dataset) -> pd.DataFrame | None:
    return data.tables["lanes"] if data.has("lanes") else None


def _weeks(data: Dataset, horizon_weeks: int) -> pd.DatetimeIndex:
    return pd.date_range(data.week, periods=horizon_weeks, freq="7D")


def eta_table(supply: pd.DataFrame, learnt: Learnt | None, week: pd.Timestamp, p: LogisticsParams, line_ids: np.ndarray | None = None) -> pd.DataFrame:
    """``eta_forecast`` of the open lines of ``supply`` (all of them, or a part's with their ``line_ids``) from the
    run's :func:`~.reliability.learn` of its deliveries (None: none)."""
    lines = _open_lines(supply, line_ids)
    eta = eta_forecast(lines, None, week, p.prior_deliveries, p.half_life_weeks, learnt=learnt)
    out = lines[["line_id", *LINE_COLUMNS]].copy()
    out["mode"] = out["mode"].astype("string").str.lower()  # the contract accepts "Ocean" for ocean; the tables say it one way
    out["eta_week"] = eta["eta_week"]
    for column in ("p50_delay_weeks", "p90_delay_weeks", "eta_p50_week", "eta_p90_week"):
        out[column] = eta[column]
    out["slip_weeks"] = ((out["eta_p50_week"] - out["eta_week"]).dt.days // 7).astype("int64")
    out["basis"] = eta["basis"]
    return out.reset_index(drop=True)


def analyse_logistics(data: Dataset, p: LogisticsParams, horizon_weeks: int = HORIZON_WEEKS) -> LogisticsWeek:
    """``lane_reliability``, ``lane_load`` and ``eta_forecast`` of the run week ``data.week`` (module doc)."""
    history = _history(data)
    learnt = learn(history, data.week, p.prior_deliveries, p.half_life_weeks)  # once: the table and the predictions read it
    reliability = lane_reliability(history, data.week, p.prior_deliveries, p.trend_weeks, p.half_life_weeks, learnt)
    load = lane_load(load_sums(data.supply, _lanes(data), _weeks(data, horizon_weeks)), _lanes(data))
    return LogisticsWeek(reliability, load, eta_table(data.supply, learnt, data.week, p))


class LogisticsStep(Step):
    """On the step protocol. Whole: a few groupbys and one sort over the deliveries, one vectorised pass over the
    open lines. In parts (light: one per 100k series): ``lane_reliability`` on the client from the deliveries
    (small: every part's predictions lean on all of them), each part's open lines predicted and written where the
    part is (the client never holds the lines of 1M series)."""

    name = "logistics"
    notebook = "03_supply_gaps.ipynb"  # inbound lines are supply: shown with the gaps they may cause
    title = "logistics"
    groups = (LogisticsParams,)
    reads = {"supply": None, "receipts_history": None, "lanes": None}
    written_in_parts = ("eta_forecast",)

    def run(self, ctx: StepContext) -> LogisticsWeek:
        return analyse_logistics(ctx.data, ctx.group(LogisticsParams), ctx.horizon_weeks)

    def split(self, ctx: StepContext, partitions: int, workers: int) -> list[tuple[int, int]]:
        keys = ctx.data.series()["_series"].to_numpy()
        return series_ranges(keys, light_parts(len(keys), partitions, workers))

    def in_parts(self, ctx: StepContext, ranges: list[tuple[int, int]]) -> InParts:
        p, week, history, lanes = ctx.group(LogisticsParams), ctx.data.week, _history(ctx.data), _lanes(ctx.data)
        # learnt once on the client: every part predicts from all the deliveries, none learns them again
        learnt = learn(history, week, p.prior_deliveries, p.half_life_weeks)
        reliability = lane_reliability(history, week, p.prior_deliveries, p.trend_weeks, p.half_life_weeks, learnt)
        weeks = _weeks(ctx.data, ctx.horizon_weeks)

        def joined(results: Iterable[tuple[int, pd.DataFrame]], _carried: Any) -> LogisticsWeek:
            sums = in_order(results)  # every part has written its lines; its lane sums come back
            return LogisticsWeek(reliability, lane_load(pd.concat(sums, ignore_index=True), lanes), read_eta=lambda: ctx.table("eta_forecast"))

        return InParts(prepare=Part.state, rounds=(Round(partial(_eta_of_part, learnt, lanes, weeks, p), joined),), combine=lambda w: w,
                       bytes_per_series=2_000)


def _eta_of_part(learnt: Learnt | None, lanes: pd.DataFrame | None, weeks: pd.DatetimeIndex, p: LogisticsParams,
                 state: tuple[Part, PartReader, Dataset], _carried: Any) -> pd.DataFrame:
    """The part's open lines predicted, numbered by their position in the whole supply table (the part's rows come
    in its order), and written as its part of ``eta_forecast``; returns its lines' units per lane and shipping week."""
    part, reader, data = state
    eta = eta_table(data.supply, learnt, weeks[0], p, part.rows_of(reader, "supply", len(data.supply)))
    reader.write("eta_forecast", eta)
    return load_sums(data.supply, lanes, weeks)


LOGISTICS = LogisticsStep()
