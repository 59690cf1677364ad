"""The weekly review meeting app (served by Voila from ``notebooks/06_weekly_review.ipynb``).

Layout, top to bottom, all on the first render. **The first screen** (1280x720, no scrolling): the
meeting week; one headline sentence (margin at risk over the horizon and its change, decisions to take
and what the top ones are worth, overdue actions); KPI tiles (currency, the weeks they cover, the
definition as tooltip, trend, change since the last meeting); the top decisions (item, what to do, why
it ranks here, money, owner). Below: the decision list as a sortable table with filters; for the
selected row its drill-down, what-if scenarios and the form to record a decision; the minutes export;
what was decided this week; where the money is (by cause and by week); and the history in sections
that open on demand (since the last meeting, did it work, open actions from earlier weeks). Each part
is a panel of :mod:`.panels`; this class only wires them.

**Fast and fresh.** Building the page (reading the week's tables, drawing the charts) is done by
``ReviewApp(..., defer=True)`` before anyone asks: Voila runs it in a preheated kernel. What can
change while the page waits (the decision log: open actions, owners, what was decided; a newer week)
is read by :meth:`ReviewApp.connect` when a page is requested (:func:`wait_for_page`), so a page never
shows a stale decision.

It reads only what the weekly run wrote (:mod:`.review_data`) and the decision store (:mod:`soe_lib.io.decision_store`; what a decision keeps: :mod:`.decisions`).
Errors are logged server side (stderr and ``outputs/review.log``) and shown as one short line.
"""

from __future__ import annotations

import functools
import html
import logging
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from ..core.paths import outputs_dir
from ..io.decision_store import ActionLog, ActionLogError, default_url, minutes_dir
from .decisions import export_minutes
from .panels import (
    ActionsPanel,
    DecisionListPanel,
    DrilldownPanel,
    KpiPanel,
    LogisticsPanel,
    LoopPanel,
    OverviewPanel,
    RecordPanel,
    ServicePanel,
    WhatIfPanel,
    message,
)
from .review_data import ReviewWeek, action_counts, available_weeks, kpi_history, previous_figures

__all__ = ["EMPTY_MESSAGE", "ReviewApp", "wait_for_page"]

EMPTY_MESSAGE = (
    "No successful weekly run yet. Make one with <code>make run</code> (or <code>soe run</code>), "
    "then reload this page."
)
STYLE = """<style>
.soe-tiles .widget-html-content{display:flex;flex-wrap:wrap;gap:.45em;margin:.1em 0 .4em 0}
.soe-headline .widget-html-content,.soe-tiles .widget-html-content,.soe-top .widget-html-content{line-height:1.3}
.soe-tile div{line-height:1.25}.soe-top-table td,.soe-top-table th{padding:.25em .5em;line-height:1.3}
.soe-tile{flex:1 1 8.5em;max-width:12em;padding:.3em .6em;border:1px solid #d8dde3;border-radius:6px;background:#fafbfc}
.soe-tile-label{font-size:.8em;color:#333;font-weight:600}.soe-tile-covers{font-size:.7em;color:#666}.soe-tile-value{font-size:1.25em;font-weight:600}
.soe-spark{display:block}.soe-headline-text{font-size:1.05em;margin:.2em 0 .3em 0;line-height:1.35}
.soe-top-table{width:100%;table-layout:fixed}.soe-top-table caption{text-align:left;font-weight:600;font-size:1.05em;padding:.2em 0}
.soe-top-table td.soe-cut{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.soe-num{text-align:right !important}
.soe-top-table th:nth-child(1){width:2em}.soe-top-table th:nth-child(2){width:24%}.soe-top-table th:nth-child(3){width:25%}
.soe-top-table th:nth-child(4){width:30%}.soe-top-table th:nth-child(5){width:9em}.soe-top-table td:last-child{white-space:nowrap}
.soe-bar{display:flex;align-items:center;gap:1.2em}.soe-bar h2{margin:0;font-size:1.3em}
.jp-RenderedMarkdown h1{font-size:1.3em;margin:.1em 0}
details.soe-section>summary{font-weight:600;cursor:pointer;padding:.3em 0}
.soe-delta{font-size:.8em;color:#555}.soe-bad{color:#b30000}.soe-good{color:#1a7f37}
.soe-table{border-collapse:collapse;font-size:.88em}.soe-table td,.soe-table th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left}
.soe-message{font-size:.9em;color:#444}.soe-error{color:#b30000}
</style>"""

log = logging.getLogger("soe.review")


