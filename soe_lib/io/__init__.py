"""Inputs and outputs: finding, reading and validating a data folder; the run's snapshot; a week's result
tables and documents; the archive of weekly runs; the decision log.

Public names are imported on first use (see :mod:`soe_lib._lazy`).
"""

from .._lazy import lazy_exports

_WHERE = {
    "ActionLog": "decision_store",
    "ActionLogError": "decision_store",
    "archived_weeks": "archive",
    "ArchivedWeek": "archive",
    "clear_table": "results",
    "coverage_table": "coverage",
    "default_url": "decision_store",
    "file_sha256": "sources",
    "find_sources": "sources",
    "has_snapshot": "snapshot",
    "latest_week": "archive",
    "list_runs": "archive",
    "load_data": "loading",
    "minutes_dir": "decision_store",
    "PartRunner": "loading",
    "read_snapshot": "snapshot",
    "read_table": "results",
    "rows_of": "results",
    "RunFiles": "results",
    "save_table": "results",
    "SNAPSHOT_FILE": "sources",
    "snapshot_key": "snapshot",
    "snapshot_meta": "snapshot",
    "source_hashes": "snapshot",
    "StaleUpdate": "decision_store",
    "STATUSES": "decision_store",
    "table_path": "results",
    "write_document": "results",
    "write_snapshot": "snapshot",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
