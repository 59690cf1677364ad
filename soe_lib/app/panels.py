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

from ..io.decision_log import STATUSES, ActionLog, StaleUpdate
from .review_data import ReviewWeek, filter_items, kpi_tiles, what_if

__all__ = [
    "ActionsPanel",
    "DecisionListPanel",
    "DrilldownPanel",
    "KpiPanel",
    "LoopPanel",
    "RecordPanel",
    "WhatIfPanel",
    "bridge_html",
    "items_options",
    "message",
    "tile_html",
]

FORMATS = {
    "plan accuracy": "{:.1%}", "plan bias": "{:+.1%}", "projected fill rate": "{:.1%}", "revenue at risk": "{:,.0f}",
    "margin at risk": "{:,.0f}", "gap to financial plan": "{:+,.0f}", "open actions": "{:,.0f}", "overdue actions": "{:,.0f}",
}
# for these a rise is bad news (the delta is shown red when it goes up)
UP_IS_BAD = {"revenue at risk", "margin at risk", "open actions", "overdue actions"}


def message(text: str, error: bool = False) -> str:
    """One escaped line of the page."""
    return f"<span class='{'soe-error' if error else 'soe-message'}'>{html.escape(text)}</span>"


def _fmt(name: str, value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else FORMATS[name].format(value)


def tile_html(tiles: pd.DataFrame) -> str:
    """KPI tiles as HTML: value, and the change since the previous week when there is one."""
    parts = []
    for r in tiles.itertuples():
        delta = ""
        if not np.isnan(r.change):
            worse = (r.change > 0) == (r.kpi in UP_IS_BAD) if r.change != 0 else False
            sign_fmt = FORMATS[r.kpi].replace("{:", "{:+") if "+" not in FORMATS[r.kpi] else FORMATS[r.kpi]
            delta = f"<div class='soe-delta {'soe-bad' if worse else 'soe-good'}'>{html.escape(sign_fmt.format(r.change))} vs last week</div>"
        parts.append(
            f"<div class='soe-tile' data-kpi='{html.escape(r.kpi)}'><div class='soe-tile-label'>{html.escape(r.kpi)}</div>"
            f"<div class='soe-tile-value'>{html.escape(_fmt(r.kpi, r.value))}</div>{delta}</div>"
        )
    return "".join(parts)


def items_options(items: pd.DataFrame) -> list[tuple[str, int]]:
    """(label, row index) for the decision-list selector: ranked items ``#n``, then those ``in hand``
    (an open action of an earlier week), then the ``S&OP`` findings (for next month's S&OP)."""
    where = np.where(
        items["sku"].astype(str) != "", items["sku"].astype(str) + " @ " + items["location"].astype(str), items["resource"].astype(str) + items["location"].astype(str)
    )
    track = items["track"].astype(str) if "track" in items else pd.Series("execution", index=items.index)
    in_hand = items["in_hand"].fillna(False).astype(bool) if "in_hand" in items else pd.Series(False, index=items.index)
    rank = items["rank"].astype("Int64").astype(str).str.replace("<NA>", "", regex=False)
    place = np.where(track == "sop", "S&OP", np.where(in_hand, "in hand", "#" + rank))
    labels = (
        pd.Series(place, index=items.index) + "  " + items["kind"].astype(str) + "  " + where
        + "  " + items["week"].astype(str) + "  " + items["money_at_risk"].map("{:,.0f}".format)
    )
    return list(zip(labels.tolist(), items.index.tolist(), strict=True))


def _table(frame: pd.DataFrame, cls: str = "") -> widgets.HTML:
    body = frame.to_html(index=False, escape=True, border=0, classes="soe-table", float_format=lambda v: f"{v:,.2f}", na_rep="")
    out = widgets.HTML(body)
    if cls:
        out.add_class(cls)
    return out


def _hooked(widget: widgets.Widget, cls: str) -> widgets.Widget:
    widget.add_class(cls)
    return widget


class KpiPanel(widgets.VBox):
    """The KPI tiles of the selected week, each with its change since the previous week."""

    def __init__(self) -> None:
        self.tiles = _hooked(widgets.HTML(), "soe-tiles")
        super().__init__([self.tiles])

    def show(self, current: dict[str, float], previous: dict[str, float] | None, actions: dict[str, int]) -> None:
        self.tiles.value = tile_html(kpi_tiles(current, previous, actions))


class ActionsPanel(widgets.VBox):
    """Open actions from earlier weeks (first, with status updates) and what was decided this week."""

    def __init__(self, log: ActionLog | None, on_change: Callable[[str], None], who: Callable[[], str]) -> None:
        self.action_log, self.on_change, self.who = log, on_change, who
        self.week = ""
        self.open_box = _hooked(widgets.VBox(), "soe-open-actions")
        self.week_box = _hooked(widgets.VBox(), "soe-week-actions")
        super().__init__([widgets.HTML("<h3>Open actions from earlier weeks</h3>"), self.open_box])

    def show(self, week: str) -> None:
        self.week = week
        if self.action_log is None:  # the decision log cannot be opened: the page says why, above
            self.open_box.children = self.week_box.children = [widgets.HTML("<p class='soe-message'>The decision log is not available.</p>")]
            return
        self.open_box.children = self._rows(self.action_log.open_actions(week), "No open actions from earlier weeks.")
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


class DecisionListPanel(widgets.VBox):
    """The capped decision list with filters; picking an item calls ``on_select(row or None)``."""

    FILTERS = ("family", "location", "cause", "severity")

    def __init__(self, on_select: Callable[[pd.Series | None], None]) -> None:
        self.on_select = on_select
        self.items = pd.DataFrame()
        self.beyond = pd.DataFrame()
        self.filters = {
            name: _hooked(widgets.Dropdown(options=[("all", "")], value="", description=name.capitalize()), f"soe-filter-{name}")
            for name in self.FILTERS
        }
        self.item_list = _hooked(widgets.Select(options=[], rows=12, description="Items", layout=widgets.Layout(width="95%")), "soe-items")
        self.note = _hooked(widgets.HTML(), "soe-list-note")
        self._quiet = False
        for f in self.filters.values():
            f.observe(self._on_filter, names="value")
        self.item_list.observe(self._on_item, names="value")
        super().__init__([widgets.HTML("<h3>Decision list</h3>"), widgets.HBox(list(self.filters.values())), self.note, self.item_list])

    def show(self, items: pd.DataFrame, beyond: pd.DataFrame) -> None:
        """A new week's list: filters offer its values, nothing is selected."""
        self.items, self.beyond = items, beyond
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
        self.item_list.unobserve(self._on_item, names="value")
        try:
            self.item_list.options = items_options(shown) if len(shown) else []
            # nothing is opened until someone picks an item: the first render stays fast (charts are
            # rendered by vl-convert, whose start-up alone costs about a second)
            self.item_list.value = None
        finally:
            self.item_list.observe(self._on_item, names="value")
        self._on_item()

    def _on_item(self, _change=None) -> None:
        idx = self.item_list.value
        self.on_select(None if idx is None else self.items.loc[idx])


class DrilldownPanel(widgets.VBox):
    """The selected item: its demand and projection charts, inbound orders, capacity and options."""

    def __init__(self) -> None:
        self.detail = _hooked(widgets.VBox(), "soe-detail")
        super().__init__([widgets.HTML("<h3>Drill-down</h3>"), self.detail])

    def show(self, item: pd.Series | None, rows: dict | None, week: ReviewWeek | None) -> None:
        if item is None:
            self.detail.children = [widgets.HTML("<p class='soe-message'>Select an item of the decision list to see its drill-down.</p>")]
            return
        from . import charts

        parts: list[widgets.Widget] = [
            widgets.HTML(
                f"<p><b>{html.escape(str(item['kind']))}</b> {html.escape(str(item['sku']))} @ {html.escape(str(item['location']))}"
                f"{html.escape(str(item['resource']))} from {html.escape(str(item['week']))}: {html.escape(str(item['detail']))}</p>"
            )
        ]
        if rows is not None:
            parts += [widgets.HTML(charts.svg_html(charts.drilldown_demand_chart(rows))), widgets.HTML(charts.svg_html(charts.drilldown_projection_chart(rows)))]
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
                    _table(causes.pivot_table(index="week", columns="cause", values="qty", aggfunc="sum", fill_value=0.0)
                           .join(causes.groupby("week")["week_shortage_qty"].first().rename("shortage")).reset_index(), "soe-causes")]
        if len(opts):
            out += [widgets.HTML("<h4>Countermeasure options</h4>"),
                    _table(opts[["first_week", "action", "feasible", "qty", "cost", "margin_recovered", "net_benefit", "effective_week",
                                 "chosen_qty", "detail", "reason"]], "soe-options")]
        return out


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
        body.append(f"<tr title='{html.escape(str(r.detail))}'><td>{html.escape(str(r.component))}</td><td style='text-align:right'>{amount}</td><td>{bar}</td></tr>")
    return f"<table class='soe-table soe-bridge' data-measure='{html.escape(measure)}'><tr><th>{html.escape(measure)}</th><th></th><th></th></tr>{''.join(body)}</table>"


