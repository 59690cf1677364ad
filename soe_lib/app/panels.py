"""The review app's panels: one ipywidgets box per part of the page, each with the widgets it owns.

Panels hold no knowledge of each other: :class:`~soe_lib.app.review.ReviewApp` wires them (a
selection in the decision list opens the drill-down, a recorded decision refreshes the tiles).
Everything that came from data or people is escaped before it is shown as HTML; charts are inline
SVG in HTML widgets (no Output widget, whose capture through the kernel's display hook stalled
Voila's first page render).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import pandas as pd

from ..core.formats import PY_FORMATS, column_kind, formatted, headers, side_by_side
from ..core.labels import label
from ..core.weeks import parse_week, week_label
from ..io.decision_store import STATUSES, ActionLog, StaleUpdate
from .decisions import action_text, item_base_state, option_state
from .render import draw
from .review_data import (
    HISTORY_KPIS,
    ITEM_COLUMNS,
    KPI_DEFINITIONS,
    MONEY_KPIS,
    ReviewWeek,
    filter_items,
    headline_text,
    item_table,
    kpi_tiles,
    top_decisions,
    what_if,
)

__all__ = [
    "ActionsPanel",
    "DecisionListPanel",
    "DrilldownPanel",
    "KpiPanel",
    "LoopPanel",
    "OverviewPanel",
    "RecordPanel",
    "WhatIfPanel",
    "bridge_html",
    "first_screen",
    "decision_grid",
    "grid_payload",
    "message",
    "sparkline_svg",
    "tile_html",
    "top_html",
]

FORMATS = {
    "plan accuracy": "{:.1%}", "plan bias": "{:+.1%}", "projected fill rate": "{:.1%}", "revenue at risk": "{:,.0f}",
    "margin at risk": "{:,.0f}", "gap to financial plan": "{:+,.0f}", "open actions": "{:,.0f}", "overdue actions": "{:,.0f}",
}
# for these a rise is bad news (the delta is shown red when it goes up)
UP_IS_BAD = {"revenue at risk", "margin at risk", "open actions", "overdue actions"}
AWAY_FROM_ZERO_IS_BAD = {"plan bias"}  # a bias is worse the further it is from zero, either way


def tile_change(kpi: str, value: float, change: float) -> tuple[str, bool]:
    """(the change since last week as words, whether it is bad news): a share's change in percentage points
    ("-0.4 pts", not "-0.4%": a 0.4 % drop of 93.1 % would be 0.37 points), money and counts signed in their format;
    bad when a rise of :data:`UP_IS_BAD` or a fall of the others, and for a bias when it moved away from zero."""
    fmt = FORMATS[kpi]
    signed = fmt if fmt.startswith("{:+") else "{:+" + fmt[2:]
    text = f"{change * 100:+.1f} pts" if fmt.endswith("%}") else signed.format(change)
    if change == 0:
        return text, False
    if kpi in AWAY_FROM_ZERO_IS_BAD:
        return text, abs(value) > abs(value - change)
    return text, (change > 0) == (kpi in UP_IS_BAD)


def message(text: str, error: bool = False) -> str:
    """One escaped line of the page."""
    return f"<span class='{'soe-error' if error else 'soe-message'}'>{html.escape(text)}</span>"


def _fmt(name: str, value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else FORMATS[name].format(value)


def sparkline_svg(values: list[float], width: int = 110, height: int = 26) -> str:
    """A KPI's trend over the archived weeks as a tiny inline SVG line (no chart library: instant)."""
    v = np.asarray([x for x in values], dtype=float)
    ok = ~np.isnan(v)
    if ok.sum() < 2:
        return ""
    lo, hi = np.nanmin(v), np.nanmax(v)
    span = hi - lo if hi > lo else 1.0
    x = np.linspace(2, width - 2, len(v))
    y = height - 3 - (v - lo) / span * (height - 6)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b, keep in zip(x, y, ok, strict=True) if keep)
    return (f"<svg class='soe-spark' width='{width}' height='{height}' role='img' aria-label='trend over {int(ok.sum())} weeks'>"
            f"<polyline fill='none' stroke='#1f77b4' stroke-width='1.5' points='{points}'/>"
            f"<circle cx='{x[ok][-1]:.1f}' cy='{y[ok][-1]:.1f}' r='2.2' fill='#1f77b4'/></svg>")


def _covers(kpi: str, currency: str, horizon: int) -> str:
    """What a tile's number covers: its currency and weeks (the horizon ahead, or the weeks of actuals behind)."""
    if kpi in HISTORY_KPIS:
        return "past weeks of actuals"
    if kpi in ("open actions", "overdue actions"):
        return "decision log, now"
    return f"{currency} · next {horizon} weeks" if kpi in MONEY_KPIS else f"next {horizon} weeks"


def tile_html(tiles: pd.DataFrame, history: dict[str, list[float]] | None = None, currency: str = "USD", horizon: int = 13) -> str:
    """KPI tiles as HTML: name, what it covers (currency, weeks), value, its trend over the archived weeks, the change
    since the last meeting; its definition as the tooltip."""
    parts = []
    history = history or {}
    for r in tiles.itertuples():
        delta = ""
        if not np.isnan(r.change):
            text, worse = tile_change(r.kpi, r.value, r.change)
            delta = f"<div class='soe-delta {'soe-bad' if worse else 'soe-good'}'>{html.escape(text)} since last meeting</div>"
        value = _fmt(r.kpi, r.value) + (f" {currency}" if r.kpi in MONEY_KPIS and not np.isnan(r.value) else "")
        parts.append(
            f"<div class='soe-tile' data-kpi='{html.escape(r.kpi)}' title='{html.escape(KPI_DEFINITIONS.get(r.kpi, ''))}'>"
            f"<div class='soe-tile-label'>{html.escape(r.kpi)}</div><div class='soe-tile-covers'>{html.escape(_covers(r.kpi, currency, horizon))}</div>"
            f"<div class='soe-tile-value'>{html.escape(value)}</div>{sparkline_svg(history.get(r.kpi, []))}{delta}</div>"
        )
    return "".join(parts)


