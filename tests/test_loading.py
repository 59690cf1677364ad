from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from soe_lib.core.matrix import history_matrix, to_matrix
from soe_lib.core.weeks import parse_week
from soe_lib.io import find_sources, load_data, read_snapshot, source_hashes, write_snapshot
from soe_lib.run import open_week

from .conftest import tiny_tables, write_tables


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_every_format_loads_to_the_same_tables(tmp_path, fmt):
    data = load_data(write_tables(tmp_path / fmt, tiny_tables(), fmt))
    ref = load_data(write_tables(tmp_path / "ref", tiny_tables(), "csv"))
    for name in ("products", "actuals", "supply", "inventory"):
        pd.testing.assert_frame_equal(data.tables[name], ref.tables[name], check_dtype=False)
    if fmt == "xlsx":
        assert data.sources["actuals"].label == "company.xlsx[actuals]"


def test_numeric_codes_in_parquet_become_text(tmp_path):
    t = tiny_tables()
    folder = write_tables(tmp_path / "d", t)
    loc = pd.DataFrame({"location": [100.0, 200.0], "region": ["N", "S"]})
    (folder / "locations.csv").unlink()
    loc.to_parquet(folder / "locations.parquet")
    data = load_data(folder, strict=False)
    assert data.locations["location"].tolist() == ["100", "200"]  # no '100.0'


def test_extra_columns_are_kept_and_headers_are_forgiving(tmp_path):
    t = tiny_tables()
    t["products"]["ABC Class"] = ["A", "B"]
    t["products"] = t["products"].rename(columns={"sku": " SKU "})
    data = load_data(write_tables(tmp_path / "d", t))
    assert data.products["abc_class"].tolist() == ["A", "B"]


def test_daily_actuals_are_summed_into_iso_weeks(tmp_path):
    t = tiny_tables()
    t["actuals"] = pd.DataFrame(
        {
            "sku": ["00123"] * 3,
            "location": ["0100"] * 3,
            "week": ["2026-11-16", "2026-11-18", "2026-11-22"],  # Mon, Wed, Sun of 2026-W47
            "qty": ["1", "2", "4"],
        }
    )
    data = load_data(write_tables(tmp_path / "d", t))
    assert data.actuals[["week", "qty"]].values.tolist() == [[pd.Timestamp("2026-11-16"), 7.0]]
    assert any(p.rule == "summed per week" and p.count == 3 for p in data.report.problems)


def test_stray_files_are_ignored_and_named(tmp_path):
    folder = write_tables(tmp_path / "d", tiny_tables())
    (folder / "notes.txt").write_text("hello")
    (folder / "planted.json").write_text("{}")  # this project's own: not worth a note
    (folder / "readme.md").write_text("# data")
    (folder / "actual.csv").write_text("sku,location,week,qty\n")  # a typo of actuals.csv
    (folder / "orders.xlsx").write_bytes(b"not a workbook")  # an unreadable workbook: named, ignored, no traceback
    sources, problems = find_sources(folder)
    assert set(sources) == {"products", "locations", "actuals", "demand_plan", "inventory", "supply"}
    by_file = {p.file: p for p in problems}
    assert set(by_file) == {"notes.txt", "readme.md", "actual.csv", "orders.xlsx"} and all(p.severity != "error" for p in problems)
    assert by_file["actual.csv"].severity == "warning" and "did you mean actuals.csv?" in by_file["actual.csv"].message
    assert by_file["orders.xlsx"].severity == "warning" and "cannot open this workbook" in by_file["orders.xlsx"].message
    assert by_file["readme.md"].severity == "info"
    assert load_data(folder).report.ok  # the run goes on


def test_optional_tables_absent_are_empty_frames(tiny_dir):
    data = load_data(tiny_dir)
    assert not data.has("capacity") and data.capacity.empty and list(data.capacity.columns) == ["resource", "week", "available_hours"]


def test_missing_eta_means_on_time(tmp_path):
    t = tiny_tables()
    t["supply"].loc[0, "eta_week"] = ""
    data = load_data(write_tables(tmp_path / "d", t))
    assert data.supply.loc[0, "eta_week"] == data.supply.loc[0, "week"]


