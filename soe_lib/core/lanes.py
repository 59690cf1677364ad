"""Lanes as every step names them, and the inbound lines their record says will slip.

A lane is ``origin > destination (mode)``; a line *slips* when it travels on a known lane (a ``mode``) and the
logistics step's ``eta_forecast`` predicts it later than its stated ETA (``slip_weeks > 0``). The supply step
projects with those lines in their predicted weeks and finance values the difference: both read them here, so the
same lines move in both.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ETA_COLUMNS", "LANE", "lane_keys", "lane_name", "slipping_lines"]

LANE = ["origin", "destination", "mode"]

# what a step reads of eta_forecast to move and value the slipping lines
ETA_COLUMNS = ["line_id", "order_id", "sku", "location", "mode", "origin", "destination", "carrier", "qty", "eta_week", "eta_p50_week", "slip_weeks"]


def lane_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """The lane columns as lanes are matched (a line to its lane in the ``lanes`` table): trimmed, lower case, blank
    for none."""
    return pd.DataFrame({c: frame[c].astype("string").str.strip().str.lower().fillna("") if c in frame else "" for c in LANE}, index=frame.index)


def lane_name(lines: pd.DataFrame) -> pd.Series:
    """``origin > destination (mode)`` per line: the words a lane goes by in every table and on the page."""
    text = {c: lines[c].astype("string").fillna("(none)") for c in ("origin", "destination", "mode")}
    return (text["origin"] + " > " + text["destination"] + " (" + text["mode"] + ")").astype(str)


def slipping_lines(eta: pd.DataFrame | None) -> pd.DataFrame:
    """The lines of ``eta`` (``eta_forecast`` rows) on a known lane that their lane's record says come later than stated."""
    if eta is None or eta.empty:
        return pd.DataFrame(columns=ETA_COLUMNS)
    known = eta["mode"].astype("string").fillna("").str.len().gt(0).to_numpy()
    return eta[known & (eta["slip_weeks"].to_numpy() > 0)].reset_index(drop=True)