def top_html(top: pd.DataFrame, currency: str) -> str:
    """The first screen's decisions as a compact table: long texts cut to one line, whole in the cell's tooltip."""
    if top.empty:
        return "<p class='soe-message'>No decision to take this week: nothing on the list.</p>"
    head = ("<tr><th>#</th><th>Item</th><th>What to do</th><th>Why it ranks here</th>"
            f"<th class='soe-num'>Money at risk ({html.escape(currency)})</th><th>Owner</th></tr>")
    body = []
    for r in top.itertuples():
        cells = [f"<td>{r.place}</td>"] + [f"<td class='soe-cut' title='{html.escape(v)}'>{html.escape(v)}</td>" for v in (r.item, r.what, r.why)]
        cells += [f"<td class='soe-num'>{r.money_at_risk:,.0f}</td>", f"<td>{html.escape(r.owner) or '<i>none yet</i>'}</td>"]
        body.append("<tr class='soe-top-row'>" + "".join(cells) + "</tr>")
    return f"<table class='soe-table soe-top-table'><caption>Top decisions of the week</caption>{head}{''.join(body)}</table>"


def _table(frame: pd.DataFrame, cls: str = "") -> widgets.HTML:
    """A small table as HTML: every column in its kind's format (:mod:`soe_lib.core.formats`), human headers."""
    body = headers(formatted(frame)).to_html(index=False, escape=True, border=0, classes="soe-table", na_rep="")
    out = widgets.HTML(body)
    if cls:
        out.add_class(cls)
    return out


def _hooked(widget: widgets.Widget, cls: str) -> widgets.Widget:
    widget.add_class(cls)
    return widget


class KpiPanel(widgets.VBox):
    """The first screen: one headline sentence, the KPI tiles (each with its change since the last meeting) and the
    top decisions of the week."""

    def __init__(self) -> None:
        self.headline = _hooked(widgets.HTML(), "soe-headline")
        self.tiles = _hooked(widgets.HTML(), "soe-tiles")
        self.top = _hooked(widgets.HTML(), "soe-top")
        super().__init__([self.headline, self.tiles, self.top])

    def show(self, week: ReviewWeek, previous: dict[str, float] | None, actions: dict[str, int], history: dict[str, list[float]] | None = None,
             decisions: pd.DataFrame | None = None) -> None:
        self.headline.value, self.tiles.value, self.top.value = first_screen(week, previous, actions, history, decisions)


def first_screen(week: ReviewWeek, previous: dict[str, float] | None, actions: dict[str, int], history: dict[str, list[float]] | None = None,
                 decisions: pd.DataFrame | None = None, top: int = 6) -> tuple[str, str, str]:
    """The first screen as HTML (the page's and the PDF's): (the headline sentence, the KPI tiles, the top ``top`` decisions)."""
    current, cur, items = week.headline(), week.currency, week.items()
    sentence = headline_text(current, previous, items, actions, cur, week.horizon_weeks)
    return (f"<p class='soe-headline-text'>{html.escape(sentence)}</p>", tile_html(kpi_tiles(current, previous, actions), history, cur, week.horizon_weeks),
            top_html(top_decisions(items, week.inputs("products"), decisions, n=top), cur))


class OverviewPanel(widgets.VBox):
    """Where the money is and when: margin at risk by cause and by week (Altair, as inline SVG)."""

    def __init__(self) -> None:
        self.charts = _hooked(widgets.HTML(), "soe-overview")
        super().__init__([self.charts])

    def show(self, week: ReviewWeek) -> None:
        impact = week.table("financial_impact")
        if impact.empty:
            self.charts.value = "<p class='soe-message'>No shortage gap this week: no money at risk.</p>"
            return
        impact = impact[["cause", "first_week", "margin_at_risk"]]  # what the two charts draw (sent to the renderer)
        self.charts.value = ("<div style='display:flex;flex-wrap:wrap;gap:1.5em'>" + draw("money_by_cause", {"impact": impact}, "soe-chart soe-by-cause")
                             + draw("money_by_week", {"impact": impact}, "soe-chart soe-by-week") + "</div>")