def test_snapshot_reads_back_exactly_what_was_loaded(tmp_path, small_sample):
    import shutil

    folder = shutil.copytree(small_sample, tmp_path / "data")
    products = pd.read_csv(folder / "products.csv", dtype=str)
    products.loc[0, "unit_cost"] = str(float(products.loc[0, "unit_price"]) + 1)  # a warning: negative margin
    products.to_csv(folder / "products.csv", index=False)
    actuals = pd.read_csv(folder / "actuals.csv", dtype=str)
    pd.concat([actuals, actuals.head(2)]).to_csv(folder / "actuals.csv", index=False)  # a note: rows summed
    data = load_data(folder)
    assert {p.severity for p in data.report.problems} >= {"warning", "info"}  # findings survive the round trip
    write_snapshot(data, tmp_path / "inputs", source_hashes(data.sources))
    again = read_snapshot(tmp_path / "inputs")
    assert again.week == data.week and again.sources == data.sources and again.report.problems == data.report.problems
    for name, frame in data.tables.items():
        pd.testing.assert_frame_equal(again.tables[name], frame, obj=name)  # dtypes too: the steps see the same tables
    pd.testing.assert_frame_equal(again.series(), data.series())


def test_data_health_of_a_snapshot_comes_from_its_profiles_and_says_what_the_rows_say(tmp_path, small_sample):
    from soe_lib.health import weekly_totals
    from soe_lib.health.step import data_health

    data = load_data(small_sample)
    write_snapshot(data, tmp_path / "inputs", source_hashes(data.sources))
    again = read_snapshot(tmp_path / "inputs")
    assert set(again.profiles) == {name for name in data.sources if name in data.tables}
    a, b = data_health(again), data_health(data)
    pd.testing.assert_frame_equal(a.loaded, b.loaded)
    pd.testing.assert_frame_equal(weekly_totals(again), weekly_totals(data), check_dtype=False)
    assert not any(again.tables.held(name) for name in ("actuals", "demand_plan", "open_orders", "supply", "inventory"))


def test_a_matrix_is_the_same_whichever_order_and_chunks_the_rows_come_in(monkeypatch):
    import soe_lib.core.matrix as matrix

    rng = np.random.default_rng(5)
    weeks = pd.date_range(parse_week("2026-W01"), periods=9, freq="7D")
    frame = pd.DataFrame({"sku": rng.choice(list("ABCDEFG"), 400), "location": rng.choice(["L1", "L2"], 400),
                          "week": rng.choice(weeks.append(pd.DatetimeIndex([parse_week("2025-W50")])), 400),
                          "qty": rng.integers(0, 9, 400).astype(float)})
    series = frame[["sku", "location"]].drop_duplicates().sort_values(["sku", "location"]).reset_index(drop=True)
    expected = frame[frame["week"].isin(weeks)].pivot_table(index=["sku", "location"], columns="week", values="qty", aggfunc="sum")
    expected = expected.reindex(index=pd.MultiIndex.from_frame(series), columns=weeks).fillna(0.0).to_numpy()
    whole = history_matrix(frame, series, weeks[-1] + pd.Timedelta(weeks=1), 9).values
    monkeypatch.setattr(matrix, "CHUNK", 37)  # many chunks, each touching cells all over the matrix
    chunked = history_matrix(frame.sample(frac=1, random_state=1), series, weeks[-1] + pd.Timedelta(weeks=1), 9).values
    np.testing.assert_array_equal(chunked, whole)
    np.testing.assert_array_equal(to_matrix(frame, series, weeks), expected)
    first = frame.groupby(["sku", "location"])["week"].min().reindex(pd.MultiIndex.from_frame(series)).to_numpy()
    before = np.arange(9)[None, :] < np.searchsorted(weeks, first)[:, None]  # NaN before a series' first week
    np.testing.assert_array_equal(np.isnan(whole), before)