class LoopPanel(widgets.VBox):
    """Since last week (the bridge; new, worse and closed items) and did it work (last weeks' actions)."""

    def __init__(self) -> None:
        self.summary = _hooked(widgets.HTML(), "soe-loop-summary")
        self.bridge = _hooked(widgets.HTML(), "soe-loop-bridge")
        self.items = _hooked(widgets.HTML(), "soe-loop-items")
        self.outcomes = _hooked(widgets.HTML(), "soe-loop-outcomes")
        super().__init__([widgets.HTML("<h3>Since last week</h3>"), self.summary, self.bridge, self.items,
                          widgets.HTML("<h3>Did it work?</h3>"), self.outcomes])

    def show(self, week: ReviewWeek) -> None:
        bridge, changes, outcomes = week.table("risk_bridge"), week.table("item_changes"), week.table("action_outcomes")
        if bridge.empty:
            self.summary.value = "<p class='soe-message'>No earlier week in the archive to compare with.</p>"
            self.bridge.value = self.items.value = ""
        else:
            counts = changes["status"].value_counts() if len(changes) else pd.Series(dtype=int)
            self.summary.value = "<p class='soe-message'>" + html.escape(", ".join(f"{counts.get(s, 0)} {s}" for s in ("new", "worse", "eased", "closed"))) + " items since last week.</p>"
            self.bridge.value = bridge_html(bridge)
            moved = changes[changes["status"].isin(["new", "worse", "closed"])].head(12)
            self.items.value = _table(moved[["status", "kind", "sku", "location", "resource", "money_then", "money_now", "reason"]]).value if len(moved) else ""
        if outcomes.empty:
            self.outcomes.value = "<p class='soe-message'>No action recorded in an earlier week yet.</p>"
        else:
            shown = outcomes[["action_id", "decided_week", "action", "owner", "executed", "money_then", "money_now", "status", "proposal"]]
            self.outcomes.value = _table(shown).value