class ActionsPanel(widgets.VBox):
    """Open actions from earlier weeks (first, with status updates) and what was decided this week."""

    def __init__(self, log: ActionLog | None, on_change: Callable[[str], None], who: Callable[[], str]) -> None:
        self.action_log, self.on_change, self.who = log, on_change, who
        self.week = ""
        self.open_box = _hooked(widgets.VBox(), "soe-open-actions")
        self.week_box = _hooked(widgets.VBox(), "soe-week-actions")
        self.fold = _hooked(widgets.Accordion(children=[self.open_box], selected_index=None), "soe-open-fold")  # opens on demand
        self.fold.set_title(0, "Open actions from earlier weeks")
        super().__init__([self.fold])

    def show(self, week: str) -> None:
        self.week = week
        if self.action_log is None:  # the decision log cannot be opened: the page says why, above
            self.open_box.children = self.week_box.children = [widgets.HTML("<p class='soe-message'>The decision log is not available.</p>")]
            return
        open_ = self.action_log.open_actions(week)
        overdue = int(open_["overdue"].sum()) if len(open_) else 0
        self.fold.set_title(0, f"Open actions from earlier weeks: {len(open_)}, {overdue} overdue (click to update their status)")
        self.open_box.children = self._rows(open_, "No open actions from earlier weeks.")
        self.week_box.children = self._rows(self.action_log.decided_in(week).assign(overdue=False), "Nothing decided in this week's meeting yet.")

    def _rows(self, frame: pd.DataFrame, empty: str) -> list[widgets.Widget]:
        """One row per action: what, who, when (escaped), and its status update controls."""
        rows: list[widgets.Widget] = []
        if frame.empty:
            rows.append(widgets.HTML(f"<p class='soe-message'>{html.escape(empty)}</p>"))
        for r in frame.head(50).itertuples():
            label = widgets.HTML(
                f"<b>#{r.id}</b> {html.escape(r.action)} &middot; {html.escape(r.sku)} @ {html.escape(r.location)} "
                f"&middot; owner {html.escape(r.owner)} &middot; due {html.escape(r.due_week)}"
                + (" <span class='soe-bad'>overdue</span>" if r.overdue else "")
                + f" &middot; <i>{html.escape(r.status)}</i>"
                + (f" &middot; {html.escape(r.note)}" if r.note else "")
                + (f" &middot; by {html.escape(r.created_by)}" if r.created_by else "")
            )
            status = widgets.Dropdown(options=list(STATUSES), value=r.status, description="Status")
            note = widgets.Text(description="Note", value="")
            button = widgets.Button(description=f"Update #{r.id}")
            button.on_click(functools.partial(self._update, r.id, r.version, status, note))
            rows.append(_hooked(widgets.VBox([label, widgets.HBox([status, note, button])]), "soe-open-action"))
        if len(frame) > 50:
            rows.append(widgets.HTML(f"<p class='soe-message'>and {len(frame) - 50} more (oldest due first).</p>"))
        return rows

    def _update(self, action_id: int, version: int, status: widgets.Dropdown, note: widgets.Text, _button) -> None:
        try:
            self.action_log.update_status(action_id, version, status.value, note.value, self.who(), self.week)
        except StaleUpdate as exc:
            self.on_change(message(str(exc), error=True))
            return
        self.on_change(message(f"Action #{action_id} is now {status.value}."))


# DataTables shows a cell's first value and sorts by its second (itables' own convention for numbers)
SORT_BY_VALUE = "function (data, type, row, meta) { return type === 'sort' || type === 'type' ? data[1] : data[0]; }"


def grid_payload(table: pd.DataFrame) -> tuple[list[list], list[int]]:
    """Rows for the table widget: numbers as ``[shown, value]`` (formatted as the column's kind, sorted
    by value), weeks as ISO labels, text as text; and the positions of the number columns."""
    kinds = {c: column_kind(c, table[c]) for c in table.columns}
    kinds = {c: ("qty1" if k == "qty" and not np.allclose(pd.to_numeric(table[c], errors="coerce").dropna(), np.round(pd.to_numeric(table[c], errors="coerce").dropna())) else k)
             for c, k in kinds.items()}
    shown = formatted(table)
    numeric = [i for i, c in enumerate(table.columns) if kinds[c] in PY_FORMATS]
    cols = []
    for i, c in enumerate(table.columns):
        # DataTables puts a cell's text into the page as HTML: everything is escaped here (an owner or a
        # description typed as <img onerror=...> is shown as those characters, never run)
        text = [html.escape(str(t)) for t in shown[c].tolist()]
        if i in numeric:
            values = pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
            cols.append([[t, None if np.isnan(v) else float(v)] for t, v in zip(text, values, strict=True)])
        else:
            cols.append(text)
    return [list(r) for r in zip(*cols, strict=True)] if cols else [], numeric


def decision_grid(table: pd.DataFrame, caption: str):
    """The decision list as an accessible, sortable, searchable table (itables' DataTables widget, its
    JavaScript bundled: works offline in Voila and JupyterLab) with single-row selection."""
    import json

    from itables.widget import ITable

    grid = ITable(table.rename(columns=ITEM_COLUMNS).head(0), caption=caption, classes="display compact soe-grid-table", paging=False,
                  scrollY="420px", scrollCollapse=True, order=[], showIndex=False)
    rows, numeric = grid_payload(table)
    args = dict(grid._dt_args)
    args["data_json"] = json.dumps(rows)
    args["caption"] = caption  # DataTables' own <caption>: what the table is, for screen readers
    args["select"] = {"style": "single", "info": False, "keys": True}  # one row; Tab to a row, Space or Enter selects it
    args["columnDefs"] = [{"targets": numeric, "render": SORT_BY_VALUE, "className": "dt-right"}] if numeric else []
    args["keys_to_be_evaluated"] = [["columnDefs", 0, "render"]] if numeric else []
    grid._dt_args = args
    return grid


