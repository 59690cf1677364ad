"""The weekly review meeting app and the charts: widgets, what the app reads, the decision log.

Public names are imported on first use (see :mod:`soe_lib._lazy`).
"""

from .._lazy import lazy_exports

_WHERE = {
    "ActionsPanel": "panels",
    "DecisionListPanel": "panels",
    "DrilldownPanel": "panels",
    "EMPTY_MESSAGE": "review",
    "KPI_NAMES": "review_data",
    "KpiPanel": "panels",
    "LoopPanel": "panels",
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
    "demand_chart": "charts",
    "drilldown_demand_chart": "charts",
    "drilldown_projection_chart": "charts",
    "filter_items": "review_data",
    "items_options": "panels",
    "kpi_tiles": "review_data",
    "message": "panels",
    "money_waterfall": "charts",
    "plan_vs_estimate_chart": "charts",
    "projection_chart": "charts",
    "projection_layers": "charts",
    "review_app": "review",
    "tile_html": "panels",
    "use_offline_renderer": "charts",
    "wape_histogram": "charts",
    "waterfall_frame": "charts",
    "weekly_totals_chart": "charts",
    "what_if": "review_data",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
