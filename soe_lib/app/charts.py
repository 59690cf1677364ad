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

from ..core.weeks import parse_weeks, week_labels

__all__ = [
    "bridge_frame",
    "bridge_waterfall",
    "capacity_heatmap",
    "demand_chart",
    "drilldown_demand_chart",
    "drilldown_projection_chart",
    "money_by_cause_chart",
    "money_by_week_chart",
    "money_waterfall",
    "plan_vs_estimate_chart",
    "projection_chart",
    "projection_layers",
    "use_offline_renderer",
    "wape_histogram",
    "waterfall_frame",
    "weekly_totals_chart",
]


# weeks on a time scale (true spacing, mixed sources) labelled as ISO weeks: d3's %G (ISO year) and %V (ISO week)
WEEK_AXIS = alt.Axis(format="%G-W%V", labelAngle=-40, labelOverlap=True)


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
        x=alt.X("week:T", title="ISO week", axis=WEEK_AXIS),
        y=alt.Y("qty:Q", title="units"),
        color=alt.Color("measure:N", title=None),
        tooltip=["week_label:N", "measure:N", alt.Tooltip("qty:Q", format=",.0f")],
    )
    now = alt.Chart(pd.DataFrame({"week": [run_week]})).mark_rule(strokeDash=[4, 4], color="gray").encode(x="week:T")
    return (base.mark_line(point=False) + now).properties(title=title, width=640, height=220)


def demand_chart(frame: pd.DataFrame, run_week: pd.Timestamp, sku: str, location: str) -> alt.Chart:
    """Actual vs plan vs sensed (and statistical, open orders) for one SKU-location; outliers circled.

    ``frame``: week, measure, qty, outlier (``SensingWeek.series_frame``).
    """
    frame = frame.copy()
    frame["week_label"] = week_labels(frame["week"]).astype(str)
    colors = alt.Scale(
        domain=["actual", "plan", "statistical", "sensed", "open orders"],
        range=["#1f77b4", "#7f7f7f", "#9467bd", "#d62728", "#2ca02c"],
    )
    base = alt.Chart(frame).encode(
        x=alt.X("week:T", title="ISO week", axis=WEEK_AXIS),
        y=alt.Y("qty:Q", title="units"),
        color=alt.Color("measure:N", scale=colors, title=None),
        tooltip=["week_label:N", "measure:N", alt.Tooltip("qty:Q", format=",.1f")],
    )
    lines = base.mark_line()
    orders = base.transform_filter(alt.datum.measure == "open orders").mark_bar(opacity=0.4, width=6)
    outliers = base.transform_filter(alt.datum.outlier).mark_point(size=120, shape="circle", filled=False, color="black")
    now = alt.Chart(pd.DataFrame({"week": [run_week]})).mark_rule(strokeDash=[4, 4], color="gray").encode(x="week:T")
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


def projection_chart(lines: pd.DataFrame, receipts: pd.DataFrame, sku: str, location: str) -> alt.Chart:
    """Projected on hand (current, constrained, as planned) vs safety stock; receipts as bars, late ones in red.

    ``lines``, ``receipts``: ``SupplyWeek.projection_frame(sku, location)``.
    """
    return projection_layers(lines, receipts, f"{sku} @ {location}: projected on hand")


PROJECTION_COLORS = {
    "projected (current ETAs)": "#1f77b4",
    "projected (capacity-constrained)": "#9467bd",
    "projected (as planned)": "#7f7f7f",
    "safety stock": "#ff7f0e",
    "what-if": "#17becf",
}


def projection_layers(lines: pd.DataFrame, rec: pd.DataFrame, title: str) -> alt.Chart:
    """The projection chart from long frames: ``lines`` (week, measure, qty), ``rec`` (supply lines with
    eta_week, week, qty, late, order_id, supplier)."""
    lines = lines.assign(week_label=week_labels(lines["week"]).astype(str))
    present = [m for m in PROJECTION_COLORS if m in set(lines["measure"])]
    base = alt.Chart(lines).mark_line().encode(
        x=alt.X("week:T", title="ISO week", axis=WEEK_AXIS),
        y=alt.Y("qty:Q", title="units"),
        color=alt.Color("measure:N", title=None, scale=alt.Scale(domain=present, range=[PROJECTION_COLORS[m] for m in present])),
        strokeDash=alt.condition(alt.datum.measure == "safety stock", alt.value([5, 3]), alt.value([1, 0])),
        tooltip=["week_label:N", "measure:N", alt.Tooltip("qty:Q", format=",.0f")],
    )
    zero = alt.Chart(pd.DataFrame({"qty": [0]})).mark_rule(color="black", opacity=0.4).encode(y="qty:Q")
    layers = [base, zero]
    if len(rec):
        rec = rec.assign(
            status=np.where(rec["late"].astype(bool), "late receipt", "receipt"),
            eta_label=week_labels(rec["eta_week"]).astype(str),
            planned_label=week_labels(rec["week"]).astype(str),
        )
        bars = alt.Chart(rec).mark_bar(opacity=0.5, width=8).encode(
            x=alt.X("eta_week:T", axis=WEEK_AXIS),
            y="qty:Q",
            color=alt.Color("status:N", scale=alt.Scale(domain=["receipt", "late receipt"], range=["#2ca02c", "#d62728"]), title=None),
            tooltip=["order_id:N", "planned_label:N", "eta_label:N", "qty:Q", "supplier:N"],
        )
        layers.insert(0, bars)
    return alt.layer(*layers).resolve_scale(color="independent").properties(title=title, width=640, height=240)


