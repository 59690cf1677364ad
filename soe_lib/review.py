"""The weekly review meeting app (served by Voila from ``notebooks/05_weekly_review.ipynb``).

Layout, top to bottom: week selector; KPI tiles with the change since the previous week; open actions
from earlier weeks (status can be updated); the decision list with filters; the selected item's
drill-down (demand, projection with receipts, inbound orders, capacity, countermeasure options), its
what-if, and the form to record a decision; the minutes export.

It reads only what the weekly run wrote (:mod:`soe_lib.review_data`) and the action log
(:mod:`soe_lib.actions`). Everything that came from data or people is escaped before it is shown as
HTML. Errors are logged server side (stderr and ``outputs/review.log``) and shown as one short line.
"""

from __future__ import annotations

import functools
import html
import logging
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd

from .actions import STATUSES, ActionLog, StaleUpdate, default_url
from .paths import outputs_dir
from .review_data import ReviewWeek, available_weeks, filter_items, kpi_tiles, what_if

__all__ = ["EMPTY_MESSAGE", "ReviewApp", "available_weeks", "items_options", "review_app", "tile_html"]

EMPTY_MESSAGE = (
    "No successful weekly run yet. Make one with <code>make run</code> (or <code>soe run</code>), "
    "then reload this page."
)
STYLE = """<style>
.soe-tile{display:inline-block;min-width:10em;margin:0 .7em .7em 0;padding:.55em .9em;border:1px solid #d8dde3;border-radius:6px;background:#fafbfc}
.soe-tile-label{font-size:.8em;color:#555}.soe-tile-value{font-size:1.45em;font-weight:600}
.soe-delta{font-size:.8em;color:#555}.soe-bad{color:#b30000}.soe-good{color:#1a7f37}
.soe-table{border-collapse:collapse;font-size:.88em}.soe-table td,.soe-table th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left}
.soe-message{font-size:.9em;color:#444}.soe-error{color:#b30000}
</style>"""
FORMATS = {
    "plan accuracy": "{:.1%}", "plan bias": "{:+.1%}", "projected fill rate": "{:.1%}", "revenue at risk": "{:,.0f}",
    "margin at risk": "{:,.0f}", "gap to financial plan": "{:+,.0f}", "open actions": "{:,.0f}", "overdue actions": "{:,.0f}",
}
# for these a rise is bad news (the delta is shown red when it goes up)
UP_IS_BAD = {"revenue at risk", "margin at risk", "open actions", "overdue actions"}

log = logging.getLogger("soe.review")


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
    """(label, row index) for the decision-list selector."""
    labels = (
        "#" + items["rank"].astype(str) + "  " + items["kind"].astype(str) + "  "
        + np.where(items["sku"].astype(str) != "", items["sku"].astype(str) + " @ " + items["location"].astype(str), items["resource"].astype(str) + items["location"].astype(str))
        + "  " + items["week"].astype(str) + "  " + items["money_at_risk"].map("{:,.0f}".format)
    )
    return list(zip(labels.tolist(), items.index.tolist(), strict=True))


def _table(frame: pd.DataFrame, cls: str = "") -> widgets.HTML:
    body = frame.to_html(index=False, escape=True, border=0, classes="soe-table", float_format=lambda v: f"{v:,.2f}", na_rep="")
    out = widgets.HTML(body)
    if cls:
        out.add_class(cls)
    return out


