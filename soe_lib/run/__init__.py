"""Running the weekly cycle: parameters, the steps in order, the week a notebook works on, and the Papermill
runner that validates once, executes the notebooks on that snapshot and publishes the week.

Public names are imported on first use (see :mod:`soe_lib._lazy`).
"""

from .._lazy import lazy_exports

_WHERE = {
    "open_week": "week",
    "PARAMETER_FILES": "parameters",
    "parse_set": "parameters",
    "render_parameter_file": "parameters",
    "resolve_data_dir": "week",
    "promise_order": "promising",
    "run_demo": "demo",
    "run_scenario_file": "scenario",
    "run_week": "runner",
    "write_parameter_files": "parameters",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
