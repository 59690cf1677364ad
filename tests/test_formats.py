"""One way to show a number: the formats module, the notebooks' tables and the charts' week axes."""

from __future__ import annotations

import re

import pandas as pd

from soe_lib.app import charts
from soe_lib.core.formats import EXCEL_FORMATS, column_kind, format_value, formatted, header, styled
from soe_lib.core.weeks import parse_week


def test_column_kinds_follow_the_names_and_types():
    frame = pd.DataFrame({"rank": [1], "week": [parse_week("2026-W48")], "money_at_risk": [1.0], "wape": [0.2], "shortage_qty": [2.0],
                          "load_hours": [3.0], "on_time_share": [0.5], "sku": ["00001"], "in_hand": [True], "z_score": [1.5],
                          "base: margin at risk": [4.0], "base: units short": [5.0]})
    kinds = {c: column_kind(c, frame[c]) for c in frame.columns}
    assert kinds == {"rank": "qty", "week": "week", "money_at_risk": "money", "wape": "pct", "shortage_qty": "qty", "load_hours": "hours",
                     "on_time_share": "pct", "sku": "text", "in_hand": "text", "z_score": "number", "base: margin at risk": "money",
                     "base: units short": "qty"}
    assert EXCEL_FORMATS["money"] == "#,##0" and EXCEL_FORMATS["pct"] == "0.0%"


def test_values_are_shown_as_people_read_them():
    frame = pd.DataFrame({"week": pd.to_datetime(["2026-11-23", None]), "money_at_risk": [441.1530335474662, 12345.6], "bias": [0.335001, -0.02],
                          "shortage_qty": [5.0, 7.0], "sensed_qty": [1.25, 3.0], "gap_id": [3, 4]})
    shown = formatted(frame)
    assert shown["week"].tolist() == ["2026-W48", ""] and shown["money_at_risk"].tolist() == ["441", "12,346"]
    assert shown["bias"].tolist() == ["33.5%", "-2.0%"] and shown["shortage_qty"].tolist() == ["5", "7"]
    assert shown["sensed_qty"].tolist() == ["1.2", "3.0"] and shown["gap_id"].tolist() == ["3", "4"]  # whole units without decimals
    assert format_value(float("nan"), "money") == "" and header("money_at_risk") == "Money at risk" and header("sku") == "SKU"
    assert header("shortage_qty") == "Shortage units"


def test_notebook_tables_are_styled_with_formats_iso_weeks_and_human_headers():
    frame = pd.DataFrame({"week": pd.to_datetime(["2026-11-23"]), "money_at_risk": [441.153], "wape": [0.335001]})
    html = styled(frame).to_html()
    assert "2026-W48" in html and "33.5%" in html and ">441<" in html and "Money at risk" in html
    assert "2026-11-23" not in html and "0.335001" not in html and "441.153" not in html
    long = pd.DataFrame({"qty": range(500)})
    assert "First 200 of 500 rows" in styled(long).to_html()
    grouped = pd.DataFrame({"family": ["A", "B"], "margin": [1.0, 2.0]}).groupby("family")[["margin"]].sum()
    assert "Family" in styled(grouped).to_html()  # a meaningful index becomes a column


def test_every_chart_labels_its_weeks_as_iso_weeks():
    weeks = [parse_week("2026-W40") + pd.Timedelta(weeks=k) for k in range(20)]
    totals = pd.DataFrame({"week": weeks * 2, "measure": ["actual"] * 20 + ["plan"] * 20, "qty": range(40)})
    svg = charts.svg_html(charts.weekly_totals_chart(totals, weeks[10]))
    labels = set(re.findall(r">\s*(20\d\d-W\d\d)\s*<", svg))
    assert len(labels) >= 3 and not re.search(r">\s*(Oct|Nov|Dec)\w*\s*<", svg)
    impact = pd.DataFrame({"cause": ["supply late", "demand above plan"], "first_week": ["2026-W49", "2026-W51"], "margin_at_risk": [120.0, 30.0]})
    by_week = charts.svg_html(charts.money_by_week_chart(impact))
    assert "2026-W49" in by_week and "2026-W50" in by_week and "2026-W51" in by_week  # the week without a gap is on the axis
    assert "supply late" in charts.svg_html(charts.money_by_cause_chart(impact))


def test_flags_read_yes_or_no_in_the_app_the_notebooks_and_the_workbook(tmp_path):
    from openpyxl import load_workbook

    from soe_lib.io.workbook import write_workbook

    frame = pd.DataFrame({"feasible": [True, False], "in_hand": pd.array([True, None], dtype="boolean"), "qty": [1.0, 2.0]})
    assert formatted(frame)["feasible"].tolist() == ["Yes", "No"] and formatted(frame)["in_hand"].tolist() == ["Yes", ""]
    html = styled(frame).to_html()
    assert ">Yes<" in html and ">No<" in html and "True" not in html and "False" not in html
    book = load_workbook(write_workbook(tmp_path / "p.xlsx", {"options": frame}))
    assert [c.value for c in book["options"]["A"]] == ["Feasible", "Yes", "No"]


def test_codes_read_as_words_from_one_catalogue_everywhere(tmp_path):
    """The app, the notebooks and the workbook show the catalogue's words for every code a step writes; prices keep cents."""
    from openpyxl import load_workbook

    from soe_lib.core.contract import SHIPMENT_STATUSES
    from soe_lib.core.items import ACTION_TYPES, ITEM_PREFIX
    from soe_lib.core.labels import LABELS, label
    from soe_lib.finance.decisions import FIRST_MOVE, SOP_KINDS
    from soe_lib.io.workbook import write_workbook

    codes = {*ACTION_TYPES, *ITEM_PREFIX, *SOP_KINDS, *FIRST_MOVE, *SHIPMENT_STATUSES}
    assert codes - set(LABELS) == set()  # every code has its words, not a fallback
    assert all("_" not in label(c) for c in codes) and label("pull_in") == "pull in" and label("sku-location") == "product at location"
    assert label("some_new_code") == "some new code" and label(None) == ""
    frame = pd.DataFrame({"kind": ["persistent_bias", "sku-location"], "action": ["pull_in", "build_ahead"], "unit_price": [3.78, 10.0],
                          "rank": [1.0, 2.0], "detail": ["pull_in stays as typed", ""]})
    shown = formatted(frame)
    assert shown["kind"].tolist() == ["plan biased for weeks", "product at location"] and shown["action"].tolist() == ["pull in", "build ahead"]
    assert shown["unit_price"].tolist() == ["3.78", "10.00"] and shown["rank"].tolist() == ["1", "2"]
    assert shown["detail"].tolist() == ["pull_in stays as typed", ""]  # free text is never rewritten
    html = styled(frame).to_html()
    assert "plan biased for weeks" in html and "persistent_bias" not in html and "3.78" in html
    sheet = load_workbook(write_workbook(tmp_path / "p.xlsx", {"decisions": frame}))["decisions"]
    assert [c.value for c in sheet["A"]][1:] == ["plan biased for weeks", "product at location"]
    assert sheet["C2"].value == 3.78 and sheet["C2"].number_format == "#,##0.00" and sheet["D2"].number_format == "#,##0"
