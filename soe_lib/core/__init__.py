"""The core of the workbench, used by every layer: ISO weeks, the input and output contracts, parameter
declarations, where things live, the validated snapshot type, and the (series x week) matrix."""

from .contract import MAX_NUMBER, SUPPLY_KINDS, TABLES, Column, Table, contract_markdown
from .dataset import COMPACT_TABLES, SERIES_TABLES, Dataset, LazyTables, Source
from .excel import FORMULA_STARTS, text_cells_as_text
from .formats import EXCEL_FORMATS, PY_FORMATS, column_kind, format_value, formatted, header, headers, styled
from .items import ITEM_PREFIX, WORSE_SHARE, WORSE_UNITS, eased, item_id, worse
from .matrix import WeekMatrix, history_matrix, long_frame, row_positions, to_matrix
from .outputs import DOCUMENTS, OUTPUTS, OutCol, OutputContractError, OutputTable, check_table, outputs_markdown, tables_of_step
from .params import CycleParams, EngineParams, FocusParams, ParameterError, ParamSpec, check_value, param, param_specs
from .paths import (
    PACKAGE_DIR,
    REVIEW_NOTEBOOK,
    catalogues_dir,
    notebooks_dir,
    outputs_dir,
    parameters_dir,
    sample_dir,
    source_checkout,
    workspace,
)
from .problems import MAX_ROWS_SHOWN, Problem, Severity, ValidationError, ValidationReport, problem_for_rows
from .projection import Projection, project, runs, weeks_of_supply
from .text import joined_per_group
from .weeks import ISO_WEEK, parse_week, parse_weeks, week_label, week_labels, weeks_between

__all__ = [
    "Column",
    "CycleParams",
    "EngineParams",
    "DOCUMENTS",
    "Dataset",
    "joined_per_group",
    "LazyTables",
    "EXCEL_FORMATS",
    "FORMULA_STARTS",
    "FocusParams",
    "ISO_WEEK",
    "ITEM_PREFIX",
    "MAX_NUMBER",
    "MAX_ROWS_SHOWN",
    "OUTPUTS",
    "COMPACT_TABLES",
    "OutCol",
    "OutputContractError",
    "OutputTable",
    "PACKAGE_DIR",
    "PY_FORMATS",
    "ParamSpec",
    "ParameterError",
    "Problem",
    "Projection",
    "REVIEW_NOTEBOOK",
    "SERIES_TABLES",
    "SUPPLY_KINDS",
    "Severity",
    "Source",
    "TABLES",
    "Table",
    "ValidationError",
    "ValidationReport",
    "WORSE_SHARE",
    "WORSE_UNITS",
    "WeekMatrix",
    "catalogues_dir",
    "check_table",
    "check_value",
    "column_kind",
    "contract_markdown",
    "eased",
    "format_value",
    "formatted",
    "header",
    "headers",
    "history_matrix",
    "item_id",
    "long_frame",
    "notebooks_dir",
    "outputs_dir",
    "outputs_markdown",
    "param",
    "param_specs",
    "parameters_dir",
    "parse_week",
    "parse_weeks",
    "problem_for_rows",
    "project",
    "row_positions",
    "runs",
    "sample_dir",
    "source_checkout",
    "styled",
    "tables_of_step",
    "text_cells_as_text",
    "to_matrix",
    "week_label",
    "week_labels",
    "weeks_between",
    "weeks_of_supply",
    "workspace",
    "worse",
]