def _guard(method):
    """Callbacks never raise into the page: log the traceback server side, show one short line
    (the decision log's own sentence when it is the database that failed)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ActionLogError as exc:
            log.warning("decision log: %s", exc)
            self.status.value = message(f"{exc}. Nothing was saved; the rest of the page works.", error=True)
        except Exception:
            log.exception("review app error in %s", method.__name__)
            self.status.value = message("Something went wrong; the details are in the server log.", error=True)
        return None

    return wrapper


def wait_for_page() -> None:
    """In a kernel Voila preheated, wait until a page asks for it (then the decision log is read
    fresh); anywhere else (JupyterLab, tests, a Voila without preheating) return at once."""
    try:
        from voila.utils import wait_for_request
    except ImportError:  # the app without Voila (JupyterLab): nothing to wait for
        return
    wait_for_request()


class ReviewApp:
    def __init__(self, out: str | Path | None = None, week: str | None = None, actions_url: str | None = None, defer: bool = False):
        self.out = Path(out) if out else outputs_dir()
        self._log_to_file()
        self.weeks = available_weeks(self.out)
        self.actions_url = actions_url
        self.asked_week = week
        self.status = widgets.HTML("")
        self.status.add_class("soe-status")
        if not self.weeks:
            self.widget = widgets.VBox([widgets.HTML(STYLE), widgets.HTML(f"<p class='soe-empty'>{EMPTY_MESSAGE}</p>")])
            return
        self.problems = _Problems()
        self.actions: ActionLog | None = None
        self.confirmed: tuple[str, str] | None = None  # (item, choice) whose negative net benefit was shown once
        self.selector = widgets.Dropdown(options=self.weeks, value=week if week in self.weeks else self.weeks[0], description="Meeting week")
        self.selector.style.description_width = "initial"
        self.selector.add_class("soe-week")
        self.kpis = KpiPanel()
        self.overview = OverviewPanel()
        self.record = RecordPanel()
        self.open_actions = ActionsPanel(None, self._on_actions_changed, lambda: self.record.form["by"].value)
        self.loop = LoopPanel()
        self.logistics = LogisticsPanel()
        self.service = ServicePanel()
        self.decisions = DecisionListPanel(self._on_item)
        self.drilldown = DrilldownPanel()
        self.whatif = WhatIfPanel()
        self.current: ReviewWeek | None = None
        self.rows: dict | None = None
        self.item: pd.Series | None = None

        self.selector.observe(self._on_week, names="value")
        self.whatif.observe_controls(self._on_whatif)
        self.record.record_button.on_click(self._on_record)
        self.record.minutes_button.on_click(self._on_minutes)
        # the first screen (1280x720): the week, one sentence, the tiles, the top decisions; then the list to work
        # through with its drill-down, where the money is, and the history in sections that open on demand
        self.widget = widgets.VBox(
            [
                widgets.HTML(STYLE), self.selector, self.problems.banner, self.kpis, self.status,
                self.decisions, self.drilldown, self.whatif, self.record, widgets.HTML("<h3>Decided this week</h3>"), self.open_actions.week_box,
                widgets.HTML("<h3>Where the money is</h3>"), self.overview, self.service, self.logistics, self.loop, self.open_actions,
            ]
        )
        self._load_week()  # the tables and charts: the part a preheated kernel does before anyone asks
        if defer:
            self.current.warm()  # and the drill-down's tables, so the first selection is as fast as the next
        else:
            self.connect()

    def connect(self) -> widgets.Widget:
        """What may have changed while the page was prepared: a newer week, and the decision log (open
        actions, owners, what was decided). Returns the page's widget."""
        if not self.weeks:
            return self.widget
        weeks = available_weeks(self.out)
        if weeks != self.weeks:  # a weekly run published since the page was prepared: show the newest
            self.weeks = weeks
            self.selector.unobserve(self._on_week, names="value")
            self.selector.options = weeks
            self.selector.value = self.asked_week if self.asked_week in weeks else weeks[0]
            self.selector.observe(self._on_week, names="value")
            self._load_week()
        try:
            self.actions = ActionLog(self.actions_url or default_url(self.out))
            self.problems.database = ""
        except ActionLogError as exc:  # the meeting can still review the week; it cannot record decisions
            log.warning("decision log unavailable: %s", exc)
            self.actions = None
            self.problems.database = str(exc)
        self.open_actions.action_log = self.actions
        self.record.record_button.disabled = self.actions is None
        self.whatif.set_context(self.current, self.actions, lambda: self.record.form["by"].value)
        self._refresh()
        self._show_list()
        return self.widget

    # the widgets tests and callers reach most often
    @property
    def tiles(self) -> widgets.HTML:
        return self.kpis.tiles

    def select_item(self, position: int | None) -> None:
        """Select a row of the shown decision list (as a click in the table does)."""
        self.decisions.select(position)

    @property
    def form(self) -> dict[str, widgets.Widget]:
        return self.record.form

    @property
    def record_button(self) -> widgets.Button:
        return self.record.record_button

    @property
    def week_box(self) -> widgets.VBox:
        return self.open_actions.week_box

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


    def _refresh(self) -> None:
        """Tiles and action lists of the selected week (the decision log read now)."""
        week = self.selector.value
        previous = previous_figures(self.out, self.weeks, week, self.actions)
        self.kpis.show(self.current, previous, action_counts(self.actions, week), self.history, self.actions.frame() if self.actions is not None else None)
        self.open_actions.show(week)
        self.problems.show(self.current)

    def _load_week(self) -> None:
        """The selected week's tables, charts and closed loop (nothing from the decision log)."""
        self.current = ReviewWeek(self.out / self.selector.value)
        self.history = kpi_history(self.out, self.weeks, self.selector.value)
        self.kpis.show(self.current, None, {}, self.history)
        self.overview.show(self.current)
        self.service.show(self.current)
        self.logistics.show(self.current)
        self.loop.show(self.current)

    def _show_list(self) -> None:
        actions = self.actions.frame() if self.actions is not None else None
        self.decisions.show(self.current.items(), self.current.table("decision_list_beyond_budget"), self.current.inputs("products"), actions)

    # --- callbacks ------------------------------------------------------------------------------------
    @_guard
    def _on_week(self, _change=None) -> None:
        self._load_week()
        self._refresh()
        self._show_list()
        self.whatif.set_context(self.current, self.actions, lambda: self.record.form["by"].value)
        self.status.value = ""

    @_guard
    def _on_actions_changed(self, text: str) -> None:
        self.status.value = text
        self._refresh()

    @_guard
    def _on_item(self, item: pd.Series | None) -> None:
        self.item = item
        self.rows = self.current.series_rows(item["sku"], item["location"]) if item is not None and item["sku"] else None
        self.drilldown.show(item, self.rows, self.current)
        self.whatif.set_rows(self.rows)
        self.record.offer(item, self.rows, self.selector.value)
        self._on_whatif()

    @_guard
    def _on_whatif(self, _change=None) -> None:
        self.whatif.recompute()

    @_guard
    def _on_record(self, _button) -> None:
        if self.actions is None:
            self.record.message.value = message(f"Decisions cannot be recorded now: {self.problems.database}.", error=True)
            return
        f, item = self.record.form, self.item
        if item is None:
            self.record.message.value = message("Select an item of the decision list first (click its row), then record the decision for it.", error=True)
            return
        net = self.record.states.get(f["choice"].value, {}).get("expected_benefit")
        asked = (str(item.get("item_id", "")), f["choice"].value)
        if net is not None and net < 0 and self.confirmed != asked:  # a move that costs more than it recovers: said once first
            self.confirmed = asked
            self.record.message.value = message(f"This move costs more than it recovers (net benefit {net:,.0f}). Click Record decision "
                                                "again to record it anyway, or choose the plan's move.", error=True)
            return
        self.confirmed = None
        where = {k: str(item[c]) for k, c in (("item_kind", "kind"), ("sku", "sku"), ("location", "location"), ("resource", "resource"))}
        try:
            new_id = self.actions.record(
                week=self.selector.value, action=f["action"].value, owner=f["owner"].value, due_week=f["due"].value,
                note=f["note"].value, by=f["by"].value, item=self.record.state(item), **where,
            )
        except ValueError as exc:
            self.record.message.value = message(str(exc), error=True)
            return
        self.record.message.value = message(f"Decision #{new_id} recorded: {f['action'].value} (owner {f['owner'].value}, due {f['due'].value}).")
        self._refresh()

    @_guard
    def _on_minutes(self, _button) -> None:
        md, csv = export_minutes(self.actions, self.selector.value, minutes_dir(self.out, self.selector.value))
        self.record.message.value = message(f"Minutes written: {md} and {csv.name}.")


class _Problems:
    """What cannot be read this time, said on the page with what still works (no path, no traceback)."""

    def __init__(self) -> None:
        self.database = ""
        self.banner = widgets.HTML("")
        self.banner.add_class("soe-problems")

    def show(self, week: ReviewWeek) -> None:
        lines = []
        if self.database:
            lines.append(f"{self.database}. Decisions cannot be recorded or updated now; everything else on this page works.")
        if week.damaged:
            names = ", ".join(sorted(week.damaged))
            lines.append(
                f"Some results of {week.week} cannot be read ({names}: damaged files). What needs them is shown empty; "
                f"everything else works. Re-run the week to rebuild them: soe run --week {week.week}."
            )
        self.banner.value = "".join(f"<p class='soe-error' role='alert'>{html.escape(line)}</p>" for line in lines)
