"""Allocation of scarce supply to customers' order lines: tiers, fair share, contractual minima, confirmed weeks,
ATP and CTP, the three policies, the promise command and the customer items of the decision list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from soe_lib.allocation.engine import allocate, available_to_promise
from soe_lib.allocation.params import AllocationParams
from soe_lib.allocation.step import allocate_week
from soe_lib.core.weeks import parse_week

RUN = parse_week("2026-W48")
WEEKS = pd.date_range(RUN, periods=4, freq="7D")


def _alloc(supply, lines, min_fill=None):
    """lines: (week, qty, tier, margin) on one SKU-location."""
    w, q, k, m = (np.array(c) for c in zip(*lines, strict=True))
    return allocate(np.array([supply], dtype=float), np.zeros(len(w), dtype=np.int64), w, q.astype(float), k, m.astype(float),
                    None if min_fill is None else np.array(min_fill, dtype=float))


def test_tiers_are_served_in_order_and_a_tier_shares_equally_by_hand():
    """10 on hand, 20 more in week 2. Week 0: tier 1 asks 6, tier 2 asks 5 and 5: tier 1 gets its 6, the 4 left go
    to tier 2 at 40 % each (2 and 2). Week 1: a tier-1 line of 3 finds nothing left. Week 2: 5 of the 20 go to a
    tier-1 line; the 15 spare confirm the cuts in queue order (week, tier, line): 3 + 3 + 3 = 9 <= 15 in week 2."""
    a = _alloc([10, 10, 30, 30], [(0, 6, 1, 5), (0, 5, 2, 5), (0, 5, 2, 5), (1, 3, 1, 5), (2, 5, 1, 5)])
    np.testing.assert_array_equal(a.allocated, [6, 2, 2, 0, 5])
    np.testing.assert_allclose(a.week_share[1:3], [0.4, 0.4])  # the same fill percentage within tier 2
    np.testing.assert_array_equal(a.cut, [0, 3, 3, 3, 0])
    np.testing.assert_array_equal(a.confirmed, [0, 2, 2, 2, 2])
    # ATP: supply less what is allocated and what the cuts owed take, the smallest of it from then on: 30 - 15 - 9
    np.testing.assert_array_equal(a.cumulative[0], [10, 10, 24, 24])
    np.testing.assert_array_equal(available_to_promise(np.array([[10, 10, 30, 30]], dtype=float), a.cumulative)[0], [0, 0, 6, 6])
    # a tier 2 four times as large gets the same share: 4 of (5 + 15) units left at 20 % each
    b = _alloc([10, 10, 10, 10], [(0, 6, 1, 5), (0, 5, 2, 5), (0, 15, 2, 5)])
    np.testing.assert_array_equal(b.allocated, [6, 1, 3])


def test_whole_units_go_to_the_largest_remainders_then_the_higher_margin():
    """4 units for three tier-1 lines of 5 each (26.7 % each: 1.33): the floors give 1 each, the unit left goes to the
    line of the higher margin (equal remainders)."""
    a = _alloc([4, 4, 4, 4], [(0, 5, 1, 2.0), (0, 5, 1, 9.0), (0, 5, 1, 4.0)])
    np.testing.assert_array_equal(a.allocated, [1, 2, 1])
    assert a.allocated.sum() == 4


def test_a_contractual_minimum_is_kept_before_higher_tiers_or_reported_as_impossible():
    """10 units; tier 1 asks 10, tier 2 asks 4 with a 50 % minimum: the minimum (2) is served first, tier 1 gets 8.
    With minima of 100 % on both (8 + 8 > 10) tier 1's minimum is served, tier 2 gets the 2 left and is reported."""
    a = _alloc([10, 10, 10, 10], [(0, 10, 1, 5), (0, 4, 2, 5)], min_fill=[0.0, 0.5])
    np.testing.assert_array_equal(a.allocated, [8, 2])
    assert not a.min_missed.any()
    b = _alloc([10, 10, 10, 10], [(0, 8, 1, 5), (0, 8, 2, 5)], min_fill=[1.0, 1.0])
    np.testing.assert_array_equal(b.allocated, [8, 2])
    assert list(b.min_missed) == [False, True]


def _projection(on_hand, receipts, sku="A", location="L1"):
    receipts = np.asarray(receipts, dtype=float)
    demand = np.zeros(len(WEEKS))
    return pd.DataFrame({"sku": sku, "location": location, "week": WEEKS, "constrained_receipts_qty": receipts,
                         "constrained_projected_on_hand": on_hand + np.cumsum(receipts - demand), "demand_qty": demand})


PRODUCTS = pd.DataFrame({"sku": ["A"], "unit_price": [10.0], "unit_cost": [4.0]})


