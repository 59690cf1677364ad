"""One test per validation rule: each asserts the message names the file, the column, the rule and the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soe_lib.core.problems import ValidationError
from soe_lib.io import load_data
from soe_lib.io.validation import duplicate_positions

from .conftest import tiny_tables, write_tables


def errors_of(tmp_path, tables, **kw):
    folder = write_tables(tmp_path / "data", tables, kw.pop("fmt", "csv"))
    with pytest.raises(ValidationError) as info:
        load_data(folder, **kw)
    return info.value.report.errors


def only(problems, rule):
    found = [p for p in problems if p.rule == rule]
    assert found, f"no problem with rule {rule!r} in {[str(p) for p in problems]}"
    return found[0]


def test_valid_tiny_company_loads_with_codes_kept_as_text(tiny_dir):
    data = load_data(tiny_dir)
    assert data.report.errors == []
    assert set(data.products["sku"]) == {"00123", "HIV 1/2, Kit"}
    assert set(data.locations["location"]) == {"0100", "DC-2"}
    assert data.week_label == "2026-W48"  # the week after the last week of actuals
    assert data.actuals["qty"].dtype == "float64"
    assert pd.isna(data.locations.set_index("location").loc["DC-2", "storage_capacity"])  # blank = unlimited


def test_missing_required_file(tmp_path):
    t = tiny_tables()
    del t["inventory"]
    p = only(errors_of(tmp_path, t), "required table")
    assert p.file == "inventory.csv" and "inventory" in str(p)


def test_missing_required_column(tmp_path):
    t = tiny_tables()
    t["products"] = t["products"].drop(columns=["unit_price"])
    p = only(errors_of(tmp_path, t), "required column")
    assert (p.file, p.column) == ("products.csv", "unit_price")
    assert "unit_price" in str(p) and "products.csv" in str(p)


def test_wrong_type_names_rows_and_values(tmp_path):
    t = tiny_tables()
    t["actuals"].loc[2, "qty"] = "12 units"
    p = only(errors_of(tmp_path, t), "number")
    assert (p.file, p.column, p.rows, p.count) == ("actuals.csv", "qty", (4,), 1)  # data row 3 = spreadsheet row 4
    assert "'12 units'" in str(p) and "actuals.csv" in str(p) and "qty" in str(p)


def test_negative_quantity(tmp_path):
    t = tiny_tables()
    t["actuals"].loc[[0, 5], "qty"] = "-3"
    p = only(errors_of(tmp_path, t), ">= 0")
    assert (p.file, p.column, p.rows, p.count) == ("actuals.csv", "qty", (2, 7), 2)
    assert "negative" in p.message


def test_price_must_be_positive(tmp_path):
    t = tiny_tables()
    t["products"].loc[1, "unit_price"] = "0"
    p = only(errors_of(tmp_path, t), "> 0")
    assert (p.file, p.column, p.rows) == ("products.csv", "unit_price", (3,))


def test_duplicate_key(tmp_path):
    t = tiny_tables()
    t["demand_plan"] = pd.concat([t["demand_plan"], t["demand_plan"].iloc[[4]]], ignore_index=True)
    p = only(errors_of(tmp_path, t), "unique (sku, location, week)")
    assert p.file == "demand_plan.csv" and p.count == 2
    assert p.rows == (6, len(t["demand_plan"]) + 1)
    assert "duplicate" in p.message


def test_duplicate_product(tmp_path):
    t = tiny_tables()
    t["products"].loc[1, "sku"] = "00123"
    p = only(errors_of(tmp_path, t), "unique (sku)")
    assert (p.file, p.rows) == ("products.csv", (2, 3))


def test_unknown_sku_reference(tmp_path):
    t = tiny_tables()
    t["inventory"].loc[3, "sku"] = "123"  # leading zero lost: not the same code as 00123
    p = only(errors_of(tmp_path, t), "known sku")
    assert (p.file, p.column, p.rows) == ("inventory.csv", "sku", (5,))
    assert "'123'" in str(p) and "products" in p.message


def test_unknown_location_reference(tmp_path):
    t = tiny_tables()
    t["supply"].loc[0, "location"] = "DC-9"
    p = only(errors_of(tmp_path, t), "known location")
    assert (p.file, p.column, p.rows) == ("supply.csv", "location", (2,))


def test_unparseable_week(tmp_path):
    t = tiny_tables()
    t["actuals"].loc[1, "week"] = "week 45"
    t["supply"].loc[2, "eta_week"] = "soon"
    errs = errors_of(tmp_path, t)
    weeks = {p.file: p for p in errs if p.rule == "week"}
    assert weeks["actuals.csv"].column == "week" and weeks["actuals.csv"].rows == (3,)
    assert weeks["supply.csv"].column == "eta_week" and weeks["supply.csv"].rows == (4,)
    assert "'week 45'" in str(weeks["actuals.csv"])


def test_empty_required_table(tmp_path):
    t = tiny_tables()
    t["actuals"] = t["actuals"].iloc[0:0]
    p = only(errors_of(tmp_path, t), "not empty")
    assert p.file == "actuals.csv"


def test_blank_required_value(tmp_path):
    t = tiny_tables()
    t["products"].loc[0, "family"] = ""
    p = only(errors_of(tmp_path, t), "not blank")
    assert (p.file, p.column, p.rows) == ("products.csv", "family", (2,))


def test_supply_kind_must_be_known(tmp_path):
    t = tiny_tables()
    t["supply"].loc[1, "kind"] = "magic"
    p = only(errors_of(tmp_path, t), "one of production/purchase/transfer")
    assert (p.file, p.column, p.rows) == ("supply.csv", "kind", (3,))


def test_more_than_20_rows_shows_first_20_and_the_count(tmp_path):
    t = tiny_tables()
    big = pd.concat([t["actuals"]] * 8, ignore_index=True)  # 128 rows; summed duplicates are fine
    big.loc[:29, "qty"] = "-1"
    t["actuals"] = big
    p = only(errors_of(tmp_path, t), ">= 0")
    assert p.count == 30 and len(p.rows) == 20 and p.rows[0] == 2
    assert "30 rows" in str(p) and "first 20 shown" in str(p)


def test_every_problem_is_reported_at_once(tmp_path):
    t = tiny_tables()
    t["products"].loc[0, "unit_cost"] = "-1"
    t["actuals"].loc[0, "qty"] = "x"
    t["supply"].loc[0, "sku"] = "nope"
    del t["locations"]
    rules = {(p.file, p.rule) for p in errors_of(tmp_path, t)}
    assert {("products.csv", ">= 0"), ("actuals.csv", "number"), ("supply.csv", "known sku"), ("locations.csv", "required table")} <= rules


def test_two_files_for_one_table(tmp_path):
    folder = write_tables(tmp_path / "data", tiny_tables())
    tiny_tables()["products"].to_parquet(folder / "products.parquet")
    with pytest.raises(ValidationError) as info:
        load_data(folder)
    p = only(info.value.report.errors, "one file per table")
    assert "products.csv" in p.file and "products.parquet" in p.file


def test_missing_data_folder_is_an_error(tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        load_data(tmp_path / "nowhere")


def test_bad_run_week_is_an_error(tiny_dir):
    with pytest.raises(ValidationError, match="not an ISO week"):
        load_data(tiny_dir, week="2026-W99")


def test_sku_without_plan_is_a_warning_not_an_error(tmp_path):
    t = tiny_tables()
    t["demand_plan"] = t["demand_plan"][t["demand_plan"]["location"] != "DC-2"]
    data = load_data(write_tables(tmp_path / "data", t))
    assert data.report.errors == []
    w = [p for p in data.report.warnings if p.rule == "plan for every item"]
    assert w and w[0].count == 2 and "DC-2" in w[0].message


def test_actuals_at_or_after_run_week_are_dropped_with_a_warning(tiny_dir):
    data = load_data(tiny_dir, week="2026-W46", week_check="warning")
    assert data.actuals["week"].max() == pd.Timestamp("2026-11-02")  # W45
    w = [p for p in data.report.warnings if p.rule == "before the run week"]
    assert w and w[0].count == 8


def test_non_strict_returns_the_report_instead_of_raising(tmp_path):
    t = tiny_tables()
    t["actuals"].loc[0, "qty"] = "-1"
    data = load_data(write_tables(tmp_path / "data", t), strict=False)
    assert not data.report.ok and data.report.to_frame()["rule"].tolist() == [">= 0"]


# --- what the first release let through ----------------------------------------------------------------
@pytest.mark.parametrize(("value", "rule"), [("inf", "finite number"), ("-inf", "finite number"), ("1e308", "at most 1e+12"), ("nan", "number")])
def test_non_finite_and_absurd_numbers(tmp_path, value, rule):
    t = tiny_tables()
    t["actuals"].loc[1, "qty"] = value
    p = only(errors_of(tmp_path, t), rule)
    assert (p.file, p.column, p.rows) == ("actuals.csv", "qty", (3,)) and value in str(p)


def test_absurd_numbers_in_parquet_too(tmp_path):
    t = tiny_tables()
    t["products"] = t["products"].assign(unit_price=[10.0, float("inf")], unit_cost=[6.0, 1e300])
    errors = errors_of(tmp_path, t, fmt="parquet")
    assert {(p.file, p.column, p.rule) for p in errors} >= {("products.parquet", "unit_price", "finite number"), ("products.parquet", "unit_cost", "at most 1e+12")}


@pytest.mark.parametrize("header", ["sku,location,week,qty,qty", "sku,location,week,qty,QTY ", "sku,SKU,location,week,qty"])
def test_duplicate_and_case_variant_columns(tmp_path, header):
    folder = write_tables(tmp_path / "data", tiny_tables())
    extra = header.count(",") - 3
    rows = ["00123,0100,2026-W47,5" + ",1" * extra if not header.startswith("sku,SKU") else "00123,00123,0100,2026-W47,5"]
    (folder / "actuals.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValidationError) as info:
        load_data(folder)
    p = only(info.value.report.errors, "unique column names")
    assert p.file == "actuals.csv" and "same column" in p.message


def test_semicolon_and_latin1_csv_are_read_and_said(tmp_path):
    t = tiny_tables()
    t["products"].loc[0, "description"] = "Crème brûlée, 50 g"  # accents, and a comma inside a field
    folder = write_tables(tmp_path / "data", t)
    t["products"].to_csv(folder / "products.csv", index=False, sep=";", encoding="cp1252")
    data = load_data(folder)
    assert data.products.loc[0, "description"] == "Crème brûlée, 50 g" and data.products.loc[0, "unit_price"] == 10.0
    notes = {p.rule: p for p in data.report.problems if p.file == "products.csv"}
    assert "cp1252" in notes["UTF-8 text"].message and "';'" in notes["comma-separated"].message


def test_an_unparseable_csv_says_what_it_tried(tmp_path):
    folder = write_tables(tmp_path / "data", tiny_tables())
    (folder / "inventory.csv").write_text('sku,location,on_hand,safety_stock\n"00123,0100,20,5\n')  # an unclosed quote
    with pytest.raises(ValidationError) as info:
        load_data(folder)
    p = only(info.value.report.errors, "readable file")
    assert p.file == "inventory.csv" and "delimiter ','" in p.message and "utf-8" in p.message


@pytest.mark.parametrize(("week", "says"), [("2027-W10", "16 weeks after the last week of actuals 2026-W47"), ("2026-W49", "2 weeks after"), ("2026-W46", "actuals reach 2026-W47")])
def test_a_run_week_that_does_not_follow_the_actuals_is_refused(tiny_dir, week, says):
    with pytest.raises(ValidationError) as info:
        load_data(tiny_dir, week=week)
    p = only(info.value.report.errors, "run week follows the actuals")
    assert says in p.message and "--any-week" in p.message
    data = load_data(tiny_dir, week=week, week_check="warning")  # explicitly allowed: a warning
    assert any(w.rule == "run week follows the actuals" for w in data.report.warnings)
    assert load_data(tiny_dir, week="2026-W48").report.ok  # the week after the last actuals is always fine


# --- what a real extract holds (issue 24) -----------------------------------------------------------------
def test_future_dated_actuals_are_refused_naming_the_rows(tmp_path):
    """Two rows dated weeks ahead would make the run week 2026-W53 and count every other item's weeks since
    as zero demand: refused, the rows named; the data's own week stays 2026-W48."""
    t = tiny_tables()
    late = t["actuals"].iloc[:2].assign(week=["2026-W51", "2026-W52"])
    t["actuals"] = pd.concat([t["actuals"], late], ignore_index=True)
    p = only(errors_of(tmp_path, t), "not in the future")
    assert p.file == "actuals.csv" and p.column == "week" and p.rows == (18, 19) and "after 2026-W47" in p.message
    assert load_data(write_tables(tmp_path / "given", t), week="2026-W53", week_check="warning").week_label == "2026-W53"  # on purpose: allowed