def test_snapshot_doubles_as_a_data_folder(tmp_path, tiny_dir):
    data = load_data(tiny_dir)
    write_snapshot(data, tmp_path / "inputs", source_hashes(data.sources))
    again = load_data(tmp_path / "inputs")  # re-running a week from its archived inputs
    pd.testing.assert_frame_equal(again.supply, data.supply, check_dtype=False)
    assert again.week == data.week


def test_missing_weeks_are_zero_demand_after_the_first_actual():
    actuals = pd.DataFrame(
        {
            "sku": ["A", "A", "B"],
            "location": ["L", "L", "L"],
            "week": [parse_week("2026-W44"), parse_week("2026-W47"), parse_week("2026-W46")],
            "qty": [5.0, 7.0, 3.0],
        }
    )
    series = pd.DataFrame({"sku": ["A", "B", "C"], "location": ["L", "L", "L"]})
    panel = history_matrix(actuals, series, parse_week("2026-W48"), weeks_back=5)  # W43..W47
    np.testing.assert_array_equal(panel.values[0], [np.nan, 5, 0, 0, 7])  # W45, W46 omitted = 0
    np.testing.assert_array_equal(panel.values[1], [np.nan, np.nan, np.nan, 3, 0])  # before its first week: NaN
    assert np.isnan(panel.values[2]).all()  # never sold
    long = panel.to_long()
    assert len(long) == 15 and long.loc[4, "qty"] == 7


def test_to_matrix_sums_cells_and_drops_outside_rows():
    weeks = pd.date_range("2026-11-23", periods=2, freq="7D")
    frame = pd.DataFrame(
        {"sku": ["A", "A", "Z"], "location": ["L", "L", "L"], "week": [weeks[0], weeks[0], weeks[1]], "qty": [1.0, 2.0, 9.0]}
    )
    m = to_matrix(frame, pd.DataFrame({"sku": ["A"], "location": ["L"]}), weeks, fill=-1)
    np.testing.assert_array_equal(m, [[3.0, -1.0]])


def test_a_run_folder_is_validated_once_and_read_from_its_snapshot(tiny_dir, tmp_path, monkeypatch):
    from soe_lib.run import week as week_module

    first = open_week(str(tiny_dir), None, tmp_path / "run")
    assert (tmp_path / "run" / "inputs" / "snapshot.json").exists()

    def no_loading(*args, **kwargs):
        raise AssertionError("the next notebook must read the snapshot")

    monkeypatch.setattr(week_module, "load_data", no_loading)
    (tiny_dir / "actuals.csv").write_text("broken")  # the live folder changes: the run does not see it
    second = open_week(str(tiny_dir), None, tmp_path / "run")
    pd.testing.assert_frame_equal(second.data.actuals, first.data.actuals)
    assert second.data.week == first.data.week and second.key == first.key


def test_by_hand_the_snapshot_is_reused_until_an_input_changes(tiny_dir, tmp_path, monkeypatch):
    from soe_lib.run import week as week_module

    monkeypatch.setenv("SOE_OUTPUTS", str(tmp_path / "outputs"))
    first = open_week(str(tiny_dir))
    assert first.out_dir == tmp_path / "outputs" / "lab" / first.label
    calls = []
    real = week_module.load_data
    monkeypatch.setattr(week_module, "load_data", lambda *a, **k: calls.append(a) or real(*a, **k))
    open_week(str(tiny_dir))
    assert calls == []  # same files, same arguments: the lab snapshot is read
    t = tiny_tables()
    t["actuals"].loc[0, "qty"] = "6"
    write_tables(tiny_dir, t)
    changed = open_week(str(tiny_dir))
    assert len(calls) == 1 and changed.key != first.key and changed.out_dir == first.out_dir