class DecisionListPanel(widgets.VBox):
    """The decision list as a table (sortable, searchable, one row selectable) under the meeting's
    filters; selecting a row calls ``on_select(row of the decision list, or None)``."""

    FILTERS = ("family", "location", "cause", "severity")

    def __init__(self, on_select: Callable[[pd.Series | None], None]) -> None:
        self.on_select = on_select
        self.items, self.beyond, self.shown = pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
        self.products, self.actions = pd.DataFrame(), pd.DataFrame()
        self.filters = {
            name: _hooked(widgets.Dropdown(options=[("all", "")], value="", description=name.capitalize()), f"soe-filter-{name}")
            for name in self.FILTERS
        }
        self.grid = None
        self.grid_box = _hooked(widgets.VBox(), "soe-items")
        self.note = _hooked(widgets.HTML(), "soe-list-note")
        self._quiet = False
        for f in self.filters.values():
            f.observe(self._on_filter, names="value")
        super().__init__([widgets.HTML("<h3>Decision list</h3>"), widgets.HBox(list(self.filters.values())), self.note, self.grid_box])

    def show(self, items: pd.DataFrame, beyond: pd.DataFrame, products: pd.DataFrame | None = None, actions: pd.DataFrame | None = None) -> None:
        """A new week's list: filters offer its values, nothing is selected."""
        self.items, self.beyond = items, beyond
        self.products = products if products is not None else pd.DataFrame()
        self.actions = actions if actions is not None else pd.DataFrame()
        self._quiet = True  # resetting the filters must not redraw the list four times
        try:
            for name, f in self.filters.items():
                values = sorted(v for v in items[name].dropna().unique() if v != "") if len(items) else []
                f.options = [("all", "")] + [(str(v), str(v)) for v in values]
                f.value = ""
        finally:
            self._quiet = False
        self._on_filter()

    def _on_filter(self, _change=None) -> None:
        if self._quiet:
            return
        items = self.items
        shown = filter_items(items, **{k: f.value for k, f in self.filters.items()}) if len(items) else items
        note = f"{len(shown)} of {len(items)} items shown."
        beyond = self.beyond[self.beyond["track"] == "execution"] if len(self.beyond) and "track" in self.beyond else self.beyond
        if len(beyond):
            note += f" Beyond the alert budget: {int(beyond['items'].sum())} more items ({beyond['money_at_risk'].sum():,.0f} at risk)."
        if len(self.beyond) and "track" in self.beyond and (sop := self.beyond[self.beyond["track"] == "sop"]).shape[0]:
            note += f" {int(sop['items'].sum())} more S&OP findings are left to the monthly S&OP (sop_feedback.md)."
        self.note.value = f"<p class='soe-message'>{html.escape(note)}</p>"
        self.shown = shown.reset_index(drop=True)
        if len(self.shown):
            # nothing is selected until someone picks a row: the first render stays light
            self.grid = decision_grid(item_table(self.shown, self.products, self.actions), "The week's decision list: select a row for its drill-down")
            self.grid.add_class("soe-grid")
            self.grid.observe(self._on_rows, names="selected_rows")
            self.grid_box.children = [self.grid]
        else:
            self.grid = None
            self.grid_box.children = [widgets.HTML("<p class='soe-message'>No item matches these filters.</p>")]
        self.on_select(None)

    def _on_rows(self, change) -> None:
        rows = change["new"]
        self.on_select(self.shown.iloc[rows[0]] if rows else None)

    def select(self, position: int | None) -> None:
        """Select the row at ``position`` of the shown list (None: nothing), as a click does."""
        if self.grid is not None:
            self.grid.selected_rows = [] if position is None else [int(position)]


class DrilldownPanel(widgets.VBox):
    """The selected item: its demand and projection charts, inbound orders, capacity and options."""

    def __init__(self) -> None:
        self.detail = _hooked(widgets.VBox(), "soe-detail")
        super().__init__([widgets.HTML("<h3>Drill-down</h3>"), self.detail])

    def show(self, item: pd.Series | None, rows: dict | None, week: ReviewWeek | None) -> None:
        if item is None:
            self.detail.children = [widgets.HTML("<p class='soe-message'>Select an item of the decision list to see its drill-down.</p>")]
            return
        parts: list[widgets.Widget] = [
            widgets.HTML(
                f"<p><b>{html.escape(label(item['kind']))}</b> {html.escape(str(item['sku']))} @ {html.escape(str(item['location']))}"
                f"{html.escape(str(item['resource']))} from {html.escape(str(item['week']))}: {html.escape(str(item['detail']))}</p>"
            )
        ]
        if rows is not None:
            parts += [widgets.HTML(draw("demand", rows)), widgets.HTML(draw("projection", rows))]
            parts += self._tables(rows)
        elif item["resource"] and week is not None and len(cap := week.table("capacity_load")):
            parts.append(_table(cap[cap["resource"] == item["resource"]]))
        self.detail.children = parts

    @staticmethod
    def _tables(rows: dict) -> list[widgets.Widget]:
        out: list[widgets.Widget] = []
        if len(orders := rows["orders"]):
            out += [widgets.HTML("<h4>Inbound orders</h4>"),
                    _table(orders[["order_id", "supplier", "kind", "week", "eta_week", "delay_weeks", "qty", "constrained_qty", "creates_shortage"]], "soe-orders")]
        if len(rows["capacity"]):
            out += [widgets.HTML("<h4>Capacity of its resources</h4>"),
                    _table(rows["capacity"][["resource", "week", "load_hours", "available_hours", "load_pct", "overloaded"]])]
        opts = rows["options"]
        if len(opts) and (chosen := opts[opts["chosen_qty"] > 0]).shape[0]:
            out += [widgets.HTML("<h4>The week's joint plan for this item</h4><p class='soe-message'>What the plan takes, with every gap "
                                 "and shared limit of the week considered together (stock, orders, hours).</p>"),
                    _table(chosen[["first_week", "action", "detail", "effective_week", "chosen_qty", "chosen_cost", "chosen_net_benefit"]], "soe-plan")]
        if len(causes := rows.get("causes", pd.DataFrame())):
            out += [widgets.HTML("<h4>Why it is short, week by week</h4><p class='soe-message'>Each week's parts add up to that week's "
                                 "shortage (a plan cushion is spare the plan had).</p>"),
                    _table(causes.pivot_table(index="week", columns="cause", values="qty", aggfunc="sum", fill_value=0.0).add_suffix(" units")
                           .join(causes.groupby("week")["week_shortage_qty"].first().rename("shortage units")).reset_index(), "soe-causes")]
        if len(alloc := rows.get("allocation", pd.DataFrame())) and (alloc["cut_qty"] > 0).any():
            out += [widgets.HTML("<h4>Who is cut</h4><p class='soe-message'>The week's supply of this item shared among its order lines: "
                                 "tiers first, an equal share within a tier (docs/allocation.md).</p>"),
                    _table(alloc[["customer", "tier", "order_id", "requested_week", "requested_qty", "allocated_qty", "cut_qty", "confirmed_week",
                                  "reason"]], "soe-allocation")]
        if len(promise := rows.get("promise", pd.DataFrame())):
            out += [widgets.HTML("<h4>What a new order can still get</h4><p class='soe-message'>Cumulative: from stock and receipts "
                                 "(ATP), and with the spare hours of its resources (CTP); <code>soe promise</code> says what an earlier week "
                                 "would take from other lines.</p>"),
                    _table(promise[["week", "atp_qty", "ctp_qty"]], "soe-promise")]
        if len(opts):
            out += [widgets.HTML("<h4>Countermeasure options</h4>"), *_options(opts)]
        return out