def test_a_workbook_with_merged_cells_is_refused_with_the_ranges(tmp_path):
    from openpyxl import load_workbook

    folder = write_tables(tmp_path / "data", tiny_tables(), "xlsx")
    book = load_workbook(folder / "company.xlsx")
    book["locations"].merge_cells("C2:C3")  # a storage capacity spread over two locations' rows
    book.save(folder / "company.xlsx")
    with pytest.raises(ValidationError) as info:
        load_data(folder)
    p = only(info.value.report.errors, "readable file")
    assert p.file.startswith("company.xlsx") and "merged cells C2:C3" in p.message and "unmerge" in p.message


def test_a_supply_line_given_twice_is_refused(tmp_path):
    t = tiny_tables()
    t["supply"] = pd.concat([t["supply"], t["supply"].iloc[[1]]], ignore_index=True)
    p = only(errors_of(tmp_path, t), "unique (order_id, sku, location, week)")
    assert p.file == "supply.csv" and p.rows == (3, 6) and "counted twice" in p.message and "PO-1 / 00123 / DC-2 / 2026-W50" in str(p)
    t = tiny_tables()
    t["supply"] = pd.concat([t["supply"], t["supply"].iloc[[1]].assign(order_id="")], ignore_index=True)  # no order id: not a repeat
    assert load_data(write_tables(tmp_path / "ok", t)).supply.shape[0] == 5


