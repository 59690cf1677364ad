"""Running the weekly cycle: parameters, the steps in order, the week a notebook works on, and the Papermill
runner that validates once, executes the notebooks on that snapshot and publishes the week.

Public names are imported on first use (see :mod:`soe_lib._lazy`).
"""

from .._lazy import lazy_exports

_WHERE = {
    "DEMO_BY": "demo",
    "EXIT_BUSY": "runner",
    "EXIT_FAILED": "runner",
    "EXIT_INVALID": "runner",
    "EXIT_OK": "runner",
    "PACKAGES": "manifest",
    "PARAMETERS_FILE": "week",
    "PARAMETER_FILES": "parameters",
    "ParameterError": "parameters",
    "RUNNER_OWNED": "parameters",
    "RUNS": "publish",
    "RUN_FILE": "week",
    "RunInterrupted": "runner",
    "RunResult": "runner",
    "STEPS": "steps",
    "Step": "steps",
    "StepContext": "steps",
    "WeekRun": "week",
    "add_inputs": "manifest",
    "all_specs": "parameters",
    "batch_notebooks": "execute",
    "cell_seconds": "execute",
    "check_parameters": "parameters",
    "declared_parameters": "parameters",
    "default_parameters": "parameters",
    "describe_failure": "runner",
    "error_of": "execute",
    "execute_notebook": "execute",
    "export_html": "execute",
    "keep_failed": "publish",
    "known_parameters": "execute",
    "load_file": "parameters",
    "merge": "parameters",
    "new_manifest": "manifest",
    "open_week": "week",
    "parse_set": "parameters",
    "producer_of": "steps",
    "publish_run": "publish",
    "published_run": "publish",
    "render_parameter_file": "parameters",
    "resolve_data_dir": "week",
    "resolve_parameters": "runner",
    "run_demo": "demo",
    "run_week": "runner",
    "step_named": "steps",
    "table_digests": "manifest",
    "utcnow": "manifest",
    "versions": "manifest",
    "write_manifest": "manifest",
    "write_parameter_files": "parameters",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