class WhatIfPanel(widgets.VBox):
    """Demand change, one inbound order moved, a transfer in or out: the item's projection, shortage
    and money at risk recomputed at once (:func:`~soe_lib.app.review_data.what_if`)."""

    def __init__(self) -> None:
        self.rows: dict | None = None
        self.controls = {
            "demand": widgets.IntSlider(value=0, min=-50, max=100, step=5, description="Demand change (%)", continuous_update=False),
            "order": widgets.Dropdown(options=[("none", "")], value="", description="Move order"),
            "move": widgets.IntSlider(value=0, min=-4, max=4, description="Move by (weeks)", continuous_update=False),
            "transfer_qty": widgets.BoundedFloatText(value=0, min=-1e9, max=1e9, description="Transfer qty (+ in, - out)"),
            "transfer_week": widgets.IntSlider(value=1, min=0, max=12, description="Transfer week", continuous_update=False),
        }
        for name, control in self.controls.items():
            control.style.description_width = "initial"
            _hooked(control, f"soe-whatif-{name}")
        self.result = _hooked(widgets.HTML(), "soe-whatif-result")
        self.chart = _hooked(widgets.HTML(), "soe-whatif-chart")
        c = self.controls
        super().__init__(
            [
                widgets.HTML("<h3>What-if</h3>"), widgets.HBox([c["demand"], c["order"], c["move"]]),
                widgets.HBox([c["transfer_qty"], c["transfer_week"]]), self.result, self.chart,
            ]
        )

    def observe_controls(self, callback: Callable) -> None:
        for control in self.controls.values():
            control.observe(callback, names="value")

    def set_rows(self, rows: dict | None) -> None:
        """A new item: its inbound orders to move, every control back to no change."""
        self.rows = rows
        orders = rows["orders"]["order_id"].dropna().astype(str).tolist() if rows is not None and len(rows["orders"]) else []
        self.controls["order"].options = [("none", "")] + [(o, o) for o in orders]
        for name, value in (("demand", 0), ("order", ""), ("move", 0), ("transfer_qty", 0.0)):
            self.controls[name].value = value

    def recompute(self) -> None:
        self.chart.value = ""
        if self.rows is None or self.rows["projection"].empty:
            self.result.value = "<p class='soe-message'>Select a supply item of the decision list to try a what-if.</p>"
            return
        c = self.controls
        base = what_if(self.rows)
        result = what_if(self.rows, c["demand"].value, c["order"].value or None, c["move"].value, c["transfer_qty"].value, c["transfer_week"].value)
        self.result.value = (
            f"<p class='soe-message'>Shortage <b class='soe-whatif-shortage'>{result.shortage_qty:,.1f}</b> units "
            f"(now {base.shortage_qty:,.1f}); margin at risk <b>{result.margin_at_risk:,.0f}</b> (now {base.margin_at_risk:,.0f}); "
            f"revenue at risk {result.revenue_at_risk:,.0f}.</p>"
        )
        changed = c["demand"].value or (c["order"].value and c["move"].value) or c["transfer_qty"].value
        if changed:  # the chart with the what-if line only once something changed: until then it is the one above
            from . import charts

            self.chart.value = charts.svg_html(charts.drilldown_projection_chart(self.rows, result))


