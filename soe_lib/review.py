"""The weekly review meeting app (served by Voila from ``notebooks/05_weekly_review.ipynb``).

It reads only what the weekly run wrote in ``outputs/<week>/``, so it opens fast. Everything a
viewer sees that came from data or people is escaped (``html.escape`` / ``to_html(escape=True)``):
text is shown as text, never interpreted as HTML.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from .paths import outputs_dir
from .runner import list_runs

__all__ = ["available_weeks", "run_summary", "review_app", "EMPTY_MESSAGE"]

EMPTY_MESSAGE = (
    "No successful weekly run yet. Make one with <code>make run</code> (or <code>soe run</code>), "
    "then reload this page."
)


def available_weeks(out: Path | None = None) -> list[str]:
    """Weeks with a successful run, newest first."""
    return [r["week"] for r in list_runs(out) if r.get("status") == "succeeded"]


def run_summary(folder: Path) -> dict[str, object]:
    """Headline facts of one run folder, from its manifest and data-health table."""
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    return {
        "week": manifest["week"],
        "status": manifest["status"],
        "finished_at": manifest.get("finished_at", ""),
        "seconds": manifest.get("seconds", 0.0),
        "notebooks": len(manifest.get("notebooks", [])),
        "warnings": manifest.get("validation", {}).get("warnings", 0),
        "input_rows": sum(v.get("rows", 0) for v in manifest.get("inputs", {}).values()),
    }


def _tile(label: str, value: object) -> widgets.HTML:
    return widgets.HTML(
        f"<div class='soe-tile'><div class='soe-tile-label'>{html.escape(label)}</div>"
        f"<div class='soe-tile-value'>{html.escape(str(value))}</div></div>"
    )


def _table(frame: pd.DataFrame) -> widgets.HTML:
    return widgets.HTML(frame.to_html(index=False, escape=True, border=0, classes="soe-table"))


STYLE = """<style>
.soe-tile{display:inline-block;min-width:9em;margin:0 .8em .8em 0;padding:.6em .9em;border:1px solid #ddd;border-radius:6px}
.soe-tile-label{font-size:.8em;color:#555}.soe-tile-value{font-size:1.4em;font-weight:600}
.soe-table{border-collapse:collapse;font-size:.9em}.soe-table td,.soe-table th{padding:.2em .7em;border-bottom:1px solid #eee;text-align:left}
</style>"""


def review_app(out: str | Path | None = None, week: str | None = None) -> widgets.Widget:
    """The meeting app: a week selector (latest successful week first) and the selected week's summary."""
    out = Path(out) if out else outputs_dir()
    weeks = available_weeks(out)
    title = widgets.HTML(STYLE)
    if not weeks:
        return widgets.VBox([title, widgets.HTML(f"<p class='soe-empty'>{EMPTY_MESSAGE}</p>")])
    selector = widgets.Dropdown(options=weeks, value=week if week in weeks else weeks[0], description="Week")
    selector.add_class("soe-week")
    body = widgets.VBox()

    def show(_change: object = None) -> None:
        folder = out / selector.value
        summary = run_summary(folder)
        tiles = widgets.HBox(
            [
                _tile("Run status", summary["status"]),
                _tile("Finished", summary["finished_at"]),
                _tile("Run time (s)", summary["seconds"]),
                _tile("Input rows", f"{summary['input_rows']:,}"),
                _tile("Data warnings", summary["warnings"]),
            ]
        )
        parts: list[widgets.Widget] = [tiles]
        health = folder / "tables" / "data_health.parquet"
        if health.exists():
            parts += [widgets.HTML("<h3>What was loaded</h3>"), _table(pd.read_parquet(health))]
        issues = folder / "tables" / "validation_issues.parquet"
        if issues.exists():
            frame = pd.read_parquet(issues)
            frame = frame[frame["severity"] != "info"]
            parts += [widgets.HTML("<h3>Data warnings</h3>")]
            parts += [_table(frame[["table", "column", "rule", "message"]]) if len(frame) else widgets.HTML("<p>none</p>")]
        body.children = parts

    selector.observe(show, names="value")
    show()  # initial value set after observe, so the first render is complete
    return widgets.VBox([title, selector, body])