def drilldown_projection_chart(rows: dict, whatif=None) -> alt.Chart:
    """The review app's projection chart of one item, from the run's tables (plus a what-if line)."""
    proj = rows["projection"]
    weeks = parse_weeks(proj["week"])
    parts = [
        pd.DataFrame({"week": weeks, "measure": "projected (current ETAs)", "qty": proj["projected_on_hand"]}),
        pd.DataFrame({"week": weeks, "measure": "projected (capacity-constrained)", "qty": proj["constrained_projected_on_hand"]}),
        pd.DataFrame({"week": weeks, "measure": "projected (as planned)", "qty": proj["plan_projected_on_hand"]}),
        pd.DataFrame({"week": weeks, "measure": "safety stock", "qty": proj["safety_stock"]}),
    ]
    if whatif is not None:
        parts.append(pd.DataFrame({"week": whatif.weeks, "measure": "what-if", "qty": whatif.projected}))
    rec = rows["orders"]
    if len(rec):
        rec = rec.assign(week=parse_weeks(rec["week"]), eta_week=parse_weeks(rec["eta_week"]))
        rec = rec[(rec["eta_week"] >= weeks.min()) & (rec["eta_week"] <= weeks.max())]
    sku, loc = proj["sku"].iloc[0], proj["location"].iloc[0]
    return projection_layers(pd.concat(parts, ignore_index=True), rec, f"{sku} @ {loc}: projected on hand")


def _every_week(actuals: pd.DataFrame, start: pd.Timestamp, stop: pd.Timestamp) -> pd.DataFrame:
    """Actual units on every week from ``start`` (or the series' first week of actuals, if later) to ``stop``
    (exclusive): a week without a row sold nothing and is drawn at 0, not bridged by the line from its neighbours."""
    if actuals.empty:
        return actuals[["week", "qty"]]
    first = max(pd.Timestamp(start), actuals["week"].min())
    weeks = pd.date_range(first, pd.Timestamp(stop) - pd.Timedelta(weeks=1), freq="7D")
    return actuals.groupby("week")["qty"].sum().reindex(weeks, fill_value=0.0).rename_axis("week").reset_index()


def drilldown_demand_chart(rows: dict, weeks_back: int = 26) -> alt.Chart:
    """Actual vs plan (history) and plan vs sensed (horizon) of one item, from the run's tables and inputs."""
    sensed = rows["sensed"].assign(week=lambda f: parse_weeks(f["week"]))
    start = sensed["week"].min() - pd.Timedelta(weeks=weeks_back)
    act = _every_week(rows["actuals"].assign(week=lambda f: parse_weeks(f["week"])), start, sensed["week"].min())
    plan = rows["plan"].assign(week=lambda f: parse_weeks(f["week"]))
    plan = plan[(plan["week"] >= start) & (plan["week"] < sensed["week"].min())]
    frame = pd.concat(
        [
            pd.DataFrame({"week": act["week"], "measure": "actual", "qty": act["qty"]}),
            pd.DataFrame({"week": plan["week"], "measure": "plan", "qty": plan["qty"]}),
            pd.DataFrame({"week": sensed["week"], "measure": "plan", "qty": sensed["plan_qty"]}),
            pd.DataFrame({"week": sensed["week"], "measure": "sensed", "qty": sensed["sensed_qty"]}),
        ],
        ignore_index=True,
    ).dropna(subset=["qty"])
    frame["week_label"] = week_labels(frame["week"]).astype(str)
    # the units axis is the lines': a wide band (P90 ten times the forecast) is cut at the top instead of flattening them
    top = alt.Scale(domain=[0, float(max(frame["qty"].max(), 1.0)) * 1.25], clamp=True)
    lines = (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("week:T", title="ISO week", axis=WEEK_AXIS),
            y=alt.Y("qty:Q", title="units", scale=top),
            color=alt.Color("measure:N", scale=alt.Scale(domain=["actual", "plan", "sensed"], range=["#1f77b4", "#7f7f7f", "#d62728"]), title=None),
            tooltip=["week_label:N", "measure:N", alt.Tooltip("qty:Q", format=",.1f")],
        )
    )
    if {"p10_qty", "p90_qty"} <= set(sensed.columns):  # the band sensing expects 80 % of the weeks to fall in
        band = sensed.assign(week_label=week_labels(sensed["week"]).astype(str))[["week", "week_label", "p10_qty", "p90_qty"]]
        area = alt.Chart(band).mark_area(opacity=0.18, color="#d62728", clip=True).encode(
            x="week:T", y=alt.Y("p10_qty:Q", scale=top), y2="p90_qty:Q",
            tooltip=["week_label:N", alt.Tooltip("p10_qty:Q", format=",.1f", title="P10"), alt.Tooltip("p90_qty:Q", format=",.1f", title="P90")],
        )
        lines = alt.layer(area, lines)
    return lines.properties(title="Actual vs plan vs sensed demand (shaded: P10-P90; weeks without sales at 0)", width=640, height=200)