class RecordPanel(widgets.VBox):
    """The form to record a decision for the selected item, and the minutes export."""

    def __init__(self) -> None:
        self.form = {
            "choice": widgets.Dropdown(options=[("other (free text)", "")], value="", description="Countermeasure"),
            "action": widgets.Text(description="Action", placeholder="what will be done"),
            "owner": widgets.Text(description="Owner"),
            "due": widgets.Text(description="Due week", placeholder="2026-W50"),
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

    def offer(self, item: pd.Series | None, rows: dict | None) -> None:
        """The selected item's feasible countermeasures as choices, the joint plan's first (and chosen by
        default); without any, its standard first move. What is recorded with the choice: :meth:`state`."""
        opts = rows["options"] if rows is not None else pd.DataFrame()
        feasible = opts[opts["feasible"] & ~opts["action"].isin(["accept"])] if len(opts) else opts
        if len(feasible):
            feasible = feasible.sort_values(["chosen_qty", "net_benefit"], ascending=False)
        self.states = {"": {}}
        choices = [("other (free text)", "")]
        for r in feasible.itertuples():
            text = f"{r.action.replace('_', ' ')}: {r.detail}"
            planned = r.chosen_qty > 0
            label = f"{text} (plan: {r.chosen_qty:,.0f} units, net {r.chosen_net_benefit:,.0f})" if planned else f"{text} (alone: net {r.net_benefit:,.0f})"
            target = r.order_id or r.source_location or r.substitute_sku or r.resource
            qty, benefit, cost = (r.chosen_qty, r.chosen_net_benefit, r.chosen_cost) if planned else (r.qty, r.net_benefit, r.cost)
            self.states[text] = {"action_type": r.action, "target": target, "qty": float(qty or 0.0), "expected_benefit": float(benefit or 0.0),
                                 "expected_cost": float(cost or 0.0)}
            choices.append((label, text))
        if item is not None and not len(feasible):
            choices.append((str(item["best_action"]), str(item["best_action"])))
            self.states[str(item["best_action"])] = {}
        self.form["choice"].options = choices
        self.form["choice"].value = choices[1][1] if len(choices) > 1 else ""

    def state(self, item: pd.Series | None) -> dict:
        """The item's state kept with the recorded action (to follow it next week): its id, money and
        shortage now, and the chosen countermeasure's type, target, units and expected benefit."""
        if item is None:
            return {}
        base = {"item_id": str(item.get("item_id", "") or ""), "item_money_at_risk": float(item.get("money_at_risk", 0.0) or 0.0),
                "item_shortage_qty": float(item.get("shortage_qty", 0.0) or 0.0), "item_cause": str(item.get("cause", "") or "")}
        return {**base, **self.states.get(self.form["choice"].value, {})}

    def _on_choice(self, change) -> None:
        if change["new"]:
            self.form["action"].value = change["new"]
