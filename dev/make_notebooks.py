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
nbformat.write(review, ROOT / "05_weekly_review.ipynb")