def _by_hand_week():
    orders = pd.DataFrame({"sku": "A", "location": "L1", "week": [WEEKS[0]] * 3 + [WEEKS[1]], "qty": [6.0, 6.0, 4.0, 4.0],
                           "order_id": ["O1", "O2", "O3", "O4"], "line": ["1", "1", "1", "1"], "customer": ["KA", "SMALL", "OTHER", "SMALL"]})
    customers = pd.DataFrame({"customer": ["KA", "SMALL", "OTHER"], "tier": [1, 2, 2], "min_fill_rate": [0.5, np.nan, np.nan],
                              "fill_rate_target": [0.98, 0.9, 0.9], "otif_target": [0.95, np.nan, np.nan]})
    capacity = pd.DataFrame({"resource": "R", "week": WEEKS, "available_hours": [10.0, 10.0, 10.0, np.nan], "completed_hours": [10.0, 4.0, 6.0, 0.0]})
    routings = pd.DataFrame({"sku": ["A"], "location": ["L1"], "resource": ["R"], "hours_per_unit": [2.0]})
    return allocate_week(orders, customers, PRODUCTS, routings, _projection(10.0, [0, 6, 0, 0]), capacity, WEEKS, AllocationParams())


def test_the_week_names_who_is_cut_why_and_atp_and_ctp_by_hand():
    """Key account KA (tier 1, minimum 50 %) and two others share 10 units in the run week and 6 more in week 1.
    CTP: resource R has 6 spare hours in week 1 and 4 in week 2 at 2 hours a unit: ATP + 3, then + 2."""
    week = _by_hand_week()
    lines = week.lines.set_index("order_id")
    # week 0: KA (tier 1) 6 of 6; tier 2 shares 4 of 10 at 40 %: SMALL 2.4 -> 2, OTHER 1.6 -> 2 (the larger remainder)
    assert lines.loc["O1", "allocated_qty"] == 6 and lines.loc["O2", "allocated_qty"] == 2 and lines.loc["O3", "allocated_qty"] == 2
    assert lines.loc["O2", "reason"] == "tier 2 served 40 % of what it asked (equal share within the tier)"
    # week 1: 6 more arrive; SMALL's second line takes 4; the 2 spare are not enough for O2's cut of 4: not confirmed
    assert lines.loc["O4", "allocated_qty"] == 4 and pd.isna(lines.loc["O2", "confirmed_week"]) and lines.loc["O1", "confirmed_week"] == WEEKS[0]
    promise = week.promise.set_index("week")
    assert list(promise["atp_qty"]) == [0, 0, 0, 0]  # the 2 spare of week 1 go to O2's cut, queued first
    assert list(promise["ctp_qty"]) == [0, 3, 5, 5]  # spare hours: 6 h / 2 in week 1, 4 h / 2 in week 2; none given for week 3
    service = week.service.set_index("customer")
    assert service.loc["KA", "fill_rate"] == 1 and not service.loc["KA", "below_target"]
    assert service.loc["SMALL", "fill_rate"] == pytest.approx(6 / 10) and service.loc["SMALL", "below_target"]
    policies = week.policies.set_index(["policy", "tier"])
    # fair share: 10 units for 16 asked in week 0 (62.5 % each): KA loses units it gets under the rule
    assert policies.loc[("rule", "1"), "fill_rate"] == 1 and policies.loc[("fair_share", "1"), "fill_rate"] < 1
    assert policies.loc[("rule", "all"), "allocated_qty"] == policies.loc[("fair_share", "all"), "allocated_qty"] == 14


def test_the_sample_serves_its_key_account_first_and_the_decision_list_names_who_is_cut(sample_cycle):
    """The planted shortage: the key account (tier 1, a 90 % minimum) keeps its units under the rule while the others
    at the item are cut; fair share would cut it too. Every customer cut is an item of the decision list, valued by
    the kernel: its share of the margin at risk of the SKU-locations it is cut at."""
    run, planted, results = sample_cycle
    key = planted["key_account_cut"]
    week = results["allocation"]
    at = week.lines[(week.lines["sku"] == key["sku"]) & (week.lines["location"] == key["location"])]
    mine = at[at["customer"] == key["customer"]]
    assert len(mine) >= 2 and (mine["cut_qty"] == 0).all() and mine["minimum_honoured"].all()
    cut = week.cut()
    assert len(cut) and key["customer"] not in set(cut["customer"]) and (cut["reason"] != "").all()
    policies = week.policies.set_index(["policy", "tier"])
    assert policies.loc[("rule", "1"), "fill_rate"] == 1 and policies.loc[("fair_share", "1"), "fill_rate"] < 1
    items = results["finance"].items
    customers = items[items["kind"] == "customer"]
    assert set(customers["resource"]) == set(cut["customer"]) and customers["item_id"].str.startswith("CUS-").all()
    impact = results["finance"].impact.assign(sku=lambda f: f["sku"].astype(str), location=lambda f: f["location"].astype(str))
    at_risk = impact.groupby(["sku", "location"])["margin_at_risk"].sum()
    cut_at = cut[["sku", "location"]].drop_duplicates()
    assert customers["item_money"].sum() == pytest.approx(at_risk.reindex(pd.MultiIndex.from_frame(cut_at)).fillna(0).sum())
    assert customers["detail"].str.contains(r"\(tier \d\) cut \d+ % of what it ordered, from 2026-W\d\d").all()