def test_the_coverage_warnings_count_past_due_lines_unrouted_production_and_unknown_families(tmp_path, small_sample):
    """Read from the int keys and the ETA column alone (at 1M the supply table in parts is 8.7M lines): the
    same counts and examples as the lines say."""
    import shutil

    from soe_lib.core.weeks import parse_weeks, week_label

    folder = shutil.copytree(small_sample, tmp_path / "data")
    week = load_data(folder).week
    supply = pd.read_csv(folder / "supply.csv", dtype=str)
    supply.loc[[2, 5], "eta_week"] = week_label(week - pd.Timedelta(weeks=3))  # two lines past due
    supply.to_csv(folder / "supply.csv", index=False)
    routings = pd.read_csv(folder / "routings.csv", dtype=str)
    made = supply[supply["kind"].str.lower() == "production"][["sku", "location"]].drop_duplicates()
    cut = made.iloc[:2].merge(routings, on=["sku", "location"])[["sku", "location"]].drop_duplicates()
    assert len(cut) == 2
    routings = routings.merge(cut, on=["sku", "location"], how="left", indicator=True)
    routings[routings["_merge"] == "left_only"].drop(columns="_merge").to_csv(folder / "routings.csv", index=False)
    plan = pd.read_csv(folder / "financial_plan.csv", dtype=str)
    pd.concat([plan, plan.head(1).assign(family="Ghost goods")]).to_csv(folder / "financial_plan.csv", index=False)
    data = load_data(folder)
    found = {p.rule: p for p in data.report.problems if p.severity == "warning"}
    eta = parse_weeks(supply["eta_week"].where(supply["eta_week"].notna(), supply["week"]))
    past = found["expected in the future"]
    assert past.count == int((eta < week).sum()) >= 2 and past.examples[0] == week_label(eta[eta < week].iloc[0])
    assert past.rows[0] == int(np.flatnonzero((eta < week).to_numpy())[0]) + 2  # the file's row (header is row 1)
    unrouted = made.merge(pd.read_csv(folder / "routings.csv", dtype=str), on=["sku", "location"], how="left", indicator=True)
    assert found["routing for production"].count == int((unrouted.drop_duplicates(["sku", "location"])["_merge"] == "left_only").sum()) >= 2
    assert found["family in products"].count == 1 and found["family in products"].examples == ("Ghost goods",)


def test_each_series_product_row_comes_from_its_key_and_is_checked_against_its_sku(small_sample):
    """``Dataset.product_rows``: ``_series // locations`` (the key's definition), the same rows a lookup of the SKU
    text finds; a frame without the key, or whose key disagrees with its SKU, is looked up by the text."""
    data = load_data(small_sample)
    series = data.series()
    by_text = pd.Index(data.products["sku"].astype(str)).get_indexer(series["sku"].astype(str))
    np.testing.assert_array_equal(data.product_rows(series), by_text)
    shuffled = series.iloc[::-1].reset_index(drop=True)
    np.testing.assert_array_equal(data.product_rows(shuffled), by_text[::-1])
    np.testing.assert_array_equal(data.product_rows(series.drop(columns="_series")), by_text)
    wrong = series.assign(_series=series["_series"].to_numpy()[::-1])  # keys of other series: the text decides
    np.testing.assert_array_equal(data.product_rows(wrong), by_text)
    unknown = pd.DataFrame({"sku": ["no such SKU"], "location": [series["location"].iloc[0]]})
    assert data.product_rows(unknown).tolist() == [-1]


def test_the_known_keys_shared_by_the_parts_are_read_once_per_process_and_again_when_rewritten(tmp_path):
    """The parts' validations read the known SKUs and locations from one file (``share_known``), once per process: the
    same objects for every part (their hash tables and category types built once), read again when the file changes."""
    from soe_lib.io.parts import key_ranks, share_known, shared_known

    known = {"products": pd.Index(["B", "A", "C"]), "locations": pd.Index(["L2", "L1"])}
    path = share_known(tmp_path / "parts", known, key_ranks(known))
    first, again = shared_known(path), shared_known(path)
    assert first[0] is again[0] and first[2] is again[2]
    assert list(first[0]["products"]) == ["B", "A", "C"]  # file order: the series keys count in it
    assert list(first[2]["sku"].categories) == ["A", "B", "C"] and list(first[2]["location"].categories) == ["L1", "L2"]
    other = {"products": pd.Index(["X", "Y"]), "locations": pd.Index(["L9"])}
    rewritten = shared_known(share_known(tmp_path / "parts", other, key_ranks(other)))
    assert list(rewritten[0]["products"]) == ["X", "Y"] and list(rewritten[2]["sku"].categories) == ["X", "Y"]
