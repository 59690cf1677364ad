"""Altair charts that render with no internet access.

Altair's default renderer loads vega from a CDN, which fails offline (in Voila and JupyterLab
alike). :func:`use_offline_renderer` switches to the ``svg`` renderer: vl-convert turns the spec
into SVG inside the kernel, so the notebook output, its HTML export and the Voila page all carry the
picture itself. Charts are built from already-aggregated frames (Altair refuses > 5000 rows).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .weeks import week_labels

__all__ = ["use_offline_renderer", "weekly_totals_chart", "series_frame", "demand_chart", "wape_histogram"]


def use_offline_renderer() -> str:
    """Render Altair charts as inline SVG (no CDN); returns the renderer name."""
    alt.renderers.enable("svg")
    return "svg"


def weekly_totals_chart(totals: pd.DataFrame, run_week: pd.Timestamp, title: str = "Units per week") -> alt.Chart:
    """Lines of units per week by measure (actual / plan / open orders), with a rule at the run week.

    ``totals``: long frame with columns week (ISO Monday), measure, qty.
    """
    frame = totals.assign(week_label=week_labels(totals["week"]).astype(str))
    base = alt.Chart(frame).encode(
        x=alt.X("week:T", title="week"),
        y=alt.Y("qty:Q", title="units"),
        color=alt.Color("measure:N", title=None),
        tooltip=["week_label:N", "measure:N", alt.Tooltip("qty:Q", format=",.0f")],
    )
    now = alt.Chart(pd.DataFrame({"week": [run_week]})).mark_rule(strokeDash=[4, 4], color="gray").encode(x="week:T")
    return (base.mark_line(point=False) + now).properties(title=title, width=640, height=220)


def series_frame(demand, sku: str, location: str, weeks_back: int = 52) -> pd.DataFrame:
    """Long frame (week, measure, qty) of one SKU-location: actual, plan, statistical, sensed, open orders."""
    s = demand.sensing
    match = (s.series["sku"] == sku) & (s.series["location"] == location)
    if not match.any():
        raise KeyError(f"no SKU-location {sku!r} @ {location!r} in this week's data")
    i = int(match.to_numpy().nonzero()[0][0])
    hist = s.history_weeks[-weeks_back:]
    parts = [
        pd.DataFrame({"week": hist, "measure": "actual", "qty": s.actual[i, -weeks_back:]}),
        pd.DataFrame({"week": hist, "measure": "plan", "qty": s.plan_history[i, -weeks_back:]}),
        pd.DataFrame({"week": s.horizon_weeks, "measure": "plan", "qty": s.plan[i]}),
        pd.DataFrame({"week": s.horizon_weeks, "measure": "statistical", "qty": s.statistical[i]}),
        pd.DataFrame({"week": s.horizon_weeks, "measure": "sensed", "qty": s.sensed[i]}),
        pd.DataFrame({"week": s.horizon_weeks, "measure": "open orders", "qty": s.open_orders[i]}),
    ]
    out = pd.concat(parts, ignore_index=True).dropna(subset=["qty"])
    flagged = s.outliers[i, -weeks_back:]
    out["outlier"] = False
    out.loc[(out["measure"] == "actual") & out["week"].isin(hist[flagged]), "outlier"] = True
    return out


def demand_chart(demand, sku: str, location: str, weeks_back: int = 52) -> alt.Chart:
    """Actual vs plan vs sensed (and statistical, open orders) for one SKU-location; outliers circled."""
    frame = series_frame(demand, sku, location, weeks_back)
    frame["week_label"] = week_labels(frame["week"]).astype(str)
    colors = alt.Scale(
        domain=["actual", "plan", "statistical", "sensed", "open orders"],
        range=["#1f77b4", "#7f7f7f", "#9467bd", "#d62728", "#2ca02c"],
    )
    base = alt.Chart(frame).encode(
        x=alt.X("week:T", title="week"),
        y=alt.Y("qty:Q", title="units"),
        color=alt.Color("measure:N", scale=colors, title=None),
        tooltip=["week_label:N", "measure:N", alt.Tooltip("qty:Q", format=",.1f")],
    )
    lines = base.mark_line()
    orders = base.transform_filter(alt.datum.measure == "open orders").mark_bar(opacity=0.4, width=6)
    outliers = base.transform_filter(alt.datum.outlier).mark_point(size=120, shape="circle", filled=False, color="black")
    now = alt.Chart(pd.DataFrame({"week": [demand.sensing.horizon_weeks[0]]})).mark_rule(strokeDash=[4, 4], color="gray").encode(x="week:T")
    title = f"{sku} @ {location}: actual vs plan vs sensed"
    return (lines.transform_filter(alt.datum.measure != "open orders") + orders + outliers + now).properties(
        title=title, width=680, height=240
    )


def wape_histogram(accuracy: pd.DataFrame, column: str = "wape", bins: int = 20) -> alt.Chart:
    """Distribution of a per-series error measure, pre-binned (any number of series, few chart rows)."""
    values = accuracy[column].replace([float("inf")], float("nan")).dropna().clip(upper=2.0)
    counts, edges = np.histogram(values, bins=bins, range=(0.0, 2.0))
    frame = pd.DataFrame({"from": edges[:-1], "to": edges[1:], "series": counts})
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("from:Q", bin="binned", title=f"{column} (capped at 200 %)", axis=alt.Axis(format="%")),
            x2="to:Q",
            y=alt.Y("series:Q", title="SKU-locations"),
            tooltip=[alt.Tooltip("from:Q", format=".0%"), alt.Tooltip("to:Q", format=".0%"), "series:Q"],
        )
        .properties(title=f"Plan {column} per SKU-location", width=420, height=200)
    )