def _options(opts: pd.DataFrame) -> list[widgets.Widget]:
    """The options that can be used, the plan's first then by net benefit; those that cannot folded below with why
    (a gap has nine or so: listed first, their rows of "No" hid the useful ones)."""
    usable = opts[opts["feasible"].astype(bool)].sort_values(["chosen_qty", "net_benefit"], ascending=False)
    other = opts[~opts["feasible"].astype(bool)]
    shown = [_table(usable[["first_week", "action", "qty", "cost", "margin_recovered", "net_benefit", "effective_week", "chosen_qty", "detail"]],
                    "soe-options")] if len(usable) else [widgets.HTML("<p class='soe-message'>No countermeasure can be used for this item this week.</p>")]
    if len(other):
        why = _table(other[["first_week", "action", "detail", "reason"]]).value
        shown.append(_hooked(widgets.HTML(f"<details><summary>{len(other)} options that cannot be used here, and why</summary>{why}</details>"),
                             "soe-options-other"))
    return shown


def bridge_html(bridge: pd.DataFrame, measure: str = "margin at risk") -> str:
    """The bridge as a waterfall of HTML bars (no chart renderer: the panel shows on the first render).
    Each row: the part, its amount, and a bar from the running total before it to after it."""
    rows = bridge[bridge["measure"] == measure].sort_values("step")
    if rows.empty:
        return ""
    amounts = rows["amount"].to_numpy(dtype=float)
    ends = np.concatenate([[amounts[0]], amounts[0] + np.cumsum(amounts[1:-1]), [amounts[-1]]])
    starts = np.concatenate([[0.0], ends[:-2], [0.0]])
    scale = max(np.abs(np.concatenate([starts, ends])).max(), 1e-9)
    body = []
    for k, r in enumerate(rows.itertuples()):
        total = k in (0, len(rows) - 1)
        if not total and abs(r.amount) < 0.5:
            continue  # parts that change nothing stay in the table, not in the picture
        lo, hi = sorted((starts[k], ends[k]))
        colour = "#444" if total else ("#d62728" if (r.amount > 0) == (measure == "margin at risk") else "#2ca02c")
        bar = (f"<div style='position:relative;height:.9em;width:18em;background:#f4f5f7'><div style='position:absolute;left:{max(lo, 0) / scale * 100:.1f}%;"
               f"width:{max((hi - max(lo, 0)) / scale * 100, 0.5):.1f}%;height:100%;background:{colour}'></div></div>")
        amount = f"{r.amount:,.0f}" if total else f"{r.amount:+,.0f}"
        body.append(f"<tr title='{html.escape(str(r.detail))}'><td>{html.escape(label(r.component))}</td><td style='text-align:right'>{amount}</td><td>{bar}</td></tr>")
    return f"<table class='soe-table soe-bridge' data-measure='{html.escape(measure)}'><tr><th>{html.escape(measure)}</th><th></th><th></th></tr>{''.join(body)}</table>"


def _section(title: str, body: str, cls: str) -> str:
    """A part of the history that opens on demand: its one-line summary always shown, the rest folded."""
    return f"<details class='soe-section {cls}'><summary>{html.escape(title)}</summary>{body}</details>"


class LoopPanel(widgets.VBox):
    """The history, folded under one-line summaries: since the last meeting (the bridge; new, worse and closed items)
    and did it work (earlier actions, in the loop's words)."""

    def __init__(self) -> None:
        self.since = _hooked(widgets.HTML(), "soe-loop-since")
        self.outcomes = _hooked(widgets.HTML(), "soe-loop-outcomes")
        super().__init__([self.since, self.outcomes])

    def show(self, week: ReviewWeek) -> None:
        bridge, changes, outcomes = week.table("risk_bridge"), week.table("item_changes"), week.table("action_outcomes")
        if bridge.empty:
            self.since.value = _section("Since the last meeting: no earlier week in the archive to compare with.", "", "soe-since")
        else:
            counts = changes["status"].value_counts() if len(changes) else pd.Series(dtype=int)
            moved = changes[changes["status"].isin(["new", "worse", "closed"])].head(12)
            items = _table(moved[["status", "kind", "sku", "location", "resource", "money_then", "money_now", "reason"]]).value if len(moved) else ""
            total = bridge[bridge["measure"] == "margin at risk"].sort_values("step")["amount"]
            change = f"; margin at risk {total.iloc[-1] - total.iloc[0]:+,.0f} {week.currency}" if len(total) > 1 else ""
            title = "Since the last meeting: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("new", "worse", "eased", "closed")) + " items" + change
            self.since.value = _section(title, bridge_html(bridge) + items, "soe-since")
        if outcomes.empty:
            self.outcomes.value = _section("Did it work? No action recorded in an earlier week yet.", "", "soe-outcomes")
        else:
            shown = outcomes[["action_id", "decided_week", "sku", "location", "action", "owner", "executed", "money_then", "money_now", "status", "proposal"]]
            status = outcomes["status"].value_counts()
            title = f"Did it work? {len(outcomes)} earlier actions: " + ", ".join(f"{n} {s}" for s, n in status.items())
            self.outcomes.value = _section(title, _table(shown).value, "soe-outcomes")


