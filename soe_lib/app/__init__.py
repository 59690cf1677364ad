"""The weekly review meeting app and the charts: widgets, what the app reads, the decision log.

Public names are imported on first use (see :mod:`soe_lib._lazy`).
"""

from .._lazy import lazy_exports

_WHERE = {
    "ActionsPanel": "panels",
    "CHANGE_KINDS": "scenarios",
    "DecisionListPanel": "panels",
    "DrilldownPanel": "panels",
    "EMPTY_MESSAGE": "review",
    "ITEM_COLUMNS": "review_data",
    "KPI_NAMES": "review_data",
    "KpiPanel": "panels",
    "LoopPanel": "panels",
    "OverviewPanel": "panels",
    "RecordPanel": "panels",
    "ReviewApp": "review",
    "ReviewWeek": "review_data",
    "WhatIf": "review_data",
    "WhatIfPanel": "panels",
    "available_weeks": "review_data",
    "bridge_frame": "charts",
    "bridge_html": "panels",
    "bridge_waterfall": "charts",
    "capacity_heatmap": "charts",
    "compare_scenarios": "scenarios",
    "decision_grid": "panels",
    "demand_chart": "charts",
    "describe_change": "scenarios",
    "drilldown_demand_chart": "charts",
    "drilldown_projection_chart": "charts",
    "evaluate_scenario": "scenarios",
    "filter_items": "review_data",
    "grid_payload": "panels",
    "item_table": "review_data",
    "kpi_history": "review_data",
    "kpi_tiles": "review_data",
    "message": "panels",
    "money_by_cause_chart": "charts",
    "money_by_week_chart": "charts",
    "money_waterfall": "charts",
    "plan_vs_estimate_chart": "charts",
    "projection_chart": "charts",
    "projection_layers": "charts",
    "review_app": "review",
    "sparkline_svg": "panels",
    "tile_html": "panels",
    "use_offline_renderer": "charts",
    "wait_for_page": "review",
    "wape_histogram": "charts",
    "waterfall_frame": "charts",
    "weekly_totals_chart": "charts",
    "what_if": "review_data",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
