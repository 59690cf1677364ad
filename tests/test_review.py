"""The review app: building blocks as units, and the real page in a real browser against a real Voila."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest

from soe_lib.app import ReviewApp
from soe_lib.app.panels import tile_html
from soe_lib.app.review import EMPTY_MESSAGE
from soe_lib.app.review_data import ReviewWeek, available_weeks, filter_items, kpi_tiles, what_if
from soe_lib.core.kernel import Policy
from soe_lib.core.labels import LABELS
from soe_lib.core.weeks import parse_week, parse_weeks
from soe_lib.io import latest_week

from .browser import browser_page, outside, review_server
from .conftest import ROOT

# the screenshots docs/review-app.md shows: written there by `make screenshots` only (a test run never writes into
# tracked files); otherwise beside the other test artifacts
DOCS_IMAGES = ROOT / "docs" / "images" if os.environ.get("SOE_SCREENSHOTS") == "docs" else ROOT / "test-artifacts"


def _html(widget) -> str:
    """All HTML text in a widget tree."""
    if isinstance(widget, widgets.HTML):
        return widget.value
    return "".join(_html(c) for c in getattr(widget, "children", ()))


# --- units ----------------------------------------------------------------------------------------------
def test_no_run_yet_explains_how_to_make_one(tmp_path):
    app = ReviewApp(tmp_path)
    assert "No successful weekly run yet" in _html(app.widget) and "make run" in EMPTY_MESSAGE


def test_weeks_newest_first_and_failed_runs_not_listed(weekly_run, tmp_path):
    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W47")
    m = json.loads((tmp_path / "2026-W47" / "manifest.json").read_text())
    (tmp_path / "2026-W47" / "manifest.json").write_text(json.dumps({**m, "week": "2026-W47"}))
    (tmp_path / "failed-runs" / "2026-W49-x").mkdir(parents=True)
    (tmp_path / "lab" / "2026-W48").mkdir(parents=True)
    assert available_weeks(tmp_path) == ["2026-W48", "2026-W47"]


def test_kpi_tiles_and_their_change():
    tiles = kpi_tiles({"margin at risk": 120.0, "plan accuracy": 0.8}, {"margin at risk": 100.0, "plan accuracy": 0.75}, {"open actions": 3})
    t = tiles.set_index("kpi")
    assert t.loc["margin at risk", "change"] == 20.0 and t.loc["open actions", "value"] == 3
    assert np.isnan(t.loc["overdue actions", "change"])
    text = tile_html(tiles, currency="EUR", horizon=13)
    assert "+20 since last meeting" in text and "soe-bad" in text  # more margin at risk is bad news
    assert "80.0%" in text and "+5.0 pts since last meeting" in text  # a share's change in points, not percent
    assert "120 EUR" in text and "EUR · next 13 weeks" in text and "past weeks of actuals" in text  # currency and the weeks it covers
    assert "title='Margin (price - cost) of the units at risk" in text  # the definition as the tooltip
    # a bias is worse the further from zero, either way: +3.7 % -> +3.8 % is bad news, -3.8 % -> -3.7 % good
    from soe_lib.app.panels import tile_change

    assert tile_change("plan bias", 0.038, 0.001) == ("+0.1 pts", True)
    assert tile_change("plan bias", -0.037, 0.001) == ("+0.1 pts", False)
    assert tile_change("plan bias", -0.038, -0.001)[1] and not tile_change("plan accuracy", 0.81, 0.01)[1]


def test_filters_narrow_the_list():
    items = pd.DataFrame({"family": ["F1", "F1", "F2"], "location": ["L1", "L2", "L1"], "cause": ["a", "b", "a"], "severity": ["high", "low", "high"]})
    assert len(filter_items(items)) == 3
    assert len(filter_items(items, family="F1")) == 2
    assert len(filter_items(items, family="F1", location="L1", cause="a", severity="high")) == 1


def test_what_if_math():
    """15 on hand, 10 a week, 30 arriving in W50: the kernel's lost sales (the run's default policy)."""
    weeks = [f"2026-W{w}" for w in (48, 49, 50, 51)]
    rows = {
        "projection": pd.DataFrame({"sku": "A", "location": "L", "week": weeks, "demand_qty": [10.0] * 4, "constrained_receipts_qty": [0.0, 0.0, 30.0, 0.0],
                                    "constrained_projected_on_hand": [5.0, -5.0, 15.0, 5.0]}),
        "orders": pd.DataFrame({"order_id": ["PO-1"], "eta_week": ["2026-W50"], "qty": [30.0], "constrained_qty": [30.0]}),
        "inventory": pd.DataFrame({"on_hand": [15.0]}),
        "product": pd.DataFrame({"unit_price": [10.0], "unit_cost": [4.0]}),
    }
    base = what_if(rows)
    np.testing.assert_allclose(base.projected, [5, -5, 15, 5])
    assert base.shortage_qty == 5 and base.margin_at_risk == 30 and base.revenue_at_risk == 50
    assert what_if(rows, move_order="PO-1", move_weeks=-1).shortage_qty == 0  # lands in W49
    later = what_if(rows, move_order="PO-1", move_weeks=1)
    np.testing.assert_allclose(later.projected, [5, -5, -15, 5])  # W51: -15 + 30 - 10
    assert later.shortage_qty == 15
    more = what_if(rows, demand_pct=50)  # 15 a week: 0, -15, 0, -15
    np.testing.assert_allclose(more.projected, [0, -15, 0, -15])
    assert more.shortage_qty == 15  # lost sales: 15 in W49, the receipt serves W50 and W51
    assert what_if(rows, transfer_qty=5, transfer_week=1).shortage_qty == 0
    out = what_if(rows, transfer_qty=-10, transfer_week=0)  # 10 sent away in W48
    np.testing.assert_allclose(out.projected, [-5, -15, 5, -5])
    assert out.shortage_qty == 15  # 5 in W48 and 10 in W49; W51 is served from the receipt
    waiting = what_if({**rows, "policy": Policy(np.ones(1), 0.1)})  # every customer waits: owed 5 in W49, none at the end
    assert waiting.shortage_qty == 0 and waiting.margin_at_risk == pytest.approx(0.1 * 10 * 5)


def test_the_what_if_values_a_change_as_finance_values_the_same_move(weekly_run):
    """Every move the week's countermeasures list, applied in the app's what-if (an order moved, units
    landing in a week), changes the margin at risk by the option's own margin_recovered."""
    _, out = weekly_run
    week = ReviewWeek(out / latest_week(out))
    options = week.table("countermeasures")
    weeks = pd.DatetimeIndex(sorted(parse_weeks(week.table("inventory_projection")["week"]).unique()))
    checked = 0
    for o in options[options["feasible"] & ~options["action"].isin(["allocate", "accept", "shape_demand"])].itertuples():
        rows = week.series_rows(o.sku, o.location)
        at = int((parse_week(o.effective_week) - weeks[0]).days // 7)
        if o.action in ("expedite", "switch_mode", "pull_in"):
            eta = parse_week(rows["orders"].set_index("order_id").loc[o.order_id, "eta_week"])
            change = {"moves": [(o.order_id, at - int((max(eta, weeks[0]) - weeks[0]).days // 7), o.qty)]}
        else:
            change = {"transfers": [(o.qty, at)]}
        gained = what_if(rows).margin_at_risk - what_if(rows, **change).margin_at_risk
        assert gained == pytest.approx(o.margin_recovered, rel=1e-9, abs=1e-6), o
        checked += 1
    assert checked >= 10


def test_app_shows_the_run_and_escapes_what_people_typed(weekly_run, tmp_path):
    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    app = ReviewApp(tmp_path)
    week = ReviewWeek(tmp_path / "2026-W48")
    margin = week.table("financial_impact")["margin_at_risk"].sum()
    assert f"{margin:,.0f}" in app.tiles.value
    assert len(app.decisions.shown) == len(week.table("decision_list")) and app.decisions.grid is not None
    app.form["action"].value = "<script>alert(1)</script>"
    app.form["owner"].value, app.form["due"].value = "Ann", "2026-W50"
    app.record_button.click()  # no item selected: nothing is recorded, and the message says what to do
    assert "Select an item of the decision list first" in app.record.message.value and "Nothing decided" in _html(app.week_box)
    app.select_item(int(app.decisions.shown.index[0]))
    app.form["action"].value = "<script>alert(1)</script>"
    app.form["owner"].value, app.form["due"].value = "Ann", "2026-W50"
    app.record_button.click()
    text = _html(app.week_box)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    app.record.minutes_button.click()  # minutes go beside the runs, not into the week's run folder
    assert "alert(1)" in (tmp_path / "minutes" / "2026-W48" / "minutes.md").read_text()
    assert not list((tmp_path / "2026-W48").rglob("minutes*"))


def test_the_app_sets_a_saved_scenario_beside_the_week_and_the_slipping_inbound_with_its_lanes(weekly_run, tmp_path):
    """A scenario saved with the week (as soe scenario run saves it: tests/test_logistics.py runs one) shows side by
    side with the week as run, its name and ports escaped as typed; the inbound at risk of slipping shows its money
    by lane, port and carrier."""
    from soe_lib.io.results import save_table
    from soe_lib.run.scenario import MEASURES

    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48", ignore=shutil.ignore_patterns("scenarios"))
    name = "Hamburg <b>shut</b>"
    c = pd.DataFrame({"scenario": name, "row": [0, 1, 2], "part": ["base", "event 1", "scenario"],
                      "what": ["the week as run", "port Hamburg closed 2026-W49 to 2027-W02", name], "kind": ["level", "change", "level"],
                      **{m: [100.0, 50.0, 150.0] for m in MEASURES}})
    saved = tmp_path / "2026-W48" / "scenarios" / "hamburg-b-shut-b"
    save_table(saved, "scenario_comparison", c)
    save_table(saved, "scenario_lines", pd.DataFrame({"scenario": [name], "line_id": [3], "order_id": ["PO-<i>1</i>"], "sku": ["S"], "location": ["L"],
                                                      "supplier": ["X"], "mode": ["ocean"], "origin": ["Busan"], "destination": ["Hamburg"],
                                                      "carrier": ["MSC"], "qty": [5.0], "eta_week": [parse_week("2026-W50")],
                                                      "scenario_eta_week": [parse_week("2027-W03")], "moved_weeks": [5], "events": ["1"]}))
    app = ReviewApp(tmp_path)
    shown = app.logistics.scenarios.value
    assert "Scenario Hamburg &lt;b&gt;shut&lt;/b&gt;" in shown and "<b>shut" not in shown and "PO-&lt;i&gt;1" in shown
    assert f"USD {c['margin_at_risk'].iloc[0]:,.0f}" in shown and f"USD {c['margin_at_risk'].iloc[-1]:,.0f}" in shown
    assert "Event 1: port Hamburg closed 2026-W49 to 2027-W02" in shown and f"{int(c['lines_moved'].iloc[-1])} inbound lines moved" in shown
    week = ReviewWeek(tmp_path / "2026-W48")
    risk = week.table("logistics_risk")
    slipping = app.logistics.slipping.value
    assert "Customers:" in app.service.body.value and "OTIF of the last 4 weeks" in app.service.body.value  # projected and actual
    lanes = risk[risk["by"] == "lane"]  # the sample's planted congestion: Busan > Hamburg
    assert len(lanes) and f"USD {lanes['margin_at_risk'].sum():,.0f} margin at risk" in slipping and html.escape(lanes["name"].iloc[0]) in slipping


def test_the_decision_table_says_rank_in_hand_and_sop_with_description_owner_and_formats():
    from soe_lib.app.panels import grid_payload
    from soe_lib.app.review_data import item_table

    items = pd.DataFrame({"rank": pd.array([1, pd.NA, pd.NA], dtype="Int64"), "track": ["execution", "execution", "sop"], "in_hand": [False, True, False],
                          "kind": ["sku-location", "capacity", "persistent_bias"], "sku": ["A", "", "B"], "location": ["L1", "", "L2"],
                          "resource": ["", "R1", ""], "week": pd.to_datetime(["2026-11-30", "2026-12-07", "2026-11-23"]), "money_at_risk": [1234.4, 50.0, 9.0],
                          "shortage_qty": [12.0, 0.0, 0.0], "cause": ["supply late", "", "over-forecast"], "best_action": ["expedite", "", ""],
                          "action_net_benefit": [300.5, np.nan, np.nan], "item_id": ["SL-1", "CAP-1", "SOP-1"]})
    products = pd.DataFrame({"sku": ["A", "B"], "description": ["Cola 1l", "Soap"]})
    actions = pd.DataFrame({"id": [3], "item_id": ["CAP-1"], "owner": ["Ann"], "status": ["in progress"]})
    table = item_table(items, products, actions)
    assert table["place"].tolist() == ["1", "in hand", "S&OP"] and table["description"].tolist() == ["Cola 1l", "", "Soap"]
    assert table.loc[1, "owner"] == "Ann" and table.loc[1, "status"] == "in progress" and table.loc[1, "item"] == "R1"
    rows, numeric = grid_payload(table)
    cols = list(table.columns)
    assert rows[0][cols.index("money_at_risk")] == ["1,234", 1234.4] and rows[0][cols.index("week")] == "2026-W49"
    assert rows[0][cols.index("shortage_qty")] == ["12", 12.0] and cols.index("money_at_risk") in numeric and cols.index("place") not in numeric


def test_drilldown_shows_the_joint_plan_and_the_weekly_causes_and_the_decision_keeps_the_item(weekly_run, tmp_path):
    from soe_lib.io import ActionLog

    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    app = ReviewApp(tmp_path)
    week = ReviewWeek(tmp_path / "2026-W48")
    plan = week.table("countermeasures")
    planned = plan[plan["chosen_qty"] > 0]
    items = week.items()
    pick = items[items["sku"].isin(planned["sku"]) & items["location"].isin(planned["location"]) & (items["kind"] == "sku-location")]
    pick = pick[[bool(((planned["sku"] == r.sku) & (planned["location"] == r.location)).any()) for r in pick.itertuples()]]
    assert len(pick) > 0
    app.select_item(int(app.decisions.shown.index[app.decisions.shown["item_id"] == pick.iloc[0]["item_id"]][0]))
    text = _html(app.drilldown)
    assert "joint plan for this item" in text and "Why it is short, week by week" in text and "soe-causes" in "".join(
        " ".join(w._dom_classes) for w in app.drilldown.detail.children)
    chosen = app.record.form["choice"].value
    assert chosen and "(plan:" in dict((v, k) for k, v in app.record.form["choice"].options)[chosen]
    app.form["owner"].value, app.form["due"].value = "Ann", "2026-W50"
    app.record_button.click()
    saved = ActionLog(app.actions.url).decided_in("2026-W48").iloc[-1]
    row = pick.iloc[0]
    mine = planned[(planned["sku"] == row["sku"]) & (planned["location"] == row["location"])].sort_values("chosen_qty", ascending=False).iloc[0]
    assert saved["item_id"] == row["item_id"] and saved["action_type"] in set(planned["action"])
    assert saved["qty"] > 0 and saved["item_shortage_qty"] == pytest.approx(row["shortage_qty"]) and mine["chosen_qty"] > 0


# --- the real page ---------------------------------------------------------------------------------------
def _wait_idle(page, selector=".soe-tiles .soe-tile", timeout=90_000):
    page.locator(selector).first.wait_for(timeout=timeout)


@pytest.mark.browser
def test_review_page_in_chromium(weekly_run, tmp_path):
    _, src = weekly_run
    out = tmp_path / "outputs"
    shutil.copytree(src / "2026-W48", out / "2026-W48")
    week = ReviewWeek(out / "2026-W48")
    margin = f"{week.table('financial_impact')['margin_at_risk'].sum():,.0f}"
    revenue = f"{week.table('financial_impact')['revenue_at_risk'].sum():,.0f}"
    accuracy = f"{week.table('forecast_accuracy_by_total')['accuracy'].iloc[0]:.1%}"
    with review_server(out) as url, browser_page() as page:
        page.goto(url, timeout=90_000)
        _wait_idle(page)
        body = page.inner_text("body")
        assert "Traceback" not in body and "Something went wrong" not in body
        assert page.locator(".soe-week select").input_value() == "2026-W48"
        assert margin in page.locator("[data-kpi='margin at risk']").inner_text()
        assert revenue in page.locator("[data-kpi='revenue at risk']").inner_text()
        assert accuracy in page.locator("[data-kpi='plan accuracy']").inner_text()

        # the first screen, as a director opens it at 1280x720: one sentence, the tiles, at least five decisions, no scrolling
        DOCS_IMAGES.mkdir(exist_ok=True)  # the screenshots docs/review-app.md shows, taken by this test from the real page
        page.set_viewport_size({"width": 1280, "height": 720})
        page.evaluate("window.scrollTo(0, 0)")
        top = page.locator(".soe-top .soe-top-row")
        page.screenshot(path=str(DOCS_IMAGES / "review-overview.png"))
        boxes = [top.nth(i).bounding_box() for i in range(top.count())]
        assert len([b for b in boxes if b and b["y"] >= 0 and b["y"] + b["height"] <= 720]) >= 5, boxes
        headline = page.locator(".soe-headline").inner_text()
        assert f"{margin} USD margin at risk over the next 13 weeks" in headline and "decisions to take" in headline
        assert "USD · next 13 weeks" in page.locator("[data-kpi='margin at risk']").inner_text()
        assert page.locator("[data-kpi='margin at risk']").get_attribute("title").startswith("Margin (price - cost)")
        assert {"Item", "What to do", "Why it ranks here", "Money at risk (USD)", "Owner"} <= set(page.locator(".soe-top th").all_inner_texts())
        assert "score" in top.first.inner_text()  # why it ranks there, in the score's parts
        page.set_viewport_size({"width": 1280, "height": 900})
        # people read words: none of the catalogue's codes anywhere on the page (nor True/False)
        text = page.inner_text("body")
        codes = [c for c in LABELS if re.search(r"[_\-\d]", c) and LABELS[c] != c]
        assert [c for c in codes if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)] == [] and not re.search(r"\b(True|False)\b", text)
        # where the money is: every week from the first gap's to the last on the axis (none skipped)
        labels = re.findall(r"20\d\d-W\d\d", page.locator(".soe-by-week").inner_text())
        weeks = list(dict.fromkeys(labels))
        assert len(weeks) >= 2 and all((parse_week(b) - parse_week(a)).days == 7 for a, b in zip(weeks, weeks[1:], strict=False)), weeks
        assert page.locator(".soe-overview .soe-by-cause svg").count() == 1 and page.locator(".soe-overview .soe-by-week svg").count() == 1
        assert "W4" in page.locator(".soe-by-week").inner_text() or "W5" in page.locator(".soe-by-week").inner_text()  # ISO weeks on the axis
        grid = page.locator(".soe-grid table.dataTable").first
        grid.wait_for(timeout=30_000)
        head = page.locator(".soe-grid .dt-scroll-head thead th")  # the visible header row (DataTables keeps a sizing copy)
        headers = head.all_inner_texts()
        assert {"#", "Item", "Description", "Money at risk", "Recommended action", "Owner"} <= {h.strip() for h in headers}
        assert page.locator(".soe-grid caption").inner_text().startswith("The week's decision list")  # said to screen readers
        rows = page.locator(".soe-grid tbody tr")
        first = rows.first.inner_text()
        assert re.search(r"\d{1,3}(,\d{3})+|\b\d{1,3}\b", first) and "2026-W" in first  # money with separators, ISO weeks

        # sorting by money puts the largest first (the values sort as numbers, not as text)
        money_col = [h.strip() for h in headers].index("Money at risk")
        sort = head.nth(money_col).locator(".dt-column-order")  # a button with a label, reachable by keyboard
        assert sort.get_attribute("role") == "button" and "Money at risk" in sort.get_attribute("aria-label")
        sort.click()
        sort.press("Enter")  # the second time by keyboard: descending
        page.wait_for_function("document.querySelector('.soe-grid .dt-scroll-head th.dt-ordering-desc') !== null", timeout=10_000)
        shown = [float(t.replace(",", "") or 0) for t in page.locator(f".soe-grid tbody tr td:nth-child({money_col + 1})").all_inner_texts()]
        assert shown == sorted(shown, reverse=True) and len(shown) > 3

        # selecting a row opens its drill-down, with both charts
        page.locator(".soe-detail").get_by_text("Select an item").wait_for(timeout=30_000)
        page.locator(".soe-grid tbody tr", has_text="product at location").first.click()
        page.locator(".soe-detail .soe-chart svg").nth(1).wait_for(timeout=30_000)
        page.locator(".soe-grid").screenshot(path=str(DOCS_IMAGES / "review-decision-list.png"))
        page.locator(".soe-detail .soe-chart").first.scroll_into_view_if_needed()
        page.screenshot(path=str(DOCS_IMAGES / "review-drilldown.png"))

        # filtering narrows the list
        before = rows.count()
        causes = page.locator(".soe-filter-cause select option").all_inner_texts()
        page.locator(".soe-filter-cause select").select_option(label=causes[1])
        page.wait_for_function(f"document.querySelectorAll('.soe-grid tbody tr').length < {before}", timeout=30_000)

        # a what-if changes the shortage shown
        page.locator(".soe-filter-cause select").select_option(label="all")
        page.wait_for_function(f"document.querySelectorAll('.soe-grid tbody tr').length == {before}", timeout=30_000)
        page.locator(".soe-grid tbody tr", has_text="product at location").first.click()
        shortage = page.locator(".soe-whatif-shortage")
        shortage.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        start = shortage.inner_text()
        qty = page.locator(".soe-whatif-transfer_qty input")
        qty.fill("-100000")  # send (almost) everything away: the shortage must grow
        qty.press("Enter")
        page.wait_for_function(
            "([sel, old]) => document.querySelector(sel) && document.querySelector(sel).innerText !== old",
            arg=[".soe-whatif-shortage", start], timeout=30_000,
        )
        assert float(shortage.inner_text().replace(",", "")) > float(start.replace(",", ""))

        # the change goes into a named scenario, saved, and compared side by side with the base plan
        page.locator(".soe-scenario-add").click()
        page.locator(".soe-scenario-pending").get_by_text("transfer").wait_for(timeout=30_000)
        page.locator(".soe-scenario-name input").fill("send stock away")
        page.locator(".soe-scenario-save").click()
        page.locator(".soe-scenario-pending").get_by_text("saved").wait_for(timeout=30_000)
        page.locator(".soe-scenario-compare").click()
        table = page.locator(".soe-scenario-comparison table")
        table.wait_for(timeout=30_000)
        assert "Base: units short" in table.inner_text() and "send stock away: units short" in table.inner_text()
        page.locator(".soe-scenario-comparison").screenshot(path=str(DOCS_IMAGES / "review-scenarios.png"))

        # record a decision with typed <script>: shown as text, still there after a reload
        page.locator(".soe-form-action input").fill("<script>window.__pwned=1</script> expedite")
        page.locator(".soe-form-owner input").fill("Ann")
        page.locator(".soe-form-due input").fill("next friday")  # refused, with the rule: overdue tracking counts weeks
        page.get_by_role("button", name="Record decision").click()
        page.locator(".soe-form-message").get_by_text("must be an ISO week").wait_for(timeout=30_000)
        page.locator(".soe-form-due input").fill("2026-W47")  # before the meeting
        page.get_by_role("button", name="Record decision").click()
        page.locator(".soe-form-message").get_by_text("before the meeting week").wait_for(timeout=30_000)
        page.locator(".soe-form-due input").fill("2026-W50")
        page.get_by_role("button", name="Record decision").click()
        page.get_by_text("recorded:").wait_for(timeout=30_000)
        page.reload()
        _wait_idle(page)
        page.locator(".soe-week-actions").get_by_text("<script>window.__pwned=1</script> expedite").wait_for(timeout=60_000)
        assert page.evaluate("window.__pwned === undefined")
        assert page.requested and not outside(page.requested)  # nothing on the page loads from the internet (a CDN's stylesheet did)

    # ... and after a server restart
    with review_server(out) as url, browser_page() as page:
        page.goto(url, timeout=90_000)
        _wait_idle(page)
        page.locator(".soe-week-actions").get_by_text("owner Ann").wait_for(timeout=60_000)
        # an HTML copy of a notebook, opened from disk as a reader would: nothing requested beyond the file
        copies = sorted((out / "2026-W48" / "notebooks").glob("*.html"))
        assert copies
        for copy in copies:
            page.requested.clear()
            page.goto(copy.as_uri(), wait_until="load", timeout=60_000)
            assert page.requested and not outside(page.requested), copy.name


@pytest.mark.browser
def test_review_page_without_runs_says_how_to_start(tmp_path):
    with review_server(tmp_path) as url, browser_page() as page:
        page.goto(url, timeout=90_000)
        page.get_by_text("No successful weekly run yet").wait_for(timeout=90_000)
        assert "make run" in page.inner_text("body")


def test_scenarios_combine_items_save_by_name_and_compare(weekly_run, tmp_path):
    from soe_lib.app.scenarios import compare_scenarios, evaluate_scenario
    from soe_lib.io import ActionLog

    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    week = ReviewWeek(tmp_path / "2026-W48")
    short = week.table("financial_impact").iloc[0]
    inv = week.inputs("inventory")
    donor = inv[(inv["sku"] == short["sku"]) & (inv["location"] != short["location"])]["location"].iloc[0]
    changes = [{"kind": "demand", "sku": short["sku"], "location": short["location"], "pct": 50.0},
               {"kind": "transfer", "sku": short["sku"], "to_location": short["location"], "from_location": donor, "qty": 10.0, "week": 1}]
    result = evaluate_scenario(week, changes).set_index("location")
    assert set(result.index) == {short["location"], donor}  # the donor side is recomputed too
    assert result.loc[donor, "shortage_qty"] >= result.loc[donor, "base_shortage_qty"]
    log = ActionLog(f"sqlite:///{tmp_path / 'a.db'}")
    first = log.save_scenario("2026-W48", "more demand, small transfer", changes, by="Ann")
    log.save_scenario("2026-W48", "demand only", changes[:1])
    with pytest.raises(ValueError, match="a name"):
        log.save_scenario("2026-W48", " ", changes)
    saved = log.scenarios("2026-W48").set_index("id")
    assert saved.loc[first, "changes"] == changes and saved.loc[first, "created_by"] == "Ann"
    table = compare_scenarios(week, dict(zip(saved["name"], saved["changes"], strict=True)))
    total = table[table["sku"] == "total"].iloc[0]
    assert total["demand only: units short"] > total["base: units short"]
    lone = table[(table["sku"] == short["sku"]) & (table["location"] == donor)].iloc[0]
    assert lone["demand only: units short"] == lone["base: units short"]  # a scenario that leaves it alone keeps its base


def test_the_app_builds_a_scenario_across_items_and_compares_it(weekly_run, tmp_path):
    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    app = ReviewApp(tmp_path)
    shown = app.decisions.shown
    picks = shown.index[(shown["kind"] == "sku-location") & (shown["shortage_qty"] > 0)][:2]
    for pos in picks:
        app.select_item(int(pos))
        app.whatif.controls["demand"].value = 20
        app.whatif.add_button.click()
    assert len(app.whatif.pending) == 2 and "demand of" in app.whatif.pending_box.value
    app.whatif.name.value = "demand +20 % on two items"
    app.whatif.save_button.click()
    assert "saved" in app.whatif.pending_box.value and len(app.whatif.saved.options) == 1
    app.whatif.compare_button.click()
    comparison = app.whatif.comparison.value
    assert "Base: units short" in comparison and "demand +20 % on two items: units short" in comparison and ">total<" in comparison


def test_the_drilldown_demand_chart_shades_the_p10_p90_band():
    from soe_lib.app.charts import drilldown_demand_chart

    weeks = ["2026-W48", "2026-W49", "2026-W50"]
    sensed = pd.DataFrame({"week": weeks, "plan_qty": [10.0, 10, 10], "sensed_qty": [12.0, 12, 12],
                           "p10_qty": [8.0, 7, 6], "p90_qty": [16.0, 17, 18]})
    history = pd.DataFrame({"week": ["2026-W46", "2026-W47"], "qty": [11.0, 13]})
    spec = drilldown_demand_chart({"sensed": sensed, "actuals": history, "plan": history}).to_dict()
    area = [layer for layer in spec["layer"] if (layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]) == "area"]
    assert len(area) == 1 and area[0]["encoding"]["y"]["field"] == "p10_qty" and area[0]["encoding"]["y2"]["field"] == "p90_qty"
    band = spec["datasets"][area[0]["data"]["name"]]
    assert [r["p90_qty"] for r in band] == [16.0, 17, 18] and [r["week_label"] for r in band] == weeks
    plain = drilldown_demand_chart({"sensed": sensed.drop(columns=["p10_qty", "p90_qty"]), "actuals": history, "plan": history}).to_dict()
    assert "layer" not in plain  # no band without quantiles


@pytest.mark.parametrize("due, refused", [("next friday", "must be an ISO week"), ("2026-12-14", "must be an ISO week"),
                                          ("2026-W47", "before the meeting week"), ("2026-W54", "must be an ISO week"), ("2026-w50", "")])
def test_the_app_records_a_due_week_only_as_an_iso_week_at_or_after_the_meeting(weekly_run, tmp_path, due, refused):
    """Overdue tracking counts weeks: words, dates, weeks that do not exist and weeks before the meeting are refused with
    the rule said (nothing recorded); a week written in small letters is recorded as its ISO label. The form starts at
    the week after the meeting, and at the joint plan's move, or at accepting the gap when the plan takes none."""
    from soe_lib.io import ActionLog

    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    app = ReviewApp(tmp_path)
    app.select_item(int(app.decisions.shown.index[0]))
    assert app.form["due"].value == "2026-W49" and app.form["due"].placeholder == "2026-W49"
    labels = dict((v, k) for k, v in app.record.form["choice"].options)
    assert "(plan:" in labels[app.record.form["choice"].value] or app.record.form["choice"].value.startswith("accept")
    app.form["owner"].value, app.form["due"].value = "Ann", due
    app.record_button.click()
    saved = ActionLog(app.actions.url).decided_in("2026-W48")
    if refused:
        assert refused in app.record.message.value and saved.empty
    else:
        assert "recorded" in app.record.message.value and saved["due_week"].tolist() == ["2026-W50"]


def test_a_move_that_costs_more_than_it_recovers_is_recorded_only_when_asked_twice(weekly_run, tmp_path):
    """The form offers a move the plan does not take with its net benefit alone; when that is negative, the first click
    says so and records nothing, a second click on the same item and move records it."""
    from soe_lib.app.decisions import action_text, option_state
    from soe_lib.io import ActionLog

    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    app = ReviewApp(tmp_path)
    week = ReviewWeek(tmp_path / "2026-W48")
    options = week.table("countermeasures")
    losing = options[options["feasible"] & (options["chosen_qty"] <= 0) & (options["net_benefit"] < 0) & (options["action"] != "accept")]
    shown = app.decisions.shown
    at = shown[shown["sku"].isin(losing["sku"]) & shown["location"].isin(losing["location"]) & (shown["kind"] == "sku-location")]
    at = at[[bool(((losing["sku"] == r.sku) & (losing["location"] == r.location)).any()) for r in at.itertuples()]]
    assert len(at) > 0
    app.select_item(int(at.index[0]))
    row = losing[(losing["sku"] == at.iloc[0]["sku"]) & (losing["location"] == at.iloc[0]["location"])].iloc[0]
    app.record.form["choice"].value = action_text(row, option_state(row)["qty"])
    app.form["owner"].value = "Ann"
    app.record_button.click()
    assert "costs more than it recovers" in app.record.message.value and ActionLog(app.actions.url).decided_in("2026-W48").empty
    app.record_button.click()
    assert "recorded" in app.record.message.value and len(ActionLog(app.actions.url).decided_in("2026-W48")) == 1


def test_the_drilldown_demand_chart_draws_every_week_and_keeps_the_band_from_flattening_the_lines():
    """A SKU-location sold in 3 of the last 8 weeks: the actual line has every week from its first, the others at 0
    (not a line bridging them); the band (P90 ten times the forecast) is cut at the lines' scale."""
    from soe_lib.app.charts import drilldown_demand_chart

    sensed = pd.DataFrame({"week": ["2026-W48", "2026-W49"], "plan_qty": [10.0, 10], "sensed_qty": [10.0, 10], "p10_qty": [0.0, 0], "p90_qty": [100.0, 100]})
    actuals = pd.DataFrame({"week": ["2026-W40", "2026-W43", "2026-W47"], "qty": [15.0, 43, 20]})
    spec = drilldown_demand_chart({"sensed": sensed, "actuals": actuals, "plan": actuals.iloc[:0]}).to_dict()
    lines = next(layer for layer in spec["layer"] if (layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]) == "line")
    rows = [r for r in spec["datasets"][lines["data"]["name"]] if r["measure"] == "actual"]
    assert [r["week_label"] for r in rows] == [f"2026-W{w}" for w in range(40, 48)]  # continuous, from the first week sold
    assert [r["qty"] for r in rows] == [15.0, 0, 0, 43, 0, 0, 0, 20]
    assert lines["encoding"]["y"]["scale"]["domain"] == [0, 43 * 1.25]
    area = next(layer for layer in spec["layer"] if (layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]) == "area")
    assert area["mark"]["clip"] is True and area["encoding"]["y"]["scale"]["domain"] == [0, 43 * 1.25]


def test_the_drilldown_lists_the_usable_options_first_and_folds_the_others_with_why(weekly_run, tmp_path):
    """An item's options: those that can be used in a table (the plan's first), the ones that cannot folded below with
    their reasons; no column of "feasible" flags."""
    _, out = weekly_run
    shutil.copytree(out / "2026-W48", tmp_path / "2026-W48")
    app = ReviewApp(tmp_path)
    options = ReviewWeek(tmp_path / "2026-W48").table("countermeasures")
    both = options.groupby(["sku", "location"])["feasible"].agg(["any", "all"])
    both = both[both["any"] & ~both["all"]].index
    shown = app.decisions.shown
    at = [i for i, r in shown.iterrows() if (r["sku"], r["location"]) in both and r["kind"] == "sku-location"]
    assert at
    app.select_item(int(at[0]))
    usable = [w for w in app.drilldown.detail.children if "soe-options" in w._dom_classes]
    folded = [w for w in app.drilldown.detail.children if "soe-options-other" in w._dom_classes]
    assert len(usable) == 1 and len(folded) == 1
    assert "Feasible" not in usable[0].value and ">No<" not in usable[0].value
    assert folded[0].value.startswith("<details>") and "cannot be used here, and why" in folded[0].value and "Reason" in folded[0].value
    mine = options[(options["sku"] == shown.loc[at[0], "sku"]) & (options["location"] == shown.loc[at[0], "location"])]
    assert f"{int((~mine['feasible']).sum())} options that cannot be used here" in folded[0].value


def test_the_pages_template_is_voilas_lab_template_less_what_it_loads_from_the_internet(tmp_path):
    """Derived from the installed Voila at each start: every line of its lab template but the stylesheet links to the
    internet (two Font Awesome ones in Voila 0.5), based on lab."""
    from voila.paths import collect_template_paths

    from soe_lib.app.serve import offline_template

    lab = next(Path(p) / "index.html.j2" for p in collect_template_paths(["voila"], "lab", prune=True) if (Path(p) / "index.html.j2").exists())
    made = offline_template(tmp_path) / "voila" / "templates" / "soe"
    ours, theirs = (made / "index.html.j2").read_text().splitlines(), lab.read_text().splitlines()
    links = [line for line in theirs if "<link" in line and "https://" in line]
    assert len(links) == 2 and not any("<link" in line and "https://" in line for line in ours)
    assert [line for line in theirs if line not in links] == ours  # the rest as shipped (a comment's URL included)
    assert json.loads((made / "conf.json").read_text()) == {"base_template": "lab"}


@pytest.mark.browser
def test_the_meeting_prints_to_one_pdf_a_director_forwards(weekly_run, tmp_path, capsys):
    """``soe review --pdf WEEK``: the first screen and the decision list, printed by the tests' Chromium."""
    from pypdf import PdfReader

    from soe_lib.app.review_data import item_names, top_decisions
    from soe_lib.cli import main as soe

    _, src = weekly_run
    out = tmp_path / "outputs"
    shutil.copytree(src / "2026-W48", out / "2026-W48")
    week = ReviewWeek(out / "2026-W48")
    assert soe(["review", "--pdf", "2026-W48", "--out", str(out)]) == 0
    pdf = out / "2026-W48" / "meeting-2026-W48.pdf"
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages)
    margin = f"{week.table('financial_impact')['margin_at_risk'].sum():,.0f}"
    assert f"{margin} USD margin at risk over the next 13 weeks" in text and "Top decisions of the week" in text
    top = top_decisions(week.items(), week.inputs("products"))
    assert len(top) >= 5 and all(name in text for name in top["item"])  # items named as people name them
    ranked = week.items()[week.items()["rank"].notna()]
    assert all(" ".join(w.split()) in text for w in ranked["why"].head(3)) and "The decision list" in text
    assert not [c for c in LABELS if "_" in c and c in text]  # words, not codes
    assert all(name in text for name in item_names(ranked, week.inputs("products")))  # the whole list, not only the top
    # a week that has no run: exit 2 and the reason, no file
    assert soe(["review", "--pdf", "2030-W01", "--out", str(out)]) == 2
    assert "no successful run of 2030-W01" in capsys.readouterr().err and not (out / "2030-W01").exists()