def test_a_repeated_substitutes_row_is_refused_not_a_crash(tmp_path):
    t = tiny_tables()
    t["substitutes"] = pd.DataFrame({"sku": ["00123", "00123"], "substitute_sku": ["HIV 1/2, Kit"] * 2, "location": ["", ""]})
    p = only(errors_of(tmp_path, t), "unique (sku, substitute_sku, location)")
    assert p.rows == (2, 3) and "00123 / HIV 1/2, Kit / " in str(p)


@pytest.mark.parametrize(("dates", "read", "rule"), [
    (["03/11/2025", "20/10/2025"], "2025-W45", None),  # a day above 12 in the column: day-first, 3 November
    (["03/11/2025", "11/25/2025"], "2025-W11", None),  # a second number above 12: month-first, 11 March
    (["03/11/2025", "04/10/2025"], None, "one date order"),  # every one fits both: ambiguous
    (["25/11/2025", "11/25/2025"], None, "one date order"),  # both orders in one column
])
def test_slashed_dates_are_read_by_one_rule_per_column(tmp_path, dates, read, rule):
    t = tiny_tables()
    t["supply"] = t["supply"].iloc[:2].assign(eta_week=dates)
    if rule is None:
        data = load_data(write_tables(tmp_path / "data", t))
        assert data.supply["eta_week"].map(lambda w: w.strftime("%G-W%V")).iloc[0] == read
    else:
        p = only(errors_of(tmp_path, t), rule)
        assert p.file == "supply.csv" and p.column == "eta_week" and p.rows == (2, 3) and "ISO dates" in p.message


def test_an_empty_supply_is_a_state_not_an_error(tmp_path):
    t = tiny_tables()
    t["supply"] = t["supply"].iloc[0:0]
    data = load_data(write_tables(tmp_path / "data", t))
    warned = [p for p in data.report.problems if p.rule == "not empty"]
    assert len(data.supply) == 0 and warned and warned[0].severity == "warning" and "nothing is on order" in warned[0].message


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["L1", "L2"]), st.integers(0, 3)), max_size=30), st.booleans())
def test_duplicate_keys_are_found_in_any_order_of_the_rows(rows, in_order):
    """Every row of a repeated key is named, whether the rows come in key order (the fast path: keys strictly
    increasing, none repeated) or not."""
    frame = pd.DataFrame(sorted(rows) if in_order else rows, columns=["sku", "location", "week"])
    got = duplicate_positions(frame, ["sku", "location", "week"])
    assert got.tolist() == np.flatnonzero(frame.duplicated(keep=False).to_numpy()).tolist()