class ServicePanel(widgets.VBox):
    """Customers: who is cut this week and projected service against targets (the allocation step), beside the
    service they really got in the last 4 and 13 weeks (order_history): a section that opens on demand."""

    def __init__(self) -> None:
        self.body = _hooked(widgets.HTML(), "soe-service")
        super().__init__([self.body])

    def show(self, week: ReviewWeek) -> None:
        projected, actual = week.table("customer_service"), week.table("actual_service")
        if projected.empty and actual.empty:
            self.body.value = _section("Customers: no order lines in this week's data.", "", "soe-customers")
            return
        below = int(projected["below_target"].sum()) if len(projected) else 0
        cut = projected[projected["cut_qty"] > 0] if len(projected) else projected
        recent = actual[(actual["by"] == "customer") & (actual["weeks"] == 4)] if len(actual) else actual
        otif = f"; OTIF of the last 4 weeks {recent['otif'].mul(recent['lines']).sum() / max(recent['lines'].sum(), 1):.1%}" if len(recent) else ""
        title = f"Customers: {len(cut)} cut this horizon, {below} projected below target{otif}"
        body = _table(projected).value if len(projected) else ""
        if len(actual):
            body += "<p class='soe-message'>What they really got (order lines already due):</p>" + _table(actual[actual["by"] == "customer"]).value
        self.body.value = _section(title, body, "soe-customers")


SCENARIO_MEASURES = ("margin_at_risk", "shortage_gaps", "units_short", "decision_items", "plan_actions", "plan_net_benefit", "plan_cost",
                     "lines_moved", "units_moved")


class LogisticsPanel(widgets.VBox):
    """Inbound lines their lanes' record says will come late (what they put at risk, by lane, port and carrier) and the
    disruption scenarios saved with the week, each beside the week as run: in sections that open on demand."""

    def __init__(self) -> None:
        self.slipping = _hooked(widgets.HTML(), "soe-slipping")
        self.scenarios = _hooked(widgets.HTML(), "soe-scenarios")
        super().__init__([self.slipping, self.scenarios])

    def show(self, week: ReviewWeek) -> None:
        risk, slips = week.table("logistics_risk"), week.table("slip_risk")
        if risk.empty:
            self.slipping.value = _section("Inbound on time: no open line's lane says it will come later than stated.", "", "soe-slip")
        else:
            lanes = risk[risk["by"] == "lane"]
            top = lanes.iloc[0]
            at_risk = int((slips["status"] == "at risk of slipping").sum()) if len(slips) else 0
            title = (f"Inbound at risk of slipping: {week.currency} {lanes['margin_at_risk'].sum():,.0f} margin at risk if the lanes do what they "
                     f"did, {at_risk} SKU-locations short only then; most on {top['name']}")
            body = _table(risk[["by", "name", "lines", "slipping_qty", "sku_locations", "margin_at_risk"]]).value
            if len(slips):
                body += _table(slips[["sku", "location", "status", "first_week", "extra_shortage_qty", "orders", "lanes", "carriers"]].head(12)).value
            self.slipping.value = _section(title, body, "soe-slip")
        self.scenarios.value = "".join(self._scenario(name, c, lines, week.currency) for name, (c, lines) in week.scenarios().items())

    @staticmethod
    def _scenario(name: str, c: pd.DataFrame, lines: pd.DataFrame, currency: str) -> str:
        base, total = c.iloc[0], c.iloc[-1]
        title = (f"Scenario {name}: margin at risk {currency} {base['margin_at_risk']:,.0f} -> {currency} {total['margin_at_risk']:,.0f} "
                 f"({total['margin_at_risk'] - base['margin_at_risk']:+,.0f}), {int(total['lines_moved'])} inbound lines moved")
        shown = c.assign(_col=[f"{p}: {w}" if p.startswith("event") else p for p, w in zip(c["part"], c["what"], strict=True)])
        body = _table(side_by_side(shown, SCENARIO_MEASURES, "_col", currency=currency)).value
        if len(lines):
            body += _table(lines[["order_id", "sku", "location", "mode", "origin", "destination", "carrier", "qty", "eta_week",
                                  "scenario_eta_week", "events"]].head(15)).value
        return _section(title, body, "soe-scenario")


