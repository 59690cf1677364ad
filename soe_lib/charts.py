"""Altair charts that render with no internet access.

Altair's default renderer loads vega from a CDN, which fails offline (in Voila and JupyterLab
alike). :func:`use_offline_renderer` switches to the ``svg`` renderer: vl-convert turns the spec
into SVG inside the kernel, so the notebook output, its HTML export and the Voila page all carry the
picture itself. Charts are built from already-aggregated frames (Altair refuses > 5000 rows).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .weeks import week_labels

__all__ = ["use_offline_renderer", "weekly_totals_chart"]


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
