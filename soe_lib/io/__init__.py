"""Inputs and outputs: finding, reading and validating a data folder; the run's snapshot; a week's result
tables and documents; the archive of weekly runs; the data-health step.

Public names are imported on first use (see :mod:`soe_lib._lazy`).
"""

from .._lazy import lazy_exports

_WHERE = {
    "ActionLog": "decision_log",
    "ActionLogError": "decision_log",
    "ArchivedWeek": "archive",
    "Codes": "validation",
    "HealthWeek": "health",
    "SNAPSHOT_FILE": "sources",
    "SERIES_FILE": "sources",
    "SNAPSHOT_SCHEMA": "snapshot",
    "STATUSES": "decision_log",
    "StaleUpdate": "decision_log",
    "WEEK_FOLDER": "archive",
    "archived_weeks": "archive",
    "check_references": "validation",
    "check_values": "validation",
    "column_dtype": "validation",
    "coverage_problems": "coverage",
    "coverage_summary": "health",
    "coverage_table": "coverage",
    "data_health": "health",
    "default_url": "decision_log",
    "duplicate_positions": "validation",
    "file_sha256": "sources",
    "find_sources": "sources",
    "parquet_parts": "sources",
    "has_snapshot": "snapshot",
    "header_problems": "sources",
    "item_state": "decision_log",
    "key_codes": "validation",
    "latest_week": "archive",
    "list_runs": "archive",
    "load_data": "loading",
    "load_summary": "health",
    "minutes_dir": "decision_log",
    "normalise_header": "sources",
    "position_in": "validation",
    "raw_header": "sources",
    "read_snapshot": "snapshot",
    "read_source": "sources",
    "read_table": "results",
    "save_table": "results",
    "snapshot_key": "snapshot",
    "snapshot_meta": "snapshot",
    "sniff_csv": "sources",
    "source_hashes": "snapshot",
    "table_path": "results",
    "type_table": "validation",
    "weekly_totals": "health",
    "write_document": "results",
    "write_meeting_pack": "meeting_pack",
    "write_snapshot": "snapshot",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
