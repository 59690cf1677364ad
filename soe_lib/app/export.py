"""The meeting as one PDF a director forwards: the first screen (headline, tiles, top decisions) and the whole
decision list, built from the same parts as the review app's page and printed by Debian's Chromium (the browser
the tests drive), headless and offline (``soe review --pdf WEEK``).

The page is a self-contained HTML file (inline styles and SVG, nothing fetched); Chromium prints it with
``--print-to-pdf``. Everything typed by a person or an extract is escaped, as on the page.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..core.formats import formatted
from ..io.decision_store import ActionLog, ActionLogError, default_url
from .panels import first_screen
from .review_data import ITEM_COLUMNS, ReviewWeek, action_counts, available_weeks, item_table, previous_figures

__all__ = ["ExportError", "chromium", "meeting_html", "meeting_pdf"]

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
# the browser never reaches out: no network services, no first-run or update traffic
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw")
PRINT_STYLE = """<style>
@page{size:A4 landscape;margin:10mm}
body{font-family:"DejaVu Sans",Arial,sans-serif;font-size:9pt;color:#222}
h1{font-size:14pt;margin:0 0 .3em 0}h2{font-size:11pt;margin:1em 0 .3em 0}
.soe-headline-text{font-size:10.5pt;margin:.2em 0 .5em 0}
.soe-tiles{display:flex;flex-wrap:wrap;gap:.4em;margin-bottom:.6em}
.soe-tile{flex:1 1 8em;padding:.3em .5em;border:1px solid #d8dde3;border-radius:5px;background:#fafbfc}
.soe-tile-label{font-size:8pt;font-weight:600}.soe-tile-covers{font-size:7pt;color:#666}.soe-tile-value{font-size:12pt;font-weight:600}
.soe-delta{font-size:7.5pt;color:#555}.soe-bad{color:#b30000}.soe-good{color:#1a7f37}
.soe-table{border-collapse:collapse;width:100%}.soe-table td,.soe-table th{padding:.2em .4em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
.soe-top-table caption{text-align:left;font-weight:600;font-size:11pt;padding:.2em 0}.soe-num{text-align:right}
tr{page-break-inside:avoid}
</style>"""


class ExportError(ValueError):
    """The meeting could not be exported (no such week, no browser, the browser failed): the message says which."""


def chromium() -> str:
    """The Chromium to print with: ``$SOE_CHROMIUM``, else Debian's (``/usr/bin/chromium``) or one on the PATH."""
    for candidate in (os.environ.get("SOE_CHROMIUM", ""), *CHROMIUM_CANDIDATES):
        found = shutil.which(candidate) if candidate else None
        if found:
            return found
    raise ExportError("no Chromium to print the PDF with: install Debian's chromium (make browser) or set SOE_CHROMIUM")


def meeting_html(out: Path, week: str) -> str:
    """The meeting as one HTML document: the first screen (the week, one sentence, the tiles, the top decisions, as the
    app shows them) and the whole decision list with why each item ranks where it does."""
    weeks = available_weeks(out)
    if week not in weeks:
        raise ExportError(f"no successful run of {week} in {out}" + (f" (weeks: {', '.join(weeks[:8])})" if weeks else ""))
    current = ReviewWeek(out / week)
    try:
        log = ActionLog(default_url(out))
    except ActionLogError:
        log = None  # the export still says everything but owners and action counts
    actions = log.frame() if log is not None else None
    sentence, tiles, top = first_screen(current, previous_figures(out, weeks, week, log), action_counts(log, week), None, actions, top=10)
    items, cur = current.items(), current.currency
    listed = item_table(items, current.inputs("products"), actions)
    if len(items) and "why" in items:
        listed = listed.assign(why=items["why"].fillna("").to_numpy())
    table = formatted(listed).rename(columns={**ITEM_COLUMNS, "why": "Why it ranks here"})
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>S&amp;OE meeting {html.escape(week)}</title>{PRINT_STYLE}</head><body>"
            f"<h1>S&amp;OE weekly meeting, {html.escape(week)}</h1>{sentence}"
            f"<div class='soe-tiles'>{tiles}</div>{top}<h2>The decision list (money in {html.escape(cur)})</h2>"
            + table.to_html(index=False, escape=True, border=0, classes="soe-table soe-list", na_rep="") + "</body></html>")


def meeting_pdf(out: Path, week: str | None = None, target: Path | None = None, timeout: float = 120.0) -> Path:
    """Print :func:`meeting_html` of ``week`` (None: the latest successful one) to ``target`` (default
    ``outputs/<week>/meeting-<week>.pdf``) with Chromium. Raises :class:`ExportError` (a ValueError) saying why not."""
    if week is None:
        weeks = available_weeks(out)
        if not weeks:
            raise ExportError(f"no successful weekly run in {out} yet: make one with soe run")
        week = weeks[0]
    document = meeting_html(out, week)
    target = Path(target) if target else out / week / f"meeting-{week}.pdf"
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="soe-pdf-") as tmp:
        page = Path(tmp) / "meeting.html"
        page.write_text(document, encoding="utf-8")
        printed = Path(tmp) / "meeting.pdf"
        env = {**os.environ, "HOME": tmp, "XDG_CONFIG_HOME": tmp, "XDG_CACHE_HOME": tmp}
        try:
            done = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={printed}", page.as_uri()],
                                  capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise ExportError(f"Chromium did not print the PDF within {timeout:.0f} s") from None
        if not printed.exists() or printed.stat().st_size == 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise ExportError(f"Chromium did not print the PDF (exit {done.returncode}: {last})")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(printed), target)  # whole or not at all: the file appears only once printed
    return target