def _guard(method):
    """Callbacks never raise into the page: log the traceback server side, show one short line."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception:
            log.exception("review app error in %s", method.__name__)
            self.status.value = "<span class='soe-error'>Something went wrong; the details are in the server log.</span>"
            return None

    return wrapper


class ReviewApp:
    def __init__(self, out: str | Path | None = None, week: str | None = None, actions_url: str | None = None):
        self.out = Path(out) if out else outputs_dir()
        self._log_to_file()
        self.weeks = available_weeks(self.out)
        self.status = widgets.HTML("")
        self.status.add_class("soe-status")
        if not self.weeks:
            self.widget = widgets.VBox([widgets.HTML(STYLE), widgets.HTML(f"<p class='soe-empty'>{EMPTY_MESSAGE}</p>")])
            return
        self.actions = ActionLog(actions_url or default_url(self.out))
        self.selector = widgets.Dropdown(options=self.weeks, value=week if week in self.weeks else self.weeks[0], description="Week")
        self.selector.add_class("soe-week")
        self.tiles = widgets.HTML()
        self.tiles.add_class("soe-tiles")
        self.open_box = widgets.VBox()
        self.open_box.add_class("soe-open-actions")
        self.week_box = widgets.VBox()
        self.week_box.add_class("soe-week-actions")
        self.filters = {
            name: widgets.Dropdown(options=[("all", "")], value="", description=name.capitalize())
            for name in ("family", "location", "cause", "severity")
        }
        for name, f in self.filters.items():
            f.add_class(f"soe-filter-{name}")
        self.item_list = widgets.Select(options=[], rows=12, description="Items", layout=widgets.Layout(width="95%"))
        self.item_list.add_class("soe-items")
        self.list_note = widgets.HTML()
        self.list_note.add_class("soe-list-note")
        self.detail = widgets.VBox()
        self.detail.add_class("soe-detail")
        self.whatif_controls = {
            "demand": widgets.IntSlider(value=0, min=-50, max=100, step=5, description="Demand change (%)", continuous_update=False),
            "order": widgets.Dropdown(options=[("none", "")], value="", description="Move order"),
            "move": widgets.IntSlider(value=0, min=-4, max=4, description="Move by (weeks)", continuous_update=False),
            "transfer_qty": widgets.BoundedFloatText(value=0, min=-1e9, max=1e9, description="Transfer qty (+ in, - out)"),
            "transfer_week": widgets.IntSlider(value=1, min=0, max=12, description="Transfer week", continuous_update=False),
        }
        for name, control in self.whatif_controls.items():
            control.style.description_width = "initial"
            control.add_class(f"soe-whatif-{name}")
        self.whatif_result = widgets.HTML()
        self.whatif_result.add_class("soe-whatif-result")
        self.whatif_chart = widgets.HTML()
        self.whatif_chart.add_class("soe-whatif-chart")
        self.form = {
            "choice": widgets.Dropdown(options=[("other (free text)", "")], value="", description="Countermeasure"),
            "action": widgets.Text(description="Action", placeholder="what will be done"),
            "owner": widgets.Text(description="Owner"),
            "due": widgets.Text(description="Due week", placeholder="2026-W50"),
            "note": widgets.Textarea(description="Note"),
            "by": widgets.Text(description="Your name"),
        }
        for name, control in self.form.items():
            control.add_class(f"soe-form-{name}")
        self.record_button = widgets.Button(description="Record decision", button_style="primary")
        self.minutes_button = widgets.Button(description="Export minutes")
        self.form_message = widgets.HTML()
        self.form_message.add_class("soe-form-message")

        self.selector.observe(self._on_week, names="value")
        for f in self.filters.values():
            f.observe(self._on_filter, names="value")
        self.item_list.observe(self._on_item, names="value")
        for control in self.whatif_controls.values():
            control.observe(self._on_whatif, names="value")
        self.form["choice"].observe(self._on_choice, names="value")
        self.record_button.on_click(self._on_record)
        self.minutes_button.on_click(self._on_minutes)

        self.widget = widgets.VBox(
            [
                widgets.HTML(STYLE), self.selector, self.tiles, self.status,
                widgets.HTML("<h3>Open actions from earlier weeks</h3>"), self.open_box,
                widgets.HTML("<h3>Decision list</h3>"), widgets.HBox(list(self.filters.values())), self.list_note, self.item_list,
                widgets.HTML("<h3>Drill-down</h3>"), self.detail,
                widgets.HTML("<h3>What-if</h3>"), widgets.HBox([self.whatif_controls["demand"], self.whatif_controls["order"], self.whatif_controls["move"]]),
                widgets.HBox([self.whatif_controls["transfer_qty"], self.whatif_controls["transfer_week"]]), self.whatif_result, self.whatif_chart,
                widgets.HTML("<h3>Record a decision</h3>"), widgets.VBox(list(self.form.values())),
                widgets.HBox([self.record_button, self.minutes_button]), self.form_message,
                widgets.HTML("<h3>Decided this week</h3>"), self.week_box,
            ]
        )
        self.current: ReviewWeek | None = None
        self.rows: dict | None = None
        self.item: pd.Series | None = None
        self._on_week()  # initial values after observe, so the first render is complete

    # --- plumbing -----------------------------------------------------------------------------------
    def _log_to_file(self) -> None:
        if not any(isinstance(h, logging.FileHandler) for h in log.handlers):
            try:
                self.out.mkdir(parents=True, exist_ok=True)
                handler = logging.FileHandler(self.out / "review.log")
                handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
                log.addHandler(handler)
            except OSError:
                pass

    def previous_week(self, week: str) -> str | None:
        older = [w for w in self.weeks if w < week]
        return older[0] if older else None

    def action_counts(self, week: str) -> dict[str, int]:
        open_ = self.actions.open_actions(week)
        return {"open actions": len(open_), "overdue actions": int(open_["overdue"].sum()) if len(open_) else 0}

    # --- callbacks ------------------------------------------------------------------------------------
    @_guard
    def _on_week(self, _change=None) -> None:
        week = self.selector.value
        self.current = ReviewWeek(self.out / week)
        self._refresh_counts()
        self._show_open_actions()
        items = self.current.items()
        self._quiet = True  # resetting the filters must not redraw the list four times
        try:
            for name, f in self.filters.items():
                values = sorted(v for v in items[name].dropna().unique() if v != "") if len(items) else []
                f.options = [("all", "")] + [(str(v), str(v)) for v in values]
                f.value = ""
        finally:
            self._quiet = False
        self._on_filter()
        self.status.value = ""

    def _show_open_actions(self) -> None:
        week = self.selector.value
        earlier = self.actions.open_actions(week)
        self.open_box.children = self._action_rows(earlier, "No open actions from earlier weeks.")
        this_week = self.actions.decided_in(week).assign(overdue=False)
        self.week_box.children = self._action_rows(this_week, "Nothing decided in this week's meeting yet.")

    def _action_rows(self, frame: pd.DataFrame, empty: str) -> list[widgets.Widget]:
        """One row per action: what, who, when (escaped), and its status update controls."""
        open_ = frame
        rows: list[widgets.Widget] = []
        if open_.empty:
            rows.append(widgets.HTML(f"<p class='soe-message'>{html.escape(empty)}</p>"))
        for r in open_.head(50).itertuples():
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
            button.on_click(functools.partial(self._on_update, r.id, r.version, status, note))
            row = widgets.VBox([label, widgets.HBox([status, note, button])])
            row.add_class("soe-open-action")
            rows.append(row)
        if len(open_) > 50:
            rows.append(widgets.HTML(f"<p class='soe-message'>and {len(open_) - 50} more (oldest due first).</p>"))
        return rows

    @_guard
    def _on_update(self, action_id: int, version: int, status: widgets.Dropdown, note: widgets.Text, _button) -> None:
        try:
            self.actions.update_status(action_id, version, status.value, note.value, self.form["by"].value, self.selector.value)
        except StaleUpdate as exc:
            self.status.value = f"<span class='soe-error'>{html.escape(str(exc))}</span>"
            return
        self.status.value = f"<span class='soe-message'>Action #{action_id} is now {html.escape(status.value)}.</span>"
        self._refresh_counts()
        self._show_open_actions()

    def _refresh_counts(self) -> None:
        """The KPI tiles of the selected week, with the change since the previous week."""
        week = self.selector.value
        prev = self.previous_week(week)
        previous = {**ReviewWeek(self.out / prev).headline(), **self.action_counts(prev)} if prev else None
        self.tiles.value = tile_html(kpi_tiles(self.current.headline(), previous, self.action_counts(week)))

    @_guard
    def _on_filter(self, _change=None) -> None:
        if getattr(self, "_quiet", False):
            return
        items = self.current.items()
        shown = filter_items(items, **{k: f.value for k, f in self.filters.items()}) if len(items) else items
        beyond = self.current.table("decision_list_beyond_budget")
        note = f"{len(shown)} of {len(items)} items shown."
        if len(beyond):
            note += f" Beyond the alert budget: {int(beyond['items'].sum())} more items ({beyond['money_at_risk'].sum():,.0f} at risk)."
        self.list_note.value = f"<p class='soe-message'>{html.escape(note)}</p>"
        self.item_list.unobserve(self._on_item, names="value")
        try:
            self.item_list.options = items_options(shown) if len(shown) else []
            # nothing is opened until someone picks an item: the first render stays fast (charts are
            # rendered by vl-convert, whose start-up alone costs about a second)
            self.item_list.value = None
        finally:
            self.item_list.observe(self._on_item, names="value")
        self._on_item()

    @_guard
    def _on_item(self, _change=None) -> None:
        idx = self.item_list.value
        if idx is None:
            self.item, self.rows = None, None
            self.whatif_result.value = "<p class='soe-message'>Select an item of the decision list to try a what-if.</p>"
            self.whatif_chart.value = ""
            self.detail.children = [widgets.HTML("<p class='soe-message'>Select an item of the decision list to see its drill-down.</p>")]
            return
        from . import charts

        self.item = self.current.items().loc[idx]
        item = self.item
        # widgets in a VBox and charts as inline SVG in HTML widgets: no Output widget, whose capture
        # through the kernel's display hook stalled Voila's first page render
        parts: list[widgets.Widget] = []

        def show(part) -> None:
            parts.append(part if isinstance(part, widgets.Widget) else widgets.HTML(charts.svg_html(part)))

        show(widgets.HTML(f"<p><b>{html.escape(str(item['kind']))}</b> {html.escape(str(item['sku']))} @ {html.escape(str(item['location']))}"
                          f"{html.escape(str(item['resource']))} from {html.escape(str(item['week']))}: {html.escape(str(item['detail']))}</p>"))
        if item["sku"]:
            self.rows = self.current.series_rows(item["sku"], item["location"])
            show(charts.drilldown_demand_chart(self.rows))
            show(charts.drilldown_projection_chart(self.rows))
            orders = self.rows["orders"]
            if len(orders):
                show(widgets.HTML("<h4>Inbound orders</h4>"))
                show(_table(orders[["order_id", "supplier", "kind", "week", "eta_week", "delay_weeks", "qty", "constrained_qty", "creates_shortage"]], "soe-orders"))
            if len(self.rows["capacity"]):
                show(widgets.HTML("<h4>Capacity of its resources</h4>"))
                show(_table(self.rows["capacity"][["resource", "week", "load_hours", "available_hours", "load_pct", "overloaded"]]))
            opts = self.rows["options"]
            if len(opts):
                show(widgets.HTML("<h4>Countermeasure options</h4>"))
                show(_table(opts[["first_week", "action", "feasible", "qty", "cost", "margin_recovered", "net_benefit", "effective_week", "detail", "reason"]], "soe-options"))
        else:
            self.rows = None
            cap = self.current.table("capacity_load")
            if item["resource"] and len(cap):
                show(_table(cap[cap["resource"] == item["resource"]]))
        self.detail.children = parts
        self._prepare_whatif_and_form()

    def _prepare_whatif_and_form(self) -> None:
        rows = self.rows
        orders = rows["orders"]["order_id"].dropna().astype(str).tolist() if rows is not None and len(rows["orders"]) else []
        self.whatif_controls["order"].options = [("none", "")] + [(o, o) for o in orders]
        for name, value in (("demand", 0), ("order", ""), ("move", 0), ("transfer_qty", 0.0)):
            self.whatif_controls[name].value = value
        opts = rows["options"] if rows is not None else pd.DataFrame()
        feasible = opts[opts["feasible"]] if len(opts) else opts
        choices = [("other (free text)", "")] + [
            (f"{r.action}: {r.detail} (net {r.net_benefit:,.0f})", f"{r.action}: {r.detail}") for r in feasible.itertuples()
        ]
        if self.item is not None and not len(feasible):
            choices.append((str(self.item["best_action"]), str(self.item["best_action"])))
        self.form["choice"].options = choices
        self.form["choice"].value = choices[1][1] if len(choices) > 1 else ""
        self._on_whatif()

    @_guard
    def _on_whatif(self, _change=None) -> None:
        self.whatif_chart.value = ""
        if self.rows is None or self.rows["projection"].empty:
            self.whatif_result.value = "<p class='soe-message'>Select a supply item to try a what-if.</p>"
            return
        c = self.whatif_controls
        base = what_if(self.rows)
        result = what_if(self.rows, c["demand"].value, c["order"].value or None, c["move"].value, c["transfer_qty"].value, c["transfer_week"].value)
        self.whatif_result.value = (
            f"<p class='soe-message'>Shortage <b class='soe-whatif-shortage'>{result.shortage_qty:,.1f}</b> units "
            f"(now {base.shortage_qty:,.1f}); margin at risk <b>{result.margin_at_risk:,.0f}</b> (now {base.margin_at_risk:,.0f}); "
            f"revenue at risk {result.revenue_at_risk:,.0f}.</p>"
        )
        from . import charts

        changed = c["demand"].value or (c["order"].value and c["move"].value) or c["transfer_qty"].value
        # the chart with the what-if line only once something was changed: until then it is the one above
        self.whatif_chart.value = charts.svg_html(charts.drilldown_projection_chart(self.rows, result)) if changed else ""

    def _on_choice(self, change) -> None:
        if change["new"]:
            self.form["action"].value = change["new"]

    @_guard
    def _on_record(self, _button) -> None:
        f = self.form
        item = self.item
        try:
            new_id = self.actions.record(
                week=self.selector.value, action=f["action"].value, owner=f["owner"].value, due_week=f["due"].value,
                note=f["note"].value, by=f["by"].value,
                item_kind=str(item["kind"]) if item is not None else "", sku=str(item["sku"]) if item is not None else "",
                location=str(item["location"]) if item is not None else "", resource=str(item["resource"]) if item is not None else "",
            )
        except ValueError as exc:
            self.form_message.value = f"<span class='soe-error'>{html.escape(str(exc))}</span>"
            return
        self.form_message.value = f"<span class='soe-message'>Decision #{new_id} recorded: {html.escape(f['action'].value)} (owner {html.escape(f['owner'].value)}, due {html.escape(f['due'].value)}).</span>"
        self._refresh_counts()
        self._show_open_actions()

    @_guard
    def _on_minutes(self, _button) -> None:
        md, csv = self.actions.export_minutes(self.selector.value, self.out / self.selector.value)
        self.form_message.value = f"<span class='soe-message'>Minutes written: {html.escape(str(md))} and {html.escape(csv.name)}.</span>"


def review_app(out: str | Path | None = None, week: str | None = None) -> widgets.Widget:
    """The meeting app's widget (see :class:`ReviewApp`)."""
    return ReviewApp(out, week).widget