class WhatIfPanel(widgets.VBox):
    """The selected item's what-if (demand change, an inbound order moved, a transfer in or out, from
    another location: the donor side shown), recomputed at once (:func:`~soe_lib.app.review_data.what_if`);
    and scenarios: changes of several items added together, saved by name in the decision log, and
    compared side by side with the base plan (:mod:`.scenarios`)."""

    def __init__(self) -> None:
        self.rows: dict | None = None
        self.week: ReviewWeek | None = None
        self.decision_log: ActionLog | None = None
        self.who: Callable[[], str] = lambda: ""
        self.pending: list[dict] = []
        self.controls = {
            "demand": widgets.IntSlider(value=0, min=-50, max=100, step=5, description="Demand change (%)", continuous_update=False),
            "order": widgets.Dropdown(options=[("none", "")], value="", description="Move order"),
            "move": widgets.IntSlider(value=0, min=-4, max=4, description="Move by (weeks)", continuous_update=False),
            "transfer_qty": widgets.BoundedFloatText(value=0, min=-1e9, max=1e9, description="Transfer qty (+ in, - out)"),
            "transfer_week": widgets.IntSlider(value=1, min=0, max=12, description="Transfer week", continuous_update=False),
            "transfer_from": widgets.Dropdown(options=[("outside", "")], value="", description="From location"),
        }
        for name, control in self.controls.items():
            control.style.description_width = "initial"
            _hooked(control, f"soe-whatif-{name}")
        self.result = _hooked(widgets.HTML(), "soe-whatif-result")
        self.chart = _hooked(widgets.HTML(), "soe-whatif-chart")
        self.add_button = _hooked(widgets.Button(description="Add to scenario", tooltip="keep this item's changes in the scenario being built"), "soe-scenario-add")
        self.name = _hooked(widgets.Text(description="Scenario name"), "soe-scenario-name")
        self.save_button = _hooked(widgets.Button(description="Save scenario", button_style="info"), "soe-scenario-save")
        self.pending_box = _hooked(widgets.HTML(), "soe-scenario-pending")
        self.saved = _hooked(widgets.SelectMultiple(options=[], description="Saved", rows=4), "soe-scenario-saved")
        self.compare_button = _hooked(widgets.Button(description="Compare with the base plan"), "soe-scenario-compare")
        self.comparison = _hooked(widgets.HTML(), "soe-scenario-comparison")
        self.add_button.on_click(self._on_add)
        self.save_button.on_click(self._on_save)
        self.compare_button.on_click(self._on_compare)
        c = self.controls
        super().__init__(
            [
                widgets.HTML("<h3>What-if</h3>"), widgets.HBox([c["demand"], c["order"], c["move"]]),
                widgets.HBox([c["transfer_qty"], c["transfer_week"], c["transfer_from"]]), self.result, self.chart,
                widgets.HTML("<h4>Scenarios</h4>"), widgets.HBox([self.add_button, self.name, self.save_button]), self.pending_box,
                widgets.HBox([self.saved, self.compare_button]), self.comparison,
            ]
        )

    def observe_controls(self, callback: Callable) -> None:
        for control in self.controls.values():
            control.observe(callback, names="value")

    def set_context(self, week: ReviewWeek, log: ActionLog | None, who: Callable[[], str]) -> None:
        """The week the scenarios belong to and the decision log they are saved in."""
        self.week, self.decision_log, self.who = week, log, who
        self.pending = []
        self._show_pending("")
        self.comparison.value = ""
        self._list_saved()

    def set_rows(self, rows: dict | None) -> None:
        """A new item: its inbound orders to move, the other locations holding it, every control back to no change."""
        self.rows = rows
        orders = rows["orders"]["order_id"].dropna().astype(str).tolist() if rows is not None and len(rows["orders"]) else []
        self.controls["order"].options = [("none", "")] + [(o, o) for o in orders]
        self._quiet = True  # five controls back to no change must not recompute five times (the caller recomputes once)
        try:
            self.controls["transfer_from"].options = [("outside", "")] + [(loc, loc) for loc in self._donors()]
            for name, value in (("demand", 0), ("order", ""), ("move", 0), ("transfer_qty", 0.0), ("transfer_from", "")):
                self.controls[name].value = value
        finally:
            self._quiet = False

    def _item(self) -> tuple[str, str]:
        proj = self.rows["projection"]
        return str(proj["sku"].iloc[0]), str(proj["location"].iloc[0])

    def _donors(self) -> list[str]:
        if self.rows is None or self.week is None or self.rows["projection"].empty:
            return []
        sku, location = self._item()
        inv = self.week.inputs("inventory")
        return sorted(str(x) for x in inv.loc[(inv["sku"] == sku) & (inv["location"] != location), "location"].unique()) if len(inv) else []

    def changes(self) -> list[dict]:
        """The selected item's changes as the controls set them (see :mod:`.scenarios`)."""
        if self.rows is None or self.rows["projection"].empty:
            return []
        c, (sku, location) = self.controls, self._item()
        out: list[dict] = []
        if c["demand"].value:
            out.append({"kind": "demand", "sku": sku, "location": location, "pct": float(c["demand"].value)})
        if c["order"].value and c["move"].value:
            out.append({"kind": "move", "sku": sku, "location": location, "order_id": c["order"].value, "weeks": int(c["move"].value)})
        if c["transfer_qty"].value:
            out.append({"kind": "transfer", "sku": sku, "to_location": location, "from_location": c["transfer_from"].value,
                        "qty": float(c["transfer_qty"].value), "week": int(c["transfer_week"].value)})
        return out

    def recompute(self) -> None:
        if getattr(self, "_quiet", False):
            return
        self.chart.value = ""
        if self.rows is None or self.rows["projection"].empty:
            self.result.value = "<p class='soe-message'>Select a supply item of the decision list to try a what-if.</p>"
            return
        c = self.controls
        base = what_if(self.rows)
        result = what_if(self.rows, c["demand"].value, c["order"].value or None, c["move"].value, c["transfer_qty"].value, c["transfer_week"].value)
        text = (f"Shortage <b class='soe-whatif-shortage'>{result.shortage_qty:,.1f}</b> units "
                f"(now {base.shortage_qty:,.1f}); margin at risk <b>{result.margin_at_risk:,.0f}</b> (now {base.margin_at_risk:,.0f}); "
                f"revenue at risk {result.revenue_at_risk:,.0f}.")
        donor = c["transfer_from"].value
        if donor and c["transfer_qty"].value and self.week is not None:
            rows = self.week.series_rows(self._item()[0], donor)
            if not rows["projection"].empty:
                d_base, d_new = what_if(rows), what_if(rows, transfer_qty=-c["transfer_qty"].value, transfer_week=c["transfer_week"].value)
                text += (f" <span class='soe-whatif-donor'>Donor {html.escape(donor)}: shortage {d_new.shortage_qty:,.0f} units "
                         f"(now {d_base.shortage_qty:,.0f}), margin at risk {d_new.margin_at_risk:,.0f} (now {d_base.margin_at_risk:,.0f}).</span>")
        self.result.value = f"<p class='soe-message'>{text}</p>"
        if self.changes():  # the chart with the what-if line only once something changed: until then it is the one above
            line = pd.DataFrame({"week": result.weeks, "projected": result.projected})
            self.chart.value = draw("projection", {**self.rows, "whatif": line})

    # --- scenarios ----------------------------------------------------------------------------------------
    def _show_pending(self, note: str) -> None:
        from .scenarios import describe_change

        items = "".join(f"<li>{html.escape(describe_change(ch))}</li>" for ch in self.pending)
        self.pending_box.value = (f"<p class='soe-message'>{html.escape(note)}</p>" if note else "") + (
            f"<ul class='soe-scenario-changes'>{items}</ul>" if items else "<p class='soe-message'>No change in the scenario yet: set a what-if and add it.</p>")

    def _list_saved(self) -> None:
        saved = self.decision_log.scenarios(self.week.week) if self.decision_log is not None and self.week is not None else pd.DataFrame()
        self._saved = {int(r.id): (r.name, r.changes) for r in saved.itertuples()} if len(saved) else {}
        self.saved.options = [(f"#{i} {name} ({len(ch)} changes)", i) for i, (name, ch) in self._saved.items()]

    def _on_add(self, _button) -> None:
        new = self.changes()
        self.pending += new
        self._show_pending(f"{len(new)} change(s) added." if new else "Nothing to add: set a what-if first.")

    def _on_save(self, _button) -> None:
        if self.decision_log is None or self.week is None:
            self._show_pending("Scenarios cannot be saved now: the decision log is not available.")
            return
        try:
            new_id = self.decision_log.save_scenario(self.week.week, self.name.value, self.pending, self.who())
        except ValueError as exc:
            self._show_pending(str(exc))
            return
        self.pending = []
        self._show_pending(f"Scenario #{new_id} '{self.name.value}' saved.")
        self._list_saved()
        self.saved.value = (new_id,)

    def _on_compare(self, _button) -> None:
        from .scenarios import compare_scenarios

        chosen = {f"#{i} {self._saved[i][0]}": self._saved[i][1] for i in self.saved.value if i in self._saved}
        if self.pending:
            chosen["(not saved yet)"] = self.pending
        if not chosen or self.week is None:
            self.comparison.value = "<p class='soe-message'>Choose saved scenarios (or add changes) to compare.</p>"
            return
        self.comparison.value = _table(compare_scenarios(self.week, chosen), "soe-scenario-table").value


