"""The review app: building blocks as units, and the real page in a real browser against a real Voila."""

from __future__ import annotations

import json
import shutil

import ipywidgets as widgets
import pandas as pd
import pytest

from soe_lib.review import EMPTY_MESSAGE, available_weeks, review_app, run_summary

from .browser import ARTIFACTS, browser_page, review_server


def _html(widget) -> str:
    """All HTML text in a widget tree."""
    if isinstance(widget, widgets.HTML):
        return widget.value
    return "".join(_html(c) for c in getattr(widget, "children", ()))


def test_no_run_yet_explains_how_to_make_one(tmp_path):
    app = review_app(tmp_path)
    assert "No successful weekly run yet" in _html(app) and "make run" in _html(app)


def test_weeks_newest_first_and_failed_runs_not_listed(weekly_run, tmp_path):
    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W47")
    m = json.loads((tmp_path / "2026-W47" / "manifest.json").read_text())
    (tmp_path / "2026-W47" / "manifest.json").write_text(json.dumps({**m, "week": "2026-W47"}))
    (tmp_path / "failed-runs" / "2026-W49-x").mkdir(parents=True)
    (tmp_path / "lab" / "2026-W48").mkdir(parents=True)
    assert available_weeks(tmp_path) == ["2026-W48", "2026-W47"]


def test_summary_tiles_match_the_manifest(weekly_run):
    _, out = weekly_run
    s = run_summary(out / "2026-W48")
    m = json.loads((out / "2026-W48" / "manifest.json").read_text())
    assert s["input_rows"] == sum(v["rows"] for v in m["inputs"].values()) and s["status"] == "succeeded"
    text = _html(review_app(out))
    assert f"{s['input_rows']:,}" in text


def test_data_text_is_escaped(weekly_run, tmp_path):
    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    issues = pd.DataFrame(
        {"severity": ["warning"], "table": ["products"], "column": ["sku"], "rule": ["r"], "message": ["<script>alert(1)</script>"]}
    )
    issues.to_parquet(tmp_path / "2026-W48" / "tables" / "validation_issues.parquet")
    text = _html(review_app(tmp_path))
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


@pytest.mark.browser
def test_review_page_renders_in_chromium(weekly_run):
    _, out = weekly_run
    with review_server(out) as url, browser_page() as page:
        page.goto(url, timeout=90_000)
        page.locator(".soe-week select").wait_for(timeout=90_000)
        assert page.get_by_role("heading", name="S&OE weekly review").count() == 1
        assert page.locator(".soe-week select").input_value() == "2026-W48"
        body = page.inner_text("body")
        assert "Traceback" not in body and "Error" not in body
        assert "What was loaded" in body and "demand_plan" in body
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "review-main.png"), full_page=True)


@pytest.mark.browser
def test_review_page_without_runs_says_how_to_start(tmp_path):
    with review_server(tmp_path) as url, browser_page() as page:
        page.goto(url, timeout=90_000)
        page.get_by_text("No successful weekly run yet").wait_for(timeout=90_000)
        assert "make run" in page.inner_text("body")
