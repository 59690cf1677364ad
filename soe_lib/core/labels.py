"""The label catalogue: every code the run writes, as the words people read.

The run's tables keep codes (``pull_in``, ``persistent_bias``, ``sku-location``): they are stable keys for
programs, filters and the decision log. Wherever a person reads them (the review app, the notebooks' tables,
the workbook, the minutes, the command line's human output) they pass through :func:`label` or
:func:`labelled`, so one word is used for one thing everywhere. A code missing from the catalogue is shown
with its underscores as spaces (never as a code); ``tests/test_formats.py`` checks that every code the steps
declare has its words here.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["CODE_COLUMNS", "LABELS", "label", "labelled"]

LABELS: dict[str, str] = {
    # decision-list items (kind)
    "sku-location": "product at location",
    "capacity": "capacity",
    "storage": "storage",
    "customer": "customer cut",
    # allocation policies
    "rule": "the configured rule",
    "fair_share": "fair share for all",
    "margin_first": "margin first",
    "persistent_bias": "plan biased for weeks",
    "tracking_signal": "plan drifting",
    # demand findings (demand_exceptions kind)
    "spike": "demand spike",
    "drop": "demand drop",
    "sensed_vs_plan": "sensed demand far from plan",
    "outlier": "outlier",
    "one_off": "one-off order",
    # gaps and supply lines
    "shortage": "shortage",
    "below_safety_stock": "below safety stock",
    "purchase": "purchase",
    "production": "production",
    "transfer": "transfer",
    # where an inbound line is (supply status)
    "planned": "planned",
    "shipped": "shipped",
    "at_port": "at the port",
    "delivered": "delivered",
    # countermeasures (action)
    "expedite": "expedite",
    "pull_in": "pull in",
    "switch_mode": "ship on a faster lane",
    "build_ahead": "build ahead",
    "shape_demand": "shape demand",
    "new_order": "new order",
    "raise_order": "raise an order",
    "overtime": "overtime",
    "substitute": "substitute",
    "allocate": "allocate",
    "accept": "accept the gap",
    # tracks of the decision list
    "execution": "this week's execution",
    "sop": "for the monthly S&OP",
    # parts of the risk bridge
    "gap minimum": "below a gap's minimum",
    "week rolled": "the horizon moved a week",
    # forecasts sensing chose
    "ma13": "13-week moving average",
    "seasonal_naive": "same week last year",
    "seasonal_level": "seasonal level",
    "blend": "blend of plan and statistics",
    "combination": "combination of methods",
    "tsb": "intermittent (TSB)",
}
# columns whose values are codes of the catalogue (their words are shown; the tables keep the codes)
CODE_COLUMNS = frozenset({"kind", "action", "action_type", "item_kind", "track", "component", "forecast", "model", "lever", "status", "policy"})
ID_COLUMNS = ("item_id", "gap_id")  # ids people look up, never read: shown last, as a detail


def label(code: object) -> str:
    """The words for ``code``: the catalogue's, else the code with underscores as spaces (blank for a missing value)."""
    if code is None or (isinstance(code, float) and code != code):
        return ""
    text = str(code)
    return LABELS.get(text, text.replace("_", " "))


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as people read it: the values of its code columns (:data:`CODE_COLUMNS`) in words, its id columns
    (:data:`ID_COLUMNS`) last; other columns as they are. A value the catalogue does not know stays as it is (an
    action column also holds what people typed)."""
    ids = [c for c in ID_COLUMNS if c in frame.columns]
    if ids:
        frame = frame[[c for c in frame.columns if c not in ids] + ids]
    cols = [c for c in frame.columns if c in CODE_COLUMNS and not pd.api.types.is_numeric_dtype(frame[c])]
    if not cols:
        return frame
    out = frame.copy()
    for c in cols:
        values = out[c]
        words = {v: LABELS.get(str(v), v) for v in values.dropna().unique()}  # map the distinct codes once, not every row
        out[c] = values.astype(object).map(words).where(values.notna(), values)
    return out
