"""The output contract: every result table a weekly run writes, with its columns, types, key and meaning.

The counterpart of the input contract (:mod:`soe_lib.core.contract`) and, like it, the single source:
saving a table checks it here (:func:`check_table`: a missing or extra column, or a column of the
wrong type, is a bug and raises :class:`OutputContractError`), and ``docs/outputs.md`` is generated
from it (:func:`outputs_markdown`, kept equal by a test).

Column kinds as stored in ``outputs/<week>/tables/<name>.parquet``:

- ``text``: a string (codes keep their zeros); ``int``: a whole number; ``number``: a real number
  (blank = not defined, e.g. a WAPE without actuals); ``bool``: true/false;
- ``week``: an ISO week label such as ``2026-W48`` (a week column is a ``Timestamp`` of the ISO
  Monday inside the library and becomes its label when written).

Every table has a ``key``: the columns that identify a row. Tables meet through their keys, never
through row order (``gap_id`` joins gaps, their money and their countermeasures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

__all__ = ["DOCUMENTS", "OUTPUTS", "OutCol", "OutputContractError", "OutputTable", "check_table", "outputs_markdown", "tables_of_step"]

Kind = Literal["text", "int", "number", "bool", "week"]


class OutputContractError(ValueError):
    """A result table does not match its declaration: a bug in the step that made it."""


@dataclass(frozen=True)
class OutCol:
    name: str
    kind: Kind
    doc: str


@dataclass(frozen=True)
class OutputTable:
    name: str
    step: str  # the step that writes it: health, sensing, supply, logistics, finance, loop (scenario: soe scenario run)
    doc: str
    key: tuple[str, ...]
    columns: tuple[OutCol, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _t(name: str, doc: str) -> OutCol:
    return OutCol(name, "text", doc)


def _i(name: str, doc: str) -> OutCol:
    return OutCol(name, "int", doc)


def _n(name: str, doc: str) -> OutCol:
    return OutCol(name, "number", doc)


def _b(name: str, doc: str) -> OutCol:
    return OutCol(name, "bool", doc)


def _w(name: str, doc: str) -> OutCol:
    return OutCol(name, "week", doc)


SKU = _t("sku", "item code")
LOC = _t("location", "location code")
WEEK = _w("week", "ISO week")
ACCURACY_GROUP = (
    _t("group", "the family, the location, or `total`"),
    _i("series", "SKU-locations in the group"),
    _n("actual_qty", "sum A over the lookback weeks"),
    _n("plan_qty", "sum F over the lookback weeks"),
    _n("wape", "sum|A-F| / sum A, summed over the group's series (errors do not cancel)"),
    _n("accuracy", "max(0, 1 - WAPE)"),
    _n("bias", "sum(F-A) / sum A; positive = over-forecast"),
    _n("tracking_signal", "sum(A-F) / MAD of the group's summed weekly series"),
    _n("mase", "sum|A-F| / sum(weeks x naive scale)"),
    _n("fva", "naive WAPE - plan WAPE; positive = the plan adds value"),
)
DELAY_SUMMARY = (
    _i("lines", "open inbound lines"),
    _n("qty", "units on those lines"),
    _i("late_lines", "lines with delay_weeks > 0"),
    _n("avg_delay_weeks", "mean delay in weeks (early lines count negative)"),
    _i("max_delay_weeks", "worst delay in weeks"),
    _n("late_qty", "units on late lines"),
    _n("on_time_share", "1 - late_lines / lines"),
)

_TABLES = (
    # --- 01 data health --------------------------------------------------------------------------
    OutputTable("data_health", "health", "one row per input table: what was loaded", ("table",), (
        _t("table", "input table name"),
        _t("file", "the file (or workbook sheet) it came from; `(not supplied)` for an optional table"),
        _i("rows", "rows after typing (transaction rows of one week summed)"),
        _t("first_week", "earliest ISO week in the table, blank when it has no week"),
        _t("last_week", "latest ISO week in the table"),
        _i("weeks", "distinct weeks"),
        _i("skus", "distinct SKUs"),
        _i("locations", "distinct locations"),
    )),
    OutputTable("validation_issues", "health", "warnings and notes of validation (errors stop the run before any notebook)", (), (
        _t("severity", "error, warning or info"),
        _t("table", "input table"),
        _t("file", "file (or workbook sheet)"),
        _t("column", "column, blank when the finding is about the table"),
        _t("rule", "the rule of the data contract"),
        _t("message", "what is wrong, in words"),
        _i("count", "rows (or SKU-locations) concerned"),
        _t("rows", "the first 20 spreadsheet rows concerned (header = row 1)"),
        _t("examples", "a few offending values"),
    )),
    OutputTable("coverage", "health", "per SKU-location: which inputs cover it", ("sku", "location"), (
        SKU, LOC,
        _w("first_actual_week", "first week with actuals"),
        _i("plan_weeks_in_horizon", "weeks of the horizon the demand plan covers"),
        _i("history_weeks", "run week - first actual week, in weeks (blank without actuals)"),
        _b("has_actuals", "any actuals"),
        _b("has_plan", "any demand plan"),
        _b("has_inventory", "an inventory row"),
        _b("has_supply", "any open supply line"),
        _b("has_open_orders", "any booked customer order"),
    )),
    # --- 02 demand sensing -----------------------------------------------------------------------
    OutputTable("sensed_demand", "sensing", "the sensed forecast per SKU-location and horizon week", ("sku", "location", "week"), (
        SKU, LOC, WEEK,
        _i("horizon", "1 = the run week"),
        _n("plan_qty", "S&OP demand plan (blank where the plan has no row)"),
        _n("open_orders_qty", "customer orders already booked"),
        _n("statistical_qty", "statistical forecast (blank for insufficient history)"),
        _n("forecast_qty", "the forecast the backtest chose for the series (see forecast_accuracy.forecast), before the open-orders floor"),
        _n("sensed_qty", "forecast_qty, floored by booked open orders in the first weeks"),
        _n("p10_qty", "10 % of the weeks should fall below this (from the chosen forecast's errors, growing with the horizon)"),
        _n("p50_qty", "median"),
        _n("p90_qty", "90 % of the weeks should fall below this"),
        _n("w_stat", "the actuals' share of the chosen forecast: 1 - the S&OP plan's share (plan 0, the plan-statistical mean 0.5, others 1)"),
    )),
    OutputTable("forecast_accuracy", "sensing", "plan accuracy per SKU-location over the lookback weeks, with sensing's backtest",
                ("sku", "location"), (
        SKU, LOC,
        _t("family", "product family"),
        _t("pattern", "smooth, seasonal, intermittent, lumpy, zero or insufficient"),
        _t("model", "statistical model used"),
        _t("forecast", "the forecast the backtest chose: statistical, plan, blend, naive, ma4, ma8, ma13, seasonal_naive, seasonal_level or combination"),
        _n("wape", "sum|A-F| / sum A of the plan"),
        _n("accuracy", "max(0, 1 - WAPE)"),
        _n("bias", "sum(F-A) / sum A; positive = over-forecast"),
        _n("tracking_signal", "sum(A-F) / MAD"),
        _b("tracking_out_of_control", "|tracking signal| > tracking_limit"),
        _n("mase", "MAE / MAE of the (seasonal) naive forecast in-sample"),
        _n("fva", "naive WAPE - plan WAPE"),
        _n("naive_wape", "WAPE of last week's actual as the forecast"),
        _n("sensing_wape", "WAPE of sensing in its backtest"),
        _n("statistical_wape", "WAPE of the statistical forecast in the backtest"),
        _n("actual_qty", "sum A"),
        _n("plan_qty", "sum F"),
        _n("abs_error_qty", "sum|A-F|"),
        _n("error_value", "abs_error_qty x unit_price"),
        _i("history_weeks", "weeks of actuals seen"),
        _n("w_stat", "the actuals' share of the chosen forecast (1 - the plan's share)"),
        _i("outlier_weeks", "one-off weeks cleaned before fitting"),
        _i("censored_weeks", "weeks out of stock (the stockouts input) left out of fitting and accuracy"),
        _n("unit_price", "selling price per unit"),
    )),
    OutputTable("forecast_accuracy_by_total", "sensing", "plan accuracy of all series together", ("group",), ACCURACY_GROUP),
    OutputTable("forecast_accuracy_by_family", "sensing", "plan accuracy by product family", ("group",), ACCURACY_GROUP),
    OutputTable("forecast_accuracy_by_location", "sensing", "plan accuracy by location", ("group",), ACCURACY_GROUP),
    OutputTable("sensing_backtest", "sensing", "WAPE of each method on the same backtest weeks, overall and by pattern",
                ("method", "segment"), (
        _t("method", "sensing, statistical, plan or naive"),
        _t("segment", "`all series` or `pattern: <pattern>`"),
        _i("series", "SKU-locations in the segment"),
        _n("actual_qty", "sum A over the scored weeks"),
        _n("abs_error_qty", "sum|A-F| of the method"),
        _n("wape", "abs_error_qty / actual_qty (blank without actuals)"),
        _n("below_p10", "sensing only: share of the scored actuals below P10 (calibrated: about 10 %)"),
        _n("below_p90", "sensing only: share of the scored actuals at or below P90 (calibrated: about 90 %)"),
    )),
    OutputTable("demand_exceptions", "sensing", "what a demand planner should look at this week", ("sku", "location", "kind", "week"), (
        SKU, LOC,
        _w("week", "the week the finding starts (run week for plan-level findings)"),
        _t("kind", "spike, drop, outlier, persistent_bias, tracking_signal, sensed_vs_plan or insufficient_history"),
        _t("severity", "high, medium or low: how far past its threshold"),
        _t("direction", "up/down, over-/under-forecast"),
        _n("actual_qty", "what happened (or what is sensed, for sensed_vs_plan)"),
        _n("expected_qty", "what the model or the plan expected"),
        _n("deviation_qty", "actual - expected"),
        _n("deviation_pct", "deviation / expected"),
        _n("z_score", "deviation in robust standard errors"),
        _n("bias", "plan bias over the lookback (bias findings)"),
        _n("tracking_signal", "tracking signal over the lookback (bias findings)"),
        _n("value", "|deviation| x unit price"),
        _t("detail", "the rule that fired, in words"),
    )),
    # --- 03 supply gaps --------------------------------------------------------------------------
    OutputTable("inventory_projection", "supply", "projected inventory per SKU-location and horizon week, four ways (plan, current ETAs, capacity-constrained, predicted ETAs)",
                ("sku", "location", "week"), (
        SKU, LOC, WEEK,
        _n("demand_qty", "sensed demand"),
        _n("receipts_qty", "receipts at their current ETA"),
        _n("projected_on_hand", "on hand + sum receipts - sum demand up to this week (< 0 = backlog)"),
        _n("shortage_qty", "max(0, -projected_on_hand)"),
        _n("weeks_of_supply", "max(projected, 0) / mean demand of the next cover_weeks (99 when no demand)"),
        _n("constrained_receipts_qty", "receipts with production scaled to capacity"),
        _n("constrained_projected_on_hand", "the projection with constrained receipts (gaps are found on it)"),
        _n("constrained_shortage_qty", "max(0, -constrained_projected_on_hand)"),
        _n("shortage_probability", "chance the week ends short: Phi(-constrained projected / sd of the cumulative demand), sd from sensing's P10-P90"),
        _n("demand_sd", "standard deviation of the week's demand: (P90 - P10) / 2.563 (the projection kernel values a series over demand scenarios when it exceeds the mean)"),
        _n("plan_demand_qty", "S&OP demand plan"),
        _n("plan_receipts_qty", "receipts at their planned week"),
        _n("plan_projected_on_hand", "the projection as planned"),
        _n("plan_shortage_qty", "max(0, -plan_projected_on_hand)"),
        _n("predicted_receipts_qty", "constrained receipts with every line on a lane in its predicted week (eta_forecast's eta_p50_week)"),
        _n("predicted_projected_on_hand", "the projection with predicted receipts"),
        _n("predicted_shortage_qty", "max(0, -predicted_projected_on_hand)"),
        _n("safety_stock", "safety stock"),
        _b("below_safety_stock", "0 <= constrained projection < safety stock"),
    )),
    OutputTable("supply_gaps", "supply", "runs of weeks short (or below safety stock), with their root cause", ("gap_id",), (
        _i("gap_id", "the gap's id in this week's run (financial_impact and countermeasures refer to it)"),
        SKU, LOC,
        _t("kind", "shortage or below_safety_stock"),
        _w("first_week", "first week of the run"),
        _w("last_week", "last week of the run"),
        _w("peak_week", "week with the lowest projection"),
        _i("weeks_short", "weeks in the run"),
        _b("open_at_horizon_end", "the run reaches the last horizon week"),
        _n("peak_shortage_qty", "units below zero (or below safety stock) at the peak"),
        _n("shortage_qty", "demand not served on time over the run (shortages)"),
        _n("plan_projected_at_peak", "the as-planned projection at the peak week"),
        _n("plan_short_qty", "the plan itself was already short at the peak (>= 0)"),
        _n("plan_cushion_qty", "spare the plan had at the peak, which absorbed part of the other causes (<= 0)"),
        _n("demand_above_plan_qty", "sensed demand above plan up to the peak"),
        _n("supply_late_qty", "receipts planned by the peak that now arrive later (or smaller)"),
        _n("capacity_shortfall_qty", "production capacity cannot make by the peak"),
        _t("cause", "the largest cause at the peak (the five parts above sum to peak_shortage_qty)"),
        _t("causes", "every cause that deepens the gap in any of its weeks (>= 10 % of that week's shortage)"),
        _t("late_orders", "orders planned by a week of the gap and now due after it, largest first (up to 5)"),
        _i("late_order_count", "number of such orders"),
        _t("bottleneck_resources", "resources holding back production due by a week of the gap"),
        _n("shortage_probability", "the largest chance over the gap's weeks that the week ends short (see inventory_projection)"),
    )),
    OutputTable("gap_causes", "supply", "every week of every gap, its shortage split into causes (the parts sum to the week's shortage)",
                ("gap_id", "week", "cause"), (
        _i("gap_id", "the gap in supply_gaps"),
        SKU, LOC, WEEK,
        _t("cause", "plan already short, plan cushion (negative), demand above plan, supply late or capacity shortfall"),
        _n("qty", "units of the week's shortage from this cause (signed)"),
        _n("week_shortage_qty", "units below zero (or below safety stock) that week: the sum of the parts"),
    )),
    OutputTable("inbound_delays", "supply", "every open supply line with its delay and what capacity allows", ("line_id",), (
        _i("line_id", "the line's position in the supply input (spreadsheet row = line_id + 2)"),
        _t("order_id", "order reference"),
        SKU, LOC,
        _w("week", "planned receipt week"),
        _w("eta_week", "current expected week"),
        _n("qty", "units"),
        _t("supplier", "supplier"),
        _t("kind", "production, purchase or transfer"),
        _t("mode", "how it travels (blank: not given)"),
        _t("origin", "port or site of departure"),
        _t("destination", "port or location of arrival"),
        _t("carrier", "carrier"),
        _w("ship_week", "week it leaves (blank: not given)"),
        _t("status", "planned, shipped, at_port or delivered (blank: planned)"),
        _i("delay_weeks", "eta_week - week, in weeks"),
        _b("late", "delay_weeks > 0"),
        _b("firm", "a confirmed order (the supply's firm column; blank = yes); a planned one can be raised beyond the frozen fence"),
        _n("constrained_qty", "what arrives within the horizon once capacity is respected (= qty for other kinds)"),
        _n("carried_qty", "of which capacity carries into weeks after its ETA"),
        _n("at_risk_qty", "qty - constrained_qty: not finished within the horizon"),
        _t("bottleneck", "the resource that holds it back"),
        _b("creates_shortage", "late, planned by a shortage's peak and now due after it"),
    )),
    OutputTable("inbound_delays_by_supplier", "supply", "on-time performance of open lines by supplier", ("supplier",),
                (_t("supplier", "supplier, `(none)` when blank"), *DELAY_SUMMARY)),
    OutputTable("inbound_delays_by_kind", "supply", "on-time performance of open lines by kind", ("kind",),
                (_t("kind", "production, purchase or transfer"), *DELAY_SUMMARY)),
    OutputTable("capacity_load", "supply", "production load per resource and horizon week, with what is carried over", ("resource", "week"), (
        _t("resource", "production resource"), WEEK,
        _n("load_hours", "sum of production qty x hours per unit due that week"),
        _n("available_hours", "capacity (blank: no row, unlimited)"),
        _n("load_pct", "load_hours / available_hours"),
        _b("overloaded", "carried in + load above available hours"),
        _n("carried_in_hours", "hours earlier weeks could not finish"),
        _n("completed_hours", "min(available, carried in + load), oldest first"),
        _n("carried_out_hours", "carried in + load - completed: into the next week"),
        _n("slack_hours", "available - completed: room to build ahead"),
        _i("lines", "production lines due that week"),
    )),
    OutputTable("storage_load", "supply", "units held per location and week against storage capacity", ("location", "week"), (
        LOC, WEEK,
        _n("units_held", "stock brought in + receipts (the storage peak of the week)"),
        _n("units_end_of_week", "projected stock at the end of the week"),
        _n("storage_capacity", "units (blank = unlimited)"),
        _n("utilization", "units_held / storage_capacity"),
        _n("overflow_qty", "units above capacity"),
        _b("overflow", "overflow_qty > 0"),
    )),
    OutputTable("slip_risk", "supply", "shortages that appear (or deepen) when inbound lines come when their lanes' record says",
                ("sku", "location", "first_week"), (
        SKU, LOC,
        _t("status", "at risk of slipping (not short with stated ETAs in any week of the run) or deeper with predicted ETAs"),
        _w("first_week", "first week short on the predicted projection"),
        _w("last_week", "last week of the run"),
        _w("peak_week", "the week the predicted shortfall exceeds the stated one most"),
        _i("weeks_short", "weeks in the run"),
        _n("peak_shortage_qty", "units short at the peak on the predicted projection"),
        _n("extra_shortage_qty", "of them, units beyond the capacity-constrained projection's shortfall that week"),
        _i("slipping_lines", "lines stated by the peak week and predicted after it"),
        _n("slipping_qty", "their units"),
        _t("orders", "their orders (the five largest)"),
        _t("lanes", "their lanes: origin > destination (mode)"),
        _t("ports", "their ports of arrival"),
        _t("carriers", "their carriers"),
    )),
    OutputTable("supply_headline", "supply", "the supply numbers a planner reads first", ("measure",), (
        _t("measure", "what is counted"),
        _n("value", "its value (fill rate as a share)"),
    )),
    # --- 07 logistics: what lanes really do (beside the chain: it reads the snapshot only) ----------
    OutputTable("lane_reliability", "logistics", "delays of deliveries already made, by lane, mode, supplier and carrier",
                ("level", "origin", "destination", "mode", "supplier", "carrier"), (
        _t("level", "lane, mode, supplier or carrier: which grouping the row is"),
        _t("origin", "the lane's port or site of departure (lane rows; `(none)` when blank)"),
        _t("destination", "the lane's port or location of arrival (lane rows)"),
        _t("mode", "ocean, air, truck, rail or parcel (lane and mode rows)"),
        _t("supplier", "supplier (supplier rows)"),
        _t("carrier", "carrier (carrier rows)"),
        _i("deliveries", "deliveries in receipts_history"),
        _n("evidence", "their weight summed: sum of 0.5 ** (weeks since received / half_life_weeks)"),
        _n("mean_delay_weeks", "weighted mean of receipt week - planned week (negative: early)"),
        _n("p50_delay_weeks", "weighted median delay"),
        _n("p90_delay_weeks", "weighted 90th percentile of the delay"),
        _n("on_time_share", "weighted share delivered at or before the planned week"),
        _n("trend_weeks", "mean delay of the deliveries received in the last trend_weeks minus that of the ones before"),
        _n("weight", "lane rows: evidence / (evidence + prior_deliveries), the share of the lane's own figures"),
        _n("shrunk_mean_delay_weeks", "lane rows: weight x lane + (1 - weight) x its mode's"),
        _n("shrunk_p50_delay_weeks", "lane rows: the median shrunk the same way"),
        _n("shrunk_p90_delay_weeks", "lane rows: the P90 shrunk the same way (never below the P50)"),
    )),
    OutputTable("lane_load", "logistics", "units the open lines ship per lane and week, against the lane's weekly capacity",
                ("origin", "destination", "mode", "week"), (
        _t("origin", "the lane's port or site of departure"),
        _t("destination", "the lane's port or location of arrival"),
        _t("mode", "ocean, air, truck, rail or parcel"),
        _w("week", "shipping week: the line's ship_week, else its ETA less the lane's transit"),
        _n("shipping_qty", "units of the open lines shipping on the lane that week"),
        _n("weekly_capacity", "the lane's capacity (blank: not stated)"),
        _n("room_qty", "max(weekly_capacity - shipping_qty, 0): what a mode switch may still put on it"),
    )),
    OutputTable("eta_forecast", "logistics", "every open supply line's predicted receipt week beside its stated ETA", ("line_id",), (
        _i("line_id", "the line's position in the supply input (as in inbound_delays)"),
        _t("order_id", "order reference"),
        SKU, LOC,
        _t("supplier", "supplier"),
        _t("mode", "how it travels"),
        _t("origin", "port or site of departure"),
        _t("destination", "port or location of arrival"),
        _t("carrier", "carrier"),
        _t("status", "planned, shipped, at_port or delivered (blank: planned)"),
        _n("qty", "units"),
        _w("week", "planned receipt week"),
        _w("eta_week", "stated ETA (blank in the input: the planned week)"),
        _n("p50_delay_weeks", "predicted delay: the lane's weighted median shrunk towards its mode and supplier (docs/logistics.md)"),
        _n("p90_delay_weeks", "predicted delay at the 90th percentile, shrunk the same way"),
        _w("eta_p50_week", "planned week + round(p50 delay); never before a stated ETA later than planned"),
        _w("eta_p90_week", "planned week + round(p90 delay), the same way"),
        _i("slip_weeks", "eta_p50_week - eta_week: how much later than stated the lane's record says it will come"),
        _i("basis", "deliveries of the line's lane in receipts_history (0: mode and supplier figures only)"),
    )),
    # --- disruption scenarios (soe scenario run; saved with the week under scenarios/<name>/) -------------------------
    OutputTable("scenario_comparison", "scenario", "a disruption scenario against the week as run: the base, what each event adds, the scenario",
                ("scenario", "row"), (
        _t("scenario", "the scenario's name"),
        _i("row", "0 = base, then one row per event in order, last = the scenario"),
        _t("part", "base, event N or scenario"),
        _t("what", "the event in words (base: the week as run; scenario: its name)"),
        _t("kind", "level (base, scenario) or change (an event: the scenario up to it minus up to the one before)"),
        _n("margin_at_risk", "the kernel's margin at risk of every shortage gap (financial_impact)"),
        _n("shortage_gaps", "shortage gaps (supply_gaps)"),
        _n("units_short", "demand not served on time over the gaps"),
        _n("decision_items", "execution items of the decision list before the alert budget"),
        _n("plan_actions", "options the joint plan takes units from"),
        _n("plan_net_benefit", "the joint plan's net benefit, re-projected through the kernel"),
        _n("plan_cost", "what the joint plan's actions cost"),
        _n("lines_moved", "open supply lines the events moved (so far)"),
        _n("units_moved", "their units"),
    )),
    OutputTable("scenario_lines", "scenario", "every open supply line a disruption scenario moved", ("scenario", "line_id"), (
        _t("scenario", "the scenario's name"),
        _i("line_id", "the line's position in the supply input (as in inbound_delays)"),
        _t("order_id", "order reference"),
        SKU, LOC,
        _t("supplier", "supplier"),
        _t("mode", "how it travels"),
        _t("origin", "port or site of departure"),
        _t("destination", "port or location of arrival"),
        _t("carrier", "carrier"),
        _n("qty", "units"),
        _w("eta_week", "stated ETA before the scenario"),
        _w("scenario_eta_week", "receipt week in the scenario"),
        _i("moved_weeks", "scenario_eta_week - eta_week"),
        _t("events", "the numbers of the events that moved it (\"1, 3\")"),
    )),
    # --- allocation (notebook 04) ------------------------------------------------------------------------------
    OutputTable("order_allocation", "allocation", "every booked order line in the horizon: what short supply gives it in its week, what is cut, when the rest comes",
                ("line_id",), (
        _i("line_id", "the line's position in open_orders"),
        _t("order_id", "order (blank: not given)"),
        _t("line", "order line (blank: not given)"),
        _t("customer", "customer ((none): not given)"),
        _t("channel", "channel"),
        _i("tier", "1 = served first: the line's priority, else its customer's tier, else default_tier"),
        SKU, LOC,
        _w("requested_week", "week asked for (past due: served from the run week)"),
        _w("promised_week", "week promised (blank: not given)"),
        _n("requested_qty", "units ordered"),
        _n("allocated_qty", "units it gets in its week under the configured policy"),
        _n("cut_qty", "requested_qty - allocated_qty"),
        _n("cut_pct", "cut_qty / requested_qty"),
        _w("confirmed_week", "week the whole line is covered (blank: not within the horizon)"),
        _b("minimum_honoured", "its customer's contractual minimum share was served in its week (yes when it has none)"),
        _t("reason", "why it got what it got"),
    )),
    OutputTable("customer_service", "allocation", "projected service per customer under the configured policy, against its targets",
                ("customer", "channel", "tier"), (
        _t("customer", "customer"), _t("channel", "channel"), _i("tier", "tier"),
        _i("lines", "order lines in the horizon"),
        _n("requested_qty", "units ordered"),
        _n("allocated_qty", "units allocated in their week"),
        _n("cut_qty", "units cut"),
        _n("fill_rate", "allocated_qty / requested_qty"),
        _n("fill_rate_target", "the customers table's target (blank: none)"),
        _n("otif", "lines served complete in their week / lines"),
        _n("otif_target", "the customers table's target (blank: none)"),
        _b("below_target", "fill rate or OTIF below its target"),
        _i("minimum_missed_lines", "lines whose contractual minimum could not be served"),
    )),
    OutputTable("actual_service", "allocation", "what customers really got: fill rate and OTIF of the order lines due in the last 4 and 13 weeks",
                ("by", "name", "weeks"), (
        _t("by", "customer, family or location"),
        _t("name", "the customer, family or location"),
        _i("weeks", "the window: lines requested in the last this many weeks before the run week"),
        _i("lines", "order lines due in it"),
        _n("requested_qty", "units ordered"),
        _n("on_time_qty", "units shipped by their requested week"),
        _n("fill_rate", "on_time_qty / requested_qty"),
        _n("otif", "lines shipped complete by their requested week / lines"),
    )),
    OutputTable("allocation_policies", "allocation", "the configured rule, fair share for all and margin first on the same lines and supply",
                ("policy", "tier"), (
        _t("policy", "rule, fair_share or margin_first"),
        _t("tier", "the rule's tier of the lines, or all"),
        _i("lines", "order lines"),
        _n("requested_qty", "units ordered"),
        _n("allocated_qty", "units allocated in their week"),
        _n("fill_rate", "allocated_qty / requested_qty"),
        _n("cut_pct_spread", "largest minus smallest share cut among the customers"),
        _n("margin_kept", "allocated units x the line's margin per unit"),
    )),
    OutputTable("available_to_promise", "allocation", "what a new order could still get, per SKU-location with orders and week",
                ("sku", "location", "week"), (
        SKU, LOC, WEEK,
        _n("atp_qty", "cumulative available to promise: min over later weeks of (supply - allocated and confirmed), >= 0"),
        _n("ctp_qty", "capable to promise: ATP + units the item's resources' spare hours could make by then (from ctp_lead_weeks)"),
    )),
    # --- 04 financial impact ---------------------------------------------------------------------
    OutputTable("financial_impact", "finance", "money at risk per shortage gap", ("gap_id",), (
        _i("gap_id", "the gap in supply_gaps"),
        SKU, LOC,
        _t("family", "product family"),
        _w("first_week", "first week short"),
        _w("peak_week", "deepest week"),
        _w("last_week", "last week short"),
        _i("weeks_short", "weeks short"),
        _n("shortage_qty", "demand not served on time over the gap (the net projection's view)"),
        _n("at_risk_qty", "lost_qty + owed_at_end_qty: units not delivered within the horizon (the projection kernel)"),
        _n("lost_qty", "units lost in the gap's weeks: (1 - backorder share) x the lost-sales world's"),
        _n("owed_at_end_qty", "units still owed in the last horizon week (backorder share x backlog), when the gap reaches it"),
        _n("peak_shortage_qty", "deepest backlog"),
        _n("revenue_at_risk", "at_risk_qty x unit_price"),
        _n("margin_at_risk", "at_risk_qty x (unit_price - unit_cost) + delay_cost: the kernel's money of the gap's weeks"),
        _n("delay_cost", "delay_cost_share x unit_price x unit-weeks waited in the gap's weeks"),
        _t("cause", "largest root cause at the peak"),
        _t("causes", "every cause that deepens the gap"),
        _t("late_orders", "late orders behind it"),
        _t("bottleneck_resources", "resources behind it"),
        _b("open_at_horizon_end", "still short in the last horizon week"),
        _n("unit_price", "price per unit"),
        _n("unit_cost", "cost per unit"),
    )),
    OutputTable("countermeasures", "finance", "every countermeasure option of every shortage gap, and what the joint plan takes from it",
                ("gap_id", "action", "pool", "effective_week"), (
        _i("gap_id", "the gap in supply_gaps"),
        SKU, LOC,
        _w("first_week", "first week short"),
        _t("action", "expedite, switch_mode, pull_in, transfer, overtime, build_ahead, substitute, raise_order, new_order, allocate, shape_demand or accept"),
        _b("feasible", "the data allows it"),
        _n("qty", "the most whole units the move can usefully take (its limit, and the deepest shortfall it reaches)"),
        _n("cost", "fixed + qty x cost per unit"),
        _n("margin_recovered", "the kernel's money at risk of its SKU-location without the move minus with qty units of it"),
        _n("net_benefit", "margin_recovered - cost (blank when infeasible)"),
        _w("effective_week", "when its units arrive or it takes effect"),
        _n("rank", "1 = best stand-alone net benefit of the gap (blank when infeasible)"),
        _n("chosen_qty", "units the week's joint plan takes from it (0 = not chosen)"),
        _n("chosen_cost", "its cost in the plan (a fixed cost once per order or transfer)"),
        _n("chosen_net_benefit", "the solver's gain on its SKU-location, split among its moves as their re-projected increments, less chosen_cost"),
        _n("reprojected_net_benefit", "the kernel's increment of the move on its SKU-location (moves applied in order of their week), less chosen_cost"),
        _t("source_location", "transfer: where the stock comes from"),
        _t("substitute_sku", "substitute: the item sold instead"),
        _t("resource", "overtime, build_ahead: the resource"),
        _t("order_id", "expedite, switch_mode, pull_in, raise_order: the order"),
        _t("pool", "the shared limit it draws on (stock:SKU@location, order:line (a switch_mode also draws on lane:origin>destination:mode:shipping week), raise:line, overtime:resource:week, slack:resource:week, receive:SKU@location)"),
        _t("detail", "the option in words"),
        _t("reason", "why not, when infeasible"),
    )),
    OutputTable("logistics_risk", "finance", "margin at risk if inbound lines come when their lanes' record says, by lane, port and carrier",
                ("by", "name"), (
        _t("by", "lane, port (of arrival) or carrier: each adds up to the same total"),
        _t("name", "the lane (origin > destination (mode)), port or carrier"),
        _i("lines", "slipping lines (predicted later than stated)"),
        _n("slipping_qty", "their units"),
        _i("sku_locations", "SKU-locations they supply"),
        _n("margin_at_risk", "the kernel's margin at risk with the lines in their predicted weeks minus with their stated ones, shared among a SKU-location's slipping lines by units"),
    )),
    OutputTable("countermeasure_plan", "finance", "how the week's joint countermeasure plan was made", ("measure",), (
        _t("measure", "method, status, variables, binary variables, constraints, net benefit (the solver's), net benefit re-projected through the kernel, their difference, within of the best plan (the proven gap)"),
        _t("value", "its value"),
    )),
    OutputTable("plan_vs_estimate", "finance", "financial plan vs latest estimate by family and week, the gap split exactly",
                ("family", "week"), (
        _t("family", "product family"), WEEK,
        _n("revenue_plan", "financial plan revenue"),
        _n("revenue_estimate", "sum shipped x unit_price"),
        _n("gap", "revenue_estimate - revenue_plan"),
        _n("margin_plan", "financial plan margin"),
        _n("margin_estimate", "sum shipped x (unit_price - unit_cost)"),
        _n("margin_gap", "margin_estimate - margin_plan"),
        _n("plan_value_vs_financial_plan", "demand plan value - revenue_plan"),
        _n("demand_vs_plan", "(sensed demand - demand plan) x price"),
        _n("supply_shortfall", "(shipped - sensed demand) x price"),
        _n("demand_qty", "sensed demand units"),
        _n("shipped_qty", "demand + backlog caught up - backlog left"),
    )),
    OutputTable("excess_inventory", "finance", "SKU-locations holding more than excess_weeks of demand", ("sku", "location"), (
        SKU, LOC,
        _n("excess_qty", "largest projection above excess_weeks x mean weekly demand"),
        _t("family", "product family"),
        _n("unit_cost", "cost per unit"),
        _n("excess_value", "excess_qty x unit_cost"),
    )),
    OutputTable("decision_list", "finance", "the meeting's list: execution items ranked and capped, those in hand, the S&OP items", ("item_id",), (
        _i("rank", "1 = highest score; blank for items in hand and S&OP items"),
        _t("item_id", "stable id of the item (the same event keeps it week to week)"),
        _t("track", "execution (this meeting) or sop (next month's S&OP)"),
        _b("in_hand", "open actions of earlier weeks cover at least in_hand_cover of its shortage, and the item did not get worse"),
        _t("kind", "sku-location, capacity, storage, customer; persistent_bias or tracking_signal on the sop track"),
        SKU, LOC,
        _t("resource", "resource (capacity items), customer (customer items)"),
        _w("week", "when it starts"),
        _t("severity", "high, medium or low"),
        _n("money_at_risk", "margin at stake (see docs/financial-impact.md); of an item covered in part, the uncovered share"),
        _n("urgency", "urgency_decay ^ weeks until it starts"),
        _n("score", "money_at_risk x urgency"),
        _n("shortage_qty", "units short over the item's gaps (of an item covered in part: those its open actions leave)"),
        _n("covered_qty", "units its open actions of earlier weeks cover, when they cover it only in part"),
        _t("cause", "root cause or direction"),
        _t("best_action", "what the joint plan chose for it, or the standard first move"),
        _n("action_qty", "units the plan recovers for it"),
        _n("action_cost", "the plan's cost for it"),
        _n("action_net_benefit", "the plan's net benefit for it"),
        _t("open_action", "the open action on it (#id), and '(worse since)', '(did not work)' or '(covers N of M units)' when it is on the list"),
        _t("detail", "the item's facets in words"),
        _t("why", "why it ranks where it does, in the score's parts: did its action not work (listed first), money, when it starts "
               "(urgency), the part open actions cover; in hand; or the S&OP track"),
    )),
    OutputTable("decision_list_beyond_budget", "finance", "items beyond the alert budget, summarised by track and kind", ("track", "kind"), (
        _t("track", "execution (the weekly meeting) or sop (for the monthly S&OP)"),
        _t("kind", "item kind"),
        _i("items", "items of that kind not on the list"),
        _n("money_at_risk", "their money at risk"),
    )),
    OutputTable("execution_items", "finance", "every execution item of the week, before the alert budget (what next week's comparison reads)",
                ("item_id",), (
        _t("item_id", "stable id of the item"),
        _t("kind", "sku-location, capacity or storage"),
        SKU, LOC,
        _t("resource", "resource (capacity items)"),
        _w("week", "when it starts"),
        _n("money_at_risk", "margin at stake, the whole item's (see decision_list)"),
        _n("size", "units short over its gaps; capacity: peak hours carried into the next week; storage: units over capacity, summed"),
        _n("covered_qty", "units its open actions cover when they cover it only in part (then it is listed with the rest)"),
        _t("cause", "root cause or direction"),
        _b("in_hand", "its open actions cover it"),
    )),
    # --- 05 what changed since last week, and did last weeks' decisions work ---------------------
    OutputTable("item_changes", "loop", "every decision item of this week or the previous one: how it changed and why", ("item_id",), (
        _t("item_id", "the item's stable id (the same as in decision_list and the decision log)"),
        _t("kind", "sku-location, capacity or storage"),
        SKU, LOC,
        _t("resource", "the resource of a capacity item"),
        _t("status", "new, worse, eased, unchanged or closed (worse/eased: the size moved by more than 10 % and one unit)"),
        _n("money_then", "money at risk in the previous week's run (0 when the item did not exist)"),
        _n("money_now", "money at risk in this week's run"),
        _n("size_then", "units short (capacity: hours over; storage: units over) in the previous week's run"),
        _n("size_now", "the same, this week"),
        _t("reason", "why, in words: the largest parts of the change"),
        _n("week_rolled_part", "money change: the horizon moved a week (one week past, a new week at the end)"),
        _n("prices_part", "money change: new unit prices or costs"),
        _n("inventory_part", "money change: stock at the start of the week differs from last week's projection"),
        _n("plan_part", "money change: the new S&OP plan (through the plan's share of last week's chosen forecast)"),
        _n("demand_part", "money change: the rest of the sensed demand change (new actuals, open orders)"),
        _n("decisions_part", "money change: orders moved and transfers made by recorded decisions"),
        _n("supply_part", "money change: other ETA moves, new or cancelled orders"),
        _n("capacity_part", "money change: production held back by capacity, more or less"),
        _n("gap_minimum_part", "money change: shortages below a gap's minimum, counted in one week and not the other"),
    )),
    OutputTable("risk_bridge", "loop", "from last week's figure to this week's, in named parts that add up exactly", ("measure", "step"), (
        _t("measure", "margin at risk, or gap to financial plan (the latest estimate minus the plan, over each run's horizon)"),
        _i("step", "order of the parts: 0 = last week, the last = this week"),
        _t("component", "last week, week rolled, prices, inventory, plan, demand, decisions, supply, capacity, financial plan, gap minimum, this week"),
        _n("amount", "the figure (first and last row) or the part's change"),
        _t("detail", "what the part holds"),
    )),
    OutputTable("forecast_changes", "loop", "the SKU-locations whose sensed demand for the common weeks moved most, and why", ("sku", "location"), (
        SKU, LOC,
        _n("sensed_then", "sensed demand over the weeks both runs cover, as published last week"),
        _n("sensed_now", "the same weeks, this week"),
        _n("change_qty", "sensed_now - sensed_then"),
        _n("change_value", "change_qty x unit price"),
        _n("plan_part", "units from the new S&OP plan: the plan's share of last week's chosen forecast (1 - w_stat) x plan change"),
        _n("open_orders_part", "units from booked orders above the chosen forecast (the open-orders floor), this week minus last"),
        _n("actuals_part", "the rest: what the new actuals did to the chosen forecast (and to the choice)"),
        _n("last_week_actual", "actual demand of the week that has passed"),
        _n("last_week_sensed", "what sensing said for that week a week ago"),
        _t("reason", "the largest part in words"),
    )),
    OutputTable("action_outcomes", "loop", "every action recorded in an earlier week: was it carried out, and did it work", ("action_id",), (
        _i("action_id", "the action's number in the decision log"),
        _t("item_id", "the decision item it was for"),
        _t("sku", "the item's SKU (blank for a resource)"),
        _t("location", "the item's location (blank for a resource)"),
        _w("decided_week", "the meeting week it was recorded in"),
        _w("due_week", "when it was due"),
        _t("owner", "who owns it"),
        _t("action", "what was decided (text)"),
        _t("action_type", "expedite, pull_in, transfer, overtime, build_ahead, substitute, shape_demand, ... or blank (free text)"),
        _t("target", "the order, source location, resource or substitute it acts on"),
        _t("cause", "the item's cause when the action was recorded"),
        _t("log_status", "its status in the decision log"),
        _n("qty", "units it was to recover"),
        _n("expected_benefit", "net benefit expected when it was recorded"),
        _n("expected_cost", "cost expected when it was recorded"),
        _t("executed", "yes, no or unknown: whether the data shows it carried out"),
        _t("evidence", "what the data shows"),
        _n("money_then", "the item's money at risk when the action was recorded"),
        _n("money_now", "the item's money at risk in this week's run (0: no gap left)"),
        _n("shortage_then", "the item's units short when recorded"),
        _n("shortage_now", "the item's units short now"),
        _n("realised_benefit", "executed: money at risk this week without what it did minus with it (the bridge's decisions part); not executed: 0; unknown: money_then - money_now"),
        _n("value_added", "realised_benefit - expected_cost when executed; 0 when not"),
        _t("status", "worked, partly, no effect, not executed or too early"),
        _t("proposal", "what the meeting could do: close it (no gap left, or it worked), bring it back (it did not work, or was not carried out), wait (not yet due)"),
    )),
    OutputTable("countermeasure_value", "loop", "countermeasure value added: realised benefit minus cost, by action type, owner and cause", ("by", "group"), (
        _t("by", "action type, owner or cause"),
        _t("group", "the action type, owner or cause"),
        _i("actions", "actions judged (not too early)"),
        _i("worked", "of which worked"),
        _n("worked_share", "worked / actions"),
        _n("realised_benefit", "sum of realised benefit"),
        _n("cost", "sum of expected cost of the executed ones"),
        _n("value_added", "realised benefit - cost"),
    )),
    OutputTable("sensing_track_record", "loop", "accuracy of the sensed forecasts published in past weeks, by lag, against the plan and naive",
                ("published_week", "lag", "method"), (
        _w("published_week", "the run that published the forecast"),
        _i("lag", "1 = the forecast for its run week, 2 = the week after, ..."),
        _t("method", "sensed, plan or naive (the last actual before the run)"),
        _i("series", "SKU-locations scored"),
        _n("actual_qty", "what happened"),
        _n("forecast_qty", "what was forecast"),
        _n("wape", "sum|A-F| / sum A"),
        _n("bias", "sum(F-A) / sum A; positive = over-forecast"),
    )),
)

OUTPUTS: dict[str, OutputTable] = {t.name: t for t in _TABLES}

# Files a step writes beside its tables: name -> (step, meaning)
DOCUMENTS: dict[str, tuple[str, str]] = {
    "sop_feedback.md": ("finance", "what next month's S&OP should change (bias, supplier delays, capacity, the gap to the financial plan)"),
    "meeting_pack.xlsx": ("finance", "decision list, gaps, countermeasures and plan vs estimate for Excel"),
}


def tables_of_step(step: str) -> list[str]:
    """The tables a step writes, in contract order."""
    return [t.name for t in _TABLES if t.step == step]


def _fits(kind: Kind, values: pd.Series) -> bool:
    dtype = values.dtype
    if len(values) == 0 or values.isna().all():
        return True  # an empty or all-blank column carries no type evidence
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dtype)
    if kind == "int":
        return pd.api.types.is_integer_dtype(dtype)
    if kind == "number":
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if kind == "week":
        return pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
    return pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)


def check_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its columns in contract order, or :class:`OutputContractError` when a column is
    missing, extra, or of the wrong kind."""
    if name not in OUTPUTS:
        raise OutputContractError(f"'{name}' is not a declared result table (soe_lib/core/outputs.py)")
    table = OUTPUTS[name]
    have, want = list(map(str, frame.columns)), table.names
    missing, extra = [c for c in want if c not in have], [c for c in have if c not in want]
    if missing or extra:
        raise OutputContractError(f"table '{name}': missing columns {missing}, extra columns {extra} (see soe_lib/core/outputs.py)")
    wrong = [f"{c.name} ({frame[c.name].dtype}, declared {c.kind})" for c in table.columns if not _fits(c.kind, frame[c.name])]
    if wrong:
        raise OutputContractError(f"table '{name}': columns of the wrong type: {', '.join(wrong)}")
    return frame[want]


def outputs_markdown() -> str:
    """The contract as markdown (``docs/outputs.md`` holds it between markers; ``soe outputs`` prints it)."""
    lines = []
    for step in dict.fromkeys(t.step for t in _TABLES):
        for t in (t for t in _TABLES if t.step == step):
            key = ", ".join(f"`{k}`" for k in t.key) or "none (a list)"
            lines += [f"### `{t.name}` ({step})", "", f"{t.doc[0].upper()}{t.doc[1:]}. Key: {key}.", "", "| column | kind | meaning |", "|---|---|---|"]
            lines += [f"| `{c.name}` | {c.kind} | {c.doc} |" for c in t.columns]
            lines.append("")
    lines += ["### Documents", "", "| file | step | what it holds |", "|---|---|---|"]
    lines += [f"| `{name}` | {step} | {doc} |" for name, (step, doc) in DOCUMENTS.items()]
    return "\n".join(lines)