def capacity_heatmap(load: pd.DataFrame) -> alt.Chart:
    """Load % per resource and week; above 100 % is an overload."""
    frame = load.assign(week_label=week_labels(load["week"]).astype(str), load_pct=load["load_pct"].astype(float).clip(upper=3.0))
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("week_label:O", title="week"),
            y=alt.Y("resource:N", title=None),
            color=alt.Color("load_pct:Q", title="load", scale=alt.Scale(domain=[0, 1, 1.6], range=["#f7fbff", "#fdd49e", "#b30000"]), legend=alt.Legend(format="%")),
            tooltip=["resource:N", "week_label:N", alt.Tooltip("load_hours:Q", format=",.1f"), alt.Tooltip("available_hours:Q", format=",.1f"), alt.Tooltip("load_pct:Q", format=".0%")],
        )
        .properties(title="Capacity load (production hours / available hours)", width=600, height=30 * max(1, frame["resource"].nunique()))
    )


def waterfall_frame(money: pd.DataFrame, label: str, value: str) -> pd.DataFrame:
    """Steps of a waterfall: each row from the running total before it to after it, then the total."""
    steps = money[[label, value]].rename(columns={label: "step", value: "amount"}).reset_index(drop=True)
    end = steps["amount"].cumsum()
    steps = steps.assign(start=end - steps["amount"], end=end, kind="cause")
    total = pd.DataFrame({"step": ["total"], "amount": [end.iloc[-1] if len(end) else 0.0], "start": [0.0], "end": [end.iloc[-1] if len(end) else 0.0], "kind": ["total"]})
    return pd.concat([steps, total], ignore_index=True)


def money_waterfall(money_by_cause: pd.DataFrame, value: str = "margin_at_risk") -> alt.Chart:
    """Money at risk built up cause by cause, to the total."""
    frame = waterfall_frame(money_by_cause, "cause", value)
    order = frame["step"].tolist()
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("step:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("start:Q", title=value.replace("_", " ")),
            y2="end:Q",
            color=alt.Color("kind:N", scale=alt.Scale(domain=["cause", "total"], range=["#d62728", "#444444"]), legend=None),
            tooltip=["step:N", alt.Tooltip("amount:Q", format=",.0f")],
        )
        .properties(title=f"{value.replace('_', ' ').capitalize()} by root cause", width=420, height=240)
    )


def bridge_frame(bridge: pd.DataFrame, measure: str = "margin at risk") -> pd.DataFrame:
    """Bars of a bridge: last week from 0, each part from the running total, this week from 0; parts
    that change nothing (|amount| < 0.5) are left out of the picture (they stay in the table)."""
    rows = bridge[bridge["measure"] == measure].sort_values("step")
    if rows.empty:
        return pd.DataFrame(columns=["step", "amount", "start", "end", "kind"])
    first, last = rows.iloc[0], rows.iloc[-1]
    parts = rows.iloc[1:-1]
    parts = parts[parts["amount"].abs() >= 0.5]
    end = first["amount"] + parts["amount"].cumsum()
    middle = pd.DataFrame({"step": parts["component"].to_numpy(), "amount": parts["amount"].to_numpy(), "start": (end - parts["amount"]).to_numpy(),
                           "end": end.to_numpy(), "kind": np.where(parts["amount"].to_numpy() > 0, "up", "down")})
    ends = pd.DataFrame({"step": [first["component"], last["component"]], "amount": [first["amount"], last["amount"]], "start": [0.0, 0.0],
                         "end": [first["amount"], last["amount"]], "kind": ["total", "total"]})
    return pd.concat([ends.iloc[:1], middle, ends.iloc[1:]], ignore_index=True)


