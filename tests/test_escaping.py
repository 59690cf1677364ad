"""Nothing a person typed or an extract held runs as script: every text column of every input table and
every typed field carries markup that would run if inserted as HTML, and no dialog fires on the review
app (Voila, in Chromium) or on any HTML copy of the notebooks."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from soe_lib.cli import main as soe
from soe_lib.core.contract import TABLES
from soe_lib.io import ActionLog, default_url, latest_week, read_table
from soe_lib.sample import write_sample

from .browser import browser_page, review_server
from .conftest import run_soe

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _payload(tag: str) -> str:
    """Markup that runs when inserted as HTML: an image that fails to load and says so, and a script."""
    return f"<img src=x onerror=alert('{tag}')><script>alert('{tag}')</script>"


def _marked_company(folder) -> dict[str, str]:
    """The small sample company with every text and code column carrying :func:`_payload` (the same code
    changed alike in every table, so the references still hold); the kind and firm columns keep their
    allowed values. Returns one marked value of each column, to find on the pages."""
    write_sample(folder, skus=8, locations=2, seed=7)
    changed: dict[str, dict[str, str]] = {}
    found = {}
    for name, table in TABLES.items():
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in table.columns:
            if col.name not in frame or col.kind not in ("code", "text") or col.allowed:
                continue
            key = "sku" if col.name == "substitute_sku" else col.name
            mapping = changed.setdefault(key, {})
            for value in frame[col.name].unique():
                if value and value not in mapping:
                    mapping[value] = f"{value}{_payload(key)}"
            frame[col.name] = frame[col.name].map(lambda v, m=mapping: m.get(v, v))
            found[col.name] = frame[col.name][frame[col.name] != ""].iloc[0] if (frame[col.name] != "").any() else ""
        frame.to_csv(path, index=False)
    return found


def _dialogs(page) -> list[str]:
    fired: list[str] = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    return fired


def test_no_typed_or_extracted_text_runs_script_on_any_page_or_html_copy(tmp_path):
    data, out = tmp_path / "data", tmp_path / "outputs"
    marked = _marked_company(data)
    res = run_soe("run", "--data", str(data), "--out", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    week = latest_week(out)
    items = read_table(out / week / "tables", "decision_list")
    sl = items[items["kind"] == "sku-location"]
    assert len(sl) >= 2 and sl["sku"].str.contains("<img").all()
    for k, item in enumerate(sl["item_id"].head(2)):  # typed fields: owner, note, who, through the command line
        assert soe(["actions", "record", "--week", week, "--item", item, "--out", str(out), "--owner", _payload(f"owner{k}"),
                    "--note", _payload("note"), "--by", _payload("by")]) == 0
    ActionLog(default_url(out)).save_scenario(week, _payload("scenario"), [{"kind": "demand", "sku": sl["sku"].iloc[0], "location": sl["location"].iloc[0],
                                                                           "pct": 10}], by=_payload("by"))
    copies = sorted((out / week / "notebooks").glob("*.html"))
    assert len(copies) == 5
    with browser_page() as page:
        fired = _dialogs(page)
        shown = []
        for copy in copies:  # the notebooks' HTML copies: tables of suppliers, SKUs, orders, families
            page.goto(copy.as_uri())
            page.wait_for_timeout(800)
            if "<img src=x" in page.inner_text("body"):  # the markup is there, as text
                shown.append(copy.stem)
        assert fired == [], fired
        assert {"02_demand_sensing", "03_supply_gaps", "04_financial_impact"} <= set(shown)
    shutil.copy(out / "actions.db", tmp_path / "actions-copy.db")
    with review_server(out) as url, browser_page() as page:
        fired = _dialogs(page)
        page.goto(url, timeout=90_000)
        page.locator(".soe-tiles .soe-tile").first.wait_for(timeout=90_000)
        page.locator(".soe-grid table.dataTable").first.wait_for(timeout=30_000)
        grid = page.locator(".soe-grid tbody").inner_text()
        assert "onerror=alert('owner0')" in grid and "onerror=alert('sku')" in grid  # owner and SKU shown as text
        for k in range(2):  # drill-downs: the item's orders, options, causes, capacity
            page.locator(".soe-grid tbody tr", has_text="product at location").nth(k).click()
            page.locator(".soe-detail .soe-chart svg").nth(1).wait_for(timeout=30_000)
        page.locator(".soe-scenario-compare").click()
        page.wait_for_timeout(1500)
        body = page.inner_text("body")
        assert "alert('scenario')" in body or "alert('note')" in body
        page.wait_for_timeout(1000)
        assert fired == [], fired
    assert marked["supplier"] and marked["description"]  # the columns that were marked