def test_the_servers_one_renderer_draws_every_kernels_charts_over_a_socket(weekly_run, tmp_path, monkeypatch):
    """A page's kernel sends its charts' tables to the review server's renderer (a Unix socket) and never loads
    Altair or the chart engine itself; with a wrong key (as without a renderer) it draws its charts itself."""
    import subprocess
    import sys

    from soe_lib.app import render

    _, src = weekly_run
    for name in (render.SOCKET_ENV, render.KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    kernel = ("import sys; from soe_lib.app import ReviewApp\n"
              f"app = ReviewApp({str(src)!r})\n"
              "app.select_item(int(app.decisions.shown.index[app.decisions.shown['kind'] == 'sku-location'][0]))\n"
              "html = app.overview.charts.value + ''.join(c.value for c in app.drilldown.detail.children if hasattr(c, 'value'))\n"
              "print(html.count('<svg') >= 4 and 'soe-by-week' in html, 'altair' in sys.modules, 'vl_convert' in sys.modules)")

    def page(env=None) -> list[str]:
        done = subprocess.run([sys.executable, "-c", kernel], capture_output=True, text=True, timeout=300, env=env)
        return done.stdout.split() or [done.stderr[-2000:]]

    proc = render.start_renderer(tmp_path)
    try:
        assert (tmp_path / "charts.sock").exists() and oct((tmp_path / "charts.sock").stat().st_mode & 0o777) == "0o700"
        assert page() == ["True", "False", "False"]  # charts drawn, and neither library in the page's kernel
        assert len(list((tmp_path / "charts").glob("*.svg"))) >= 4  # kept for the other pages of the week
        shutil.rmtree(tmp_path / "charts")
        assert page({**os.environ, render.KEY_ENV: "00" * 16}) == ["True", "True", "True"]  # a wrong key: refused, drawn here
        with pytest.raises(ValueError):  # a spec the engine refuses is said, the renderer goes on
            render._ask({"spec": {"mark": "no-such-mark"}})
        with pytest.raises(ValueError, match="no chart 'os.system'"):  # only the review's charts, by name: nothing else is run
            render._ask({"chart": "os.system", "tables": []})
        spec = {"mark": "point", "data": {"values": [{"a": 1}]}, "encoding": {"x": {"field": "a", "type": "quantitative"}}}
        assert render._ask({"spec": spec}).startswith("<svg")  # and it still answers
    finally:
        proc.terminate()
        proc.wait(timeout=10)