def bridge_waterfall(bridge: pd.DataFrame, measure: str = "margin at risk") -> alt.Chart:
    """From last week's figure to this week's: each named part as a step (red: the risk grew)."""
    frame = bridge_frame(bridge, measure)
    up, down = ("#d62728", "#2ca02c") if measure == "margin at risk" else ("#2ca02c", "#d62728")  # more risk is bad; more estimate is good
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("step:N", sort=frame["step"].tolist(), title=None, axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("start:Q", title=measure),
            y2="end:Q",
            color=alt.Color("kind:N", scale=alt.Scale(domain=["up", "down", "total"], range=[up, down, "#444444"]), legend=None),
            tooltip=["step:N", alt.Tooltip("amount:Q", format=",.0f")],
        )
        .properties(title=f"{measure.capitalize()}: last week to this week", width=460, height=240)
    )


def money_by_cause_chart(impact: pd.DataFrame) -> alt.Chart:
    """Margin at risk of the week's shortage gaps by root cause, largest first."""
    by = impact.groupby("cause", as_index=False)["margin_at_risk"].sum().sort_values("margin_at_risk", ascending=False) if len(impact) else \
        pd.DataFrame({"cause": [], "margin_at_risk": []})
    return (
        alt.Chart(by)
        .mark_bar(color="#d62728")
        .encode(
            y=alt.Y("cause:N", sort="-x", title=None),
            x=alt.X("margin_at_risk:Q", title="margin at risk", axis=alt.Axis(format=",.0f")),
            tooltip=["cause:N", alt.Tooltip("margin_at_risk:Q", format=",.0f", title="margin at risk")],
        )
        .properties(title="Where the money is: margin at risk by cause", width=300, height=alt.Step(22))
    )


def money_by_week_chart(impact: pd.DataFrame) -> alt.Chart:
    """Margin at risk by the ISO week its gap starts: when the money is at stake. Every week from the first to the last
    is on the axis (a week without a gap at 0): an axis of only the weeks with gaps jumped from W49 to W53."""
    if len(impact):
        money = impact.assign(week=parse_weeks(impact["first_week"])).groupby("week")["margin_at_risk"].sum()
        every = pd.date_range(money.index.min(), money.index.max(), freq="7D")
        by = money.reindex(every, fill_value=0.0).rename_axis("week").reset_index()
        by["week"] = week_labels(by["week"]).astype(str)
    else:
        by = pd.DataFrame({"week": pd.Series(dtype=str), "margin_at_risk": pd.Series(dtype=float)})
    return (
        alt.Chart(by)
        .mark_bar(color="#1f77b4")
        .encode(
            x=alt.X("week:O", title="ISO week the gap starts", axis=alt.Axis(labelAngle=-40)),
            y=alt.Y("margin_at_risk:Q", title="margin at risk", axis=alt.Axis(format=",.0f")),
            tooltip=["week:N", alt.Tooltip("margin_at_risk:Q", format=",.0f", title="margin at risk")],
        )
        .properties(title="When it is at stake: margin at risk by week", width=360, height=180)
    )


def plan_vs_estimate_chart(pve: pd.DataFrame) -> alt.Chart:
    """Revenue plan vs latest estimate over the horizon, by family."""
    fam = pve.groupby("family", as_index=False)[["revenue_plan", "revenue_estimate"]].sum()
    long = fam.melt("family", var_name="measure", value_name="revenue")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("family:N", title=None),
            yOffset="measure:N",
            x=alt.X("revenue:Q", title="revenue over the horizon"),
            color=alt.Color("measure:N", scale=alt.Scale(domain=["revenue_plan", "revenue_estimate"], range=["#7f7f7f", "#1f77b4"]), title=None),
            tooltip=["family:N", "measure:N", alt.Tooltip("revenue:Q", format=",.0f")],
        )
        .properties(title="Financial plan vs latest estimate", width=460, height=alt.Step(14))
    )


def svg_html(chart: alt.TopLevelMixin, css_class: str = "soe-chart") -> str:
    """The chart as inline SVG in a div: for HTML widgets (the review app), no CDN, no output capture."""
    import vl_convert

    # the spec is built by our own code: skipping Altair's schema validation halves the time of a chart
    # (a drill-down draws two per selection), then vl-convert renders it in this process, no browser, no CDN
    # (the review's kernels send their charts to the server's one renderer instead: soe_lib.app.render)
    return f"<div class='{css_class}'>{vl_convert.vegalite_to_svg(chart.to_dict(validate=False))}</div>"