ACCEPT_CHOICE = "accept the gap: the joint plan takes no move for it"


class RecordPanel(widgets.VBox):
    """The form to record a decision for the selected item, and the minutes export."""

    def __init__(self) -> None:
        self.form = {
            "choice": widgets.Dropdown(options=[("other (free text)", "")], value="", description="Countermeasure"),
            "action": widgets.Text(description="Action", placeholder="what will be done"),
            "owner": widgets.Text(description="Owner"),
            "due": widgets.Text(description="Due week", placeholder="ISO week, e.g. the week after the meeting"),
            "note": widgets.Textarea(description="Note"),
            "by": widgets.Text(description="Your name"),
        }
        for name, control in self.form.items():
            _hooked(control, f"soe-form-{name}")
        self.states: dict[str, dict] = {"": {}}  # per choice: what is recorded with it (see state)
        self.record_button = widgets.Button(description="Record decision", button_style="primary")
        self.minutes_button = widgets.Button(description="Export minutes")
        self.message = _hooked(widgets.HTML(), "soe-form-message")
        self.form["choice"].observe(self._on_choice, names="value")
        super().__init__(
            [
                widgets.HTML("<h3>Record a decision</h3>"), widgets.VBox(list(self.form.values())),
                widgets.HBox([self.record_button, self.minutes_button]), self.message,
            ]
        )

    def offer(self, item: pd.Series | None, rows: dict | None, meeting_week: str | None = None) -> None:
        """The selected item's feasible countermeasures as choices, the joint plan's first; chosen by default: the plan's
        move, else accepting the gap (a move the plan does not take is never pre-selected: its net benefit alone may be
        negative). Without any option, its standard first move. The due week starts at the week after ``meeting_week``.
        What is recorded with the choice: :meth:`state`."""
        opts = rows["options"] if rows is not None else pd.DataFrame()
        feasible = opts[opts["feasible"] & ~opts["action"].isin(["accept"])] if len(opts) else opts
        if len(feasible):
            feasible = feasible.sort_values(["chosen_qty", "net_benefit"], ascending=False)
        self.states = {"": {}}
        choices, planned = [("other (free text)", "")], []
        for _, r in feasible.iterrows():  # the same reading of an option as `soe actions record` (app/decisions.py)
            state = option_state(r)
            text = action_text(r, state["qty"])
            in_plan = r["chosen_qty"] > 0
            label = f"{text} (plan: {r['chosen_qty']:,.0f} units, net {r['chosen_net_benefit']:,.0f})" if in_plan else f"{text} (alone: net {r['net_benefit']:,.0f})"
            self.states[text] = state
            choices.append((label, text))
            if in_plan:
                planned.append(text)
        if item is not None and not len(feasible):
            choices.append((str(item["best_action"]), str(item["best_action"])))
            self.states[str(item["best_action"])] = {}
            planned = planned or [str(item["best_action"])]
        elif item is not None and not planned:
            choices.insert(1, (ACCEPT_CHOICE, ACCEPT_CHOICE))
            self.states[ACCEPT_CHOICE] = {}
            planned = [ACCEPT_CHOICE]
        self.form["choice"].options = choices
        self.form["choice"].value = planned[0] if planned else ""
        if meeting_week:
            after = week_label(parse_week(meeting_week) + pd.Timedelta(weeks=1))
            self.form["due"].placeholder = after
            if not self.form["due"].value.strip():
                self.form["due"].value = after

    def state(self, item: pd.Series | None) -> dict:
        """The item's state kept with the recorded action (to follow it next week): its id, money and
        shortage now, and the chosen countermeasure's type, target, units and expected benefit."""
        if item is None:
            return {}
        return {**item_base_state(item)[1], **self.states.get(self.form["choice"].value, {})}

    def _on_choice(self, change) -> None:
        if change["new"]:
            self.form["action"].value = change["new"]
