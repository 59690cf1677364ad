"""Write the notebooks from their cell sources (keeps them output-free and consistently formatted).

Run: python dev/make_notebooks.py. Edit the notebooks in JupyterLab or here; strip outputs before
committing (tests/test_notebooks.py fails otherwise).
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1] / "notebooks"


def notebook(cells, batch=True):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if not batch:
        nb.metadata["soe"] = {"batch": False}
    out = []
    for kind, src, *tags in cells:
        cell = new_markdown_cell(src) if kind == "md" else new_code_cell(src)
        if tags:
            cell.metadata["tags"] = list(tags)
        cell.pop("id", None)
        out.append(cell)
    nb.cells = out
    nb.nbformat_minor = 4
    return nb


PARAMS = '''# Parameters: soe run injects these. Run interactively, the defaults use the sample company.
# data_dir: folder of input tables (None = the built-in sample company)
# week: run week such as 2026-W48 (None = the week after the last actuals)
# out_dir: where result tables go (None = outputs/lab/WEEK)
# horizon_weeks: weeks ahead the cycle looks at
data_dir = None
week = None
out_dir = None
horizon_weeks = 13'''

health = notebook(
    [
        ("md", "# 01 · Data health\n\nThe first step of the weekly S&OE cycle: **what did we load, and can we trust it?** "
         "Every input table is read and checked against the data contract (`docs/data-contract.md`). "
         "Errors stop the run before this notebook; what you see here are the tables as loaded, the warnings "
         "that did not stop the run, and which SKU-locations lack a plan, stock record or supply."),
        ("code", PARAMS, "parameters"),
        ("code", "from soe_lib import charts, health\nfrom soe_lib.cycle import open_week\n\ncharts.use_offline_renderer()\nrun = open_week(data_dir, week, out_dir, horizon_weeks)\nprint(f\"Run week {run.label}: data from {run.data.data_dir}; results to {run.out_dir}\")"),
        ("md", "## What was loaded\n\nOne row per input table: the file it came from, its rows, the weeks it covers and how many "
         "SKUs and locations it names. Optional tables that were not supplied show *(not supplied)*."),
        ("code", "loaded = health.load_summary(run.data)\nrun.save(\"data_health\", loaded)\nloaded"),
        ("md", "## Warnings and notes\n\nFindings that do not stop the run but that a planner should know: SKU-locations without a "
         "plan, past-due receipts, routings without capacity, duplicate transaction rows that were summed. "
         "`rows` are spreadsheet row numbers (header = row 1)."),
        ("code", "issues = run.data.report.to_frame()\nrun.save(\"validation_issues\", issues)\nissues"),
        ("md", "## Coverage gaps\n\nHow many SKU-locations miss each input. A missing plan or inventory record makes every later "
         "number for that item less trustworthy; short histories get honest treatment in demand sensing."),
        ("code", "coverage = health.coverage_table(run.data, horizon_weeks)\nrun.save(\"coverage\", coverage)\nhealth.coverage_summary(coverage)"),
        ("md", "## Demand at a glance\n\nTotal units per week over the last year: what sold (actual), what the S&OP plan expected, "
         "and the customer orders already booked for the coming weeks. The dashed line is the run week."),
        ("code", "charts.weekly_totals_chart(health.weekly_totals(run.data, 52, horizon_weeks), run.week)"),
    ]
)

SENSING_PARAMS = PARAMS + '''
# Demand sensing and exceptions: see parameters/sensing.yaml for what each one does.
lookback_weeks = 13
history_weeks = 156
min_history_weeks = 13
seasonal_min_weeks = 104
seasonal_min_r2 = 0.25
outlier_z = 6.0
open_orders_floor_weeks = 4
sensing_fade_weeks = 8
backtest_lag_weeks = 1
recent_weeks = 4
spike_z = 4.0
min_shift = 0.3
bias_threshold = 0.2
tracking_limit = 4.0
bias_z = 3.0
deviation_threshold = 0.25
deviation_weeks = 4
deviation_z = 2.0
# The SKU-location to chart (None = the worst by money)
focus_sku = None
focus_location = None'''

sensing = notebook(
    [
        ("md", "# 02 · Demand sensing\n\n**How far is actual demand running from the S&OP demand plan, and what demand should we "
         "expect over the next weeks?** This notebook scores the plan on the last weeks of actuals, builds a short-term "
         "*sensed* forecast for every SKU-location (exponential smoothing on recent actuals, blended with the plan by each "
         "source's recent error, floored by the orders already booked), checks that sensing itself beats the plan and a "
         "naive forecast on the same weeks, and lists the demand exceptions a planner should act on. Formulas: "
         "`docs/demand-sensing.md`."),
        ("code", SENSING_PARAMS, "parameters"),
        ("code", "from soe_lib import charts\nfrom soe_lib.cycle import open_week\nfrom soe_lib.demand import sense_week\n\n"
         "charts.use_offline_renderer()\nrun = open_week(data_dir, week, out_dir, horizon_weeks)\n"
         "demand = sense_week(\n    run,\n    lookback_weeks=lookback_weeks,\n    history_weeks=history_weeks,\n"
         "    min_history_weeks=min_history_weeks,\n    seasonal_min_weeks=seasonal_min_weeks,\n    seasonal_min_r2=seasonal_min_r2,\n"
         "    outlier_z=outlier_z,\n    open_orders_floor_weeks=open_orders_floor_weeks,\n    sensing_fade_weeks=sensing_fade_weeks,\n"
         "    backtest_lag_weeks=backtest_lag_weeks,\n    recent_weeks=recent_weeks,\n    spike_z=spike_z,\n    min_shift=min_shift,\n"
         "    bias_threshold=bias_threshold,\n    tracking_limit=tracking_limit,\n    bias_z=bias_z,\n"
         "    deviation_threshold=deviation_threshold,\n    deviation_weeks=deviation_weeks,\n    deviation_z=deviation_z,\n)\n"
         "demand.save(run)\nprint(f\"Run week {run.label}: {len(demand.accuracy):,} SKU-locations sensed; results in {run.tables_dir}\")"),
        ("md", "## Plan accuracy over the last weeks\n\nTotal, then by family and by location. **WAPE** = sum|A-F| / sum A "
         "(errors do not cancel across items); **bias** = sum(F-A) / sum A, positive = the plan expected more than sold; "
         "**tracking signal** = sum(A-F) / MAD on the summed weekly series (beyond +-4: the plan is consistently off); "
         "**MASE** below 1 beats the seasonal-naive forecast; **FVA** > 0: the plan adds value over last week's actual."),
        ("code", "demand.rollups[\"total\"]"),
        ("code", "demand.rollups[\"family\"]"),
        ("code", "demand.rollups[\"location\"]"),
        ("md", "## Does sensing add value? The backtest\n\nFor each of the last weeks: what sensing, its statistical part, the "
         "plan and the naive forecast (last week's actual) said before that week, scored against what sold (WAPE; lower "
         "is better), over all series and by demand pattern. If sensing does not beat the plan on your data, lean on the plan."),
        ("code", "demand.sensing.backtest"),
        ("md", "## The worst series by money\n\nWhere the plan's error cost most over the lookback: sum|A-F| x unit price."),
        ("code", "demand.worst_by_money(15)"),
        ("md", "## Demand exceptions\n\nSpikes and drops in recent weeks (vs what the model expected, in robust standard "
         "errors), one-off outliers (flagged and kept out of the forecast), persistent plan bias, a drifting plan "
         "(tracking signal), sensed demand far from plan in the next weeks, and items with too little history to forecast. "
         "Counts first, then the largest by value (deviation units x price)."),
        ("code", "demand.exceptions.groupby([\"kind\", \"severity\"]).size().unstack(fill_value=0)"),
        ("code", "demand.exceptions.head(20)"),
        ("md", "## One SKU-location up close\n\nActual (circles: one-off outliers left out of the fit), the plan, the statistical "
         "forecast, sensed demand, and booked open orders (bars). Set `focus_sku` / `focus_location` to look at another one."),
        ("code", "charts.demand_chart(demand, *demand.focus(focus_sku, focus_location))"),
        ("md", "## Accuracy distribution\n\nHow the plan's WAPE spreads over SKU-locations: a long right tail is usually "
         "intermittent items, where weekly accuracy is inherently low."),
        ("code", "charts.wape_histogram(demand.accuracy)"),
    ]
)

SUPPLY_PARAMS = PARAMS + '''
# cover_weeks: weeks of supply = projected on hand / mean demand over the next cover_weeks
cover_weeks = 4
# min_gap_qty: a gap must go at least this many units below zero (or below safety stock)
min_gap_qty = 1.0
# The SKU-location to chart (None = the deepest shortage)
focus_sku = None
focus_location = None'''

supply = notebook(
    [
        ("md", "# 03 · Supply gaps\n\n**Will supply be there?** For every SKU-location this projects inventory week by week from what "
         "is on hand, the receipts as they are *now* expected (not as planned), and the sensed demand from notebook 02: "
         "`projected[t] = projected[t-1] + receipts[t] - demand[t]`. Production receipts are then scaled to what capacity "
         "allows. Where the projection goes below zero there is a **gap**; each gap is explained against the plan "
         "(the same projection with the S&OP demand plan and receipts as planned) as *plan already short*, *demand above "
         "plan*, *supply late* (which orders) or *capacity shortfall* (which resource). Formulas: `docs/supply-gaps.md`."),
        ("code", SUPPLY_PARAMS, "parameters"),
        ("code", "from soe_lib import charts\nfrom soe_lib.cycle import open_week\nfrom soe_lib.supply import analyse_supply, sensed_demand_for\n\n"
         "charts.use_offline_renderer()\nrun = open_week(data_dir, week, out_dir, horizon_weeks)\n"
         "supply = analyse_supply(run, sensed_demand_for(run), cover_weeks=cover_weeks, min_gap_qty=min_gap_qty)\nsupply.save(run)\nsupply.headline()"),
        ("md", "## Gaps by cause, location and family\n\nShortage gaps only (safety-stock gaps are listed below them). "
         "`shortage_qty` is the demand not served on time over the gap; `peak_shortage_qty` the deepest backlog."),
        ("code", "supply.gap_summary(\"cause\")"),
        ("code", "supply.gap_summary(\"location\")"),
        ("code", "supply.gap_summary(\"family\")"),
        ("md", "## The gaps\n\nEach gap with its decomposition at the peak week: `plan_short_qty` + `demand_above_plan_qty` + "
         "`supply_late_qty` + `capacity_shortfall_qty` explain the peak shortage against the plan. The late orders and "
         "bottleneck resources are named."),
        ("code", "supply.gaps.drop(columns=[\"_series\"]).sort_values([\"kind\", \"peak_shortage_qty\"], ascending=[False, False]).head(25)"),
        ("md", "## One SKU-location up close\n\nProjected on hand with current ETAs, with capacity limits, and as planned, against "
         "safety stock; receipts as bars at their current ETA, late ones in red. Set `focus_sku` / `focus_location` to look at another."),
        ("code", "charts.projection_chart(supply, *supply.focus(focus_sku, focus_location))"),
        ("md", "## Capacity\n\nLoad of each production resource per week (production receipts x hours per unit / available "
         "hours). Red is an overload: the production receipts of that week are scaled to what the hours allow."),
        ("code", "charts.capacity_heatmap(supply.capacity) if len(supply.capacity) else print(\"No capacity or routings supplied.\")"),
        ("md", "## Suppliers\n\nOn-time share and delays of the open inbound lines by supplier and by kind."),
        ("code", "supply.by_supplier"),
        ("code", "supply.by_kind"),
        ("md", "## Storage\n\nLocation-weeks where the units held when receipts land exceed storage capacity."),
        ("code", "supply.storage[supply.storage[\"overflow\"]]"),
    ]
)

FINANCE_PARAMS = PARAMS + '''
# The decision list and countermeasures: see parameters/finance.yaml for what each one does.
alert_budget = 25
urgency_decay = 0.85
excess_weeks = 12.0
overflow_cost_per_unit = 1.0
countermeasure_catalogue = "countermeasures.yaml"'''

finance = notebook(
    [
        ("md", "# 04 · Financial impact and decisions\n\n**What is at stake, how far are we from the financial plan, and what "
         "should the meeting decide?** Every shortage gap from notebook 03 is valued (revenue at risk = units short x price; "
         "margin at risk = units short x (price - cost)); the latest revenue estimate is compared with the financial plan and "
         "the gap split into its causes; for each gap the feasible countermeasures are costed from the catalogue "
         "(`parameters/catalogues/countermeasures.yaml`); and every exception of the week is scored by money and urgency "
         "and **capped at the alert budget**, so the meeting gets a list it can finish. Formulas: `docs/financial-impact.md`."),
        ("code", FINANCE_PARAMS, "parameters"),
        ("code", "from soe_lib import charts\nfrom soe_lib.cycle import open_week\nfrom soe_lib.impact import assess_week\n\n"
         "charts.use_offline_renderer()\nrun = open_week(data_dir, week, out_dir, horizon_weeks)\n"
         "impact = assess_week(\n    run,\n    alert_budget=alert_budget,\n    urgency_decay=urgency_decay,\n    excess_weeks=excess_weeks,\n"
         "    overflow_cost_per_unit=overflow_cost_per_unit,\n    countermeasure_catalogue=countermeasure_catalogue,\n)\n"
         "impact.save(run)\nprint(impact.cap_note())"),
        ("md", "## The decision list\n\nRanked by `score = money at risk x urgency` (urgency falls by `urgency_decay` per week "
         "until the problem starts). Supply gaps carry their best countermeasure (highest net benefit = margin recovered - cost)."),
        ("code", "impact.decisions"),
        ("md", "Beyond the alert budget, summarised so nothing is silently dropped:"),
        ("code", "impact.beyond_budget"),
        ("md", "## Money at risk by root cause\n\nMargin at risk of the shortage gaps, built up cause by cause."),
        ("code", "charts.money_waterfall(impact.money_by(\"cause\"))"),
        ("code", "impact.money_by(\"family\")"),
        ("md", "## Financial plan vs latest estimate\n\nRevenue the sensed demand and the available supply support, against the "
         "financial plan, by family over the horizon. The gap is split exactly into: the demand plan's value vs the "
         "financial plan, sensed demand vs the demand plan, and supply shortfall."),
        ("code", "charts.plan_vs_estimate_chart(impact.plan_vs_estimate)"),
        ("code", "impact.plan_vs_estimate.groupby(\"family\")[[\"revenue_plan\", \"revenue_estimate\", \"gap\", \"plan_value_vs_financial_plan\", \"demand_vs_plan\", \"supply_shortfall\"]].sum()"),
        ("md", "## Countermeasure options of the largest gap\n\nEvery action for the gap with the most margin at risk, feasible or "
         "not (with the reason), ranked by net benefit."),
        ("code", "impact.options[impact.options[\"gap_id\"] == 0]"),
        ("md", "## Feedback to S&OP\n\nWhat next month's plan should change; also written to `sop_feedback.md`, with the meeting "
         "pack `meeting_pack.xlsx`, in the run folder."),
        ("code", "print(impact.feedback)"),
    ]
)

review = notebook(
    [
        ("md", "# S&OE weekly review\n\nThe meeting app: pick a week (the latest successful run opens first) and walk through it. "
         "Served by `make review` / `soe review`; it only reads what the weekly run wrote to `outputs/`."),
        ("code", "# Parameters: which outputs folder and week to open (None = $SOE_OUTPUTS or ./outputs, latest week).\nout_dir = None\nweek = None", "parameters"),
        ("code", "from soe_lib.review import review_app\n\nreview_app(out_dir, week)"),
    ],
    batch=False,
)

nbformat.write(health, ROOT / "01_data_health.ipynb")
nbformat.write(sensing, ROOT / "02_demand_sensing.ipynb")
nbformat.write(supply, ROOT / "03_supply_gaps.ipynb")
nbformat.write(finance, ROOT / "04_financial_impact.ipynb")
nbformat.write(review, ROOT / "05_weekly_review.ipynb")