def test_a_promise_by_hand_atp_ctp_and_what_an_earlier_week_would_take():
    """The week of the test above: nothing is left to promise from stock and receipts (ATP 0 every week), spare hours
    make 3 by week 1 (CTP). Forced into the run week for the key account (tier 1), 3 units come from the tier-2 lines
    requested by then, the latest line first: OTHER's 2, then 1 of SMALL's."""
    from soe_lib.allocation import promise

    week = _by_hand_week()
    p = promise(week.promise, week.lines, 3, WEEKS[0], tier=1)
    assert p.atp_week is None and p.ctp_week == WEEKS[1]
    assert list(p.cuts["customer"]) == ["OTHER", "SMALL"] and list(p.cuts["take_qty"]) == [2, 1] and p.short_qty == 0
    text = p.text(lambda w: w.strftime("%G-W%V"))
    assert "(ATP) not within the horizon; with spare capacity (CTP) 2026-W49" in text and "take 3 units from 2 lines" in text
    assert promise(week.promise, week.lines, 3, WEEKS[0], tier=2).short_qty == 3  # no line of a lower tier than 2 to take from


def test_soe_promise_on_the_sample_gives_the_atp_and_ctp_weeks(weekly_run, capsys):
    from soe_lib.cli import main
    from soe_lib.io.results import read_table

    _, out = weekly_run
    atp = read_table(out / "2026-W48" / "tables", "available_to_promise")
    have = atp[atp["atp_qty"] >= 1].sort_values(["sku", "location", "week"])
    assert len(have)
    sku, location = have.iloc[0][["sku", "location"]]
    rows = atp[(atp["sku"] == sku) & (atp["location"] == location)].sort_values("week")
    qty = float(rows["atp_qty"].max())
    first_atp, first_ctp = (rows.loc[rows[c] >= qty, "week"].min().strftime("%G-W%V") for c in ("atp_qty", "ctp_qty"))
    assert main(["promise", "--sku", sku, "--location", location, "--qty", f"{qty:g}", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"from stock and receipts (ATP) {first_atp}; with spare capacity (CTP) {first_ctp}." in said
    assert main(["promise", "--sku", "NOPE", "--location", location, "--qty", "1", "--out", str(out)]) == 2
    assert "no SKU NOPE" in capsys.readouterr().err
    assert main(["promise", "--sku", sku, "--location", location, "--qty", "1", "--customer", "<b>x</b>", "--out", str(out)]) == 2
    assert "customer <b>x</b> is not in 2026-W48's customers table" in capsys.readouterr().err


def test_actual_service_by_hand_from_the_lines_already_due():
    """Run week 2026-W48. C1: 10 due W45 shipped in full that week; 10 due W46 shipped a week late; 10 due W38 on time
    (inside 13 weeks, not 4). C2: 10 due W47, 7 shipped on time. W30 is outside both windows."""
    from soe_lib.allocation.service import actual_service

    w = parse_week
    history = pd.DataFrame({
        "customer": ["C1", "C1", "C1", "C2", "C2"], "sku": "A", "location": "L1",
        "requested_week": [w("2026-W45"), w("2026-W46"), w("2026-W38"), w("2026-W47"), w("2026-W30")],
        "qty": [10.0, 10.0, 10.0, 10.0, 10.0], "shipped_qty": [10.0, 10.0, 10.0, 7.0, 0.0],
        "shipped_week": [w("2026-W45"), w("2026-W47"), w("2026-W38"), w("2026-W47"), pd.NaT]})
    products = pd.DataFrame({"sku": ["A"], "family": ["F"]})
    out = actual_service(history, products, RUN).set_index(["by", "name", "weeks"])
    assert out.loc[("customer", "C1", 4), "fill_rate"] == pytest.approx(0.5) and out.loc[("customer", "C1", 4), "otif"] == pytest.approx(0.5)
    assert out.loc[("customer", "C1", 13), "fill_rate"] == pytest.approx(20 / 30) and out.loc[("customer", "C1", 13), "otif"] == pytest.approx(2 / 3)
    assert out.loc[("customer", "C2", 4), "fill_rate"] == pytest.approx(0.7) and out.loc[("customer", "C2", 4), "otif"] == 0
    assert out.loc[("family", "F", 4), "lines"] == 3 and out.loc[("location", "L1", 13), "requested_qty"] == 40
