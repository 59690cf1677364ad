"""The projection kernel: units to served, lost and owed, and the one place units become money."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soe_lib.core.kernel import Policy, Spread, backorder_shares, demand_scenarios, flows, money, position, series_seed, spread_of, value


def _simulate(on_hand: float, receipts: list[float], demand: list[float], b: float, price: float, cost: float, delay_share: float) -> float:
    """A plain week-by-week simulation, written independently of the kernel: the lost-sales world (stock
    never below zero, unmet demand gone) and the backorder world (unmet demand waits, served first come
    first served by the next receipts), weighed by the backorder share."""
    stock, lost = on_hand, 0.0
    for r, d in zip(receipts, demand, strict=True):
        available = stock + r
        served = min(available, d) if available > 0 else 0.0
        lost += d - served
        stock = available - served
    stock, owed, waited = on_hand, 0.0, 0.0
    for r, d in zip(receipts, demand, strict=True):
        available = stock + r
        caught_up = min(owed, max(available, 0.0))
        owed -= caught_up
        available -= caught_up
        served = min(d, max(available, 0.0))
        owed += d - served
        stock = available - served
        waited += owed
    margin = price - cost
    return (1 - b) * margin * lost + b * (margin * owed + delay_share * price * waited)


def test_the_worked_example_of_the_docs():
    """docs/financial-impact.md, "The projection kernel by hand": 10 on hand, 8 a week, 20 arriving in week 2."""
    on_hand, receipts, demand = np.array([10.0]), np.array([[0.0, 0.0, 20.0, 0.0]]), np.array([[8.0, 8.0, 8.0, 8.0]])
    p = position(on_hand, receipts, demand)
    np.testing.assert_allclose(p, [[2, -6, 6, -2]])
    price, cost = np.array([10.0]), np.array([6.0])
    lost_sales = flows(p, demand, Policy(np.zeros(1)))
    np.testing.assert_allclose(lost_sales.lost, [[0, 6, 0, 0]])  # the 6 of week 1 are gone; week 3 is served from the receipt
    np.testing.assert_allclose(lost_sales.stock, [[2, 0, 12, 4]])
    assert money(lost_sales, price, cost, 0.1).margin_at_risk[0] == pytest.approx(24.0)  # 6 x (10 - 6)
    waiting = flows(p, demand, Policy(np.ones(1), 0.1))
    np.testing.assert_allclose(waiting.backlog, [[0, 6, 0, 2]])
    m = money(waiting, price, cost, 0.1)
    assert (m.undelivered[0], m.waited[0]) == pytest.approx((2.0, 8.0))
    assert m.margin_at_risk[0] == pytest.approx(4 * 2 + 1.0 * 8)  # the 2 still owed at the end, 8 unit-weeks at 10 % of 10
    half = money(flows(p, demand, Policy(np.full(1, 0.5), 0.1)), price, cost, 0.1).margin_at_risk[0]
    assert half == pytest.approx(0.5 * 24 + 0.5 * 16)
    # a transfer of 6 landing in week 1 removes all of it; pulling the 20 forward to week 1 only 4 of the 6 lost units:
    # the last week then runs short of what the receipt would have left
    transfer = p + np.array([[0, 6, 6, 6]])
    pull_in = p + np.array([[0, 20, 0, 0]])
    base = value(p, demand, Policy(np.zeros(1)), price, cost)[0]
    assert base - value(transfer, demand, Policy(np.zeros(1)), price, cost)[0] == pytest.approx(24.0)
    assert base - value(pull_in, demand, Policy(np.zeros(1)), price, cost)[0] == pytest.approx(16.0)


series_strategy = st.lists(
    st.tuples(st.floats(0, 40), st.lists(st.floats(0, 30), min_size=6, max_size=6), st.lists(st.floats(0, 15), min_size=6, max_size=6)),
    min_size=1, max_size=6,
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(series_strategy, st.sampled_from([0.0, 1.0, 0.35]), st.floats(0, 0.2))
def test_the_kernel_is_the_plain_simulation_for_any_series_and_policy(series, b, delay_share):
    on_hand = np.array([s[0] for s in series])
    receipts, demand = np.array([s[1] for s in series]), np.array([s[2] for s in series])
    price, cost = np.full(len(series), 12.0), np.full(len(series), 7.0)
    got = value(position(on_hand, receipts, demand), demand, Policy(np.full(len(series), b), delay_share), price, cost)
    want = [_simulate(o, list(r), list(d), b, 12.0, 7.0, delay_share) for o, r, d in series]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    f = flows(position(on_hand, receipts, demand), demand, Policy(np.full(len(series), b), delay_share))
    np.testing.assert_allclose(f.shipped.sum(axis=1), demand.sum(axis=1) - f.undelivered, atol=1e-9)  # nothing is counted twice
    assert (f.stock >= -1e-9).all() and (f.lost >= -1e-9).all() and (f.backlog >= -1e-9).all()
    m = money(f, price, cost, delay_share)
    np.testing.assert_allclose(m.per_week.sum(axis=1), m.margin_at_risk, atol=1e-9)  # the weeks of a gap add up to its money


def test_the_backorder_share_of_a_product_wins_over_its_location_and_the_parameter():
    keys = pd.DataFrame({"sku": ["A", "B", "C"], "location": ["L1", "L1", "L2"]})
    products = pd.DataFrame({"sku": ["A", "B", "C"], "backorder_share": [0.9, np.nan, np.nan]})
    locations = pd.DataFrame({"location": ["L1", "L2"], "backorder_share": [0.4, np.nan]})
    np.testing.assert_allclose(backorder_shares(keys, products, locations, 0.1), [0.9, 0.4, 0.1])
    np.testing.assert_allclose(backorder_shares(keys, products.drop(columns="backorder_share"), None, 0.2), [0.2, 0.2, 0.2])
    # with each key's product row found once by the caller (the finance world's): the same, a key without a product too
    shuffled = products.iloc[[2, 0, 1]].reset_index(drop=True)
    np.testing.assert_allclose(backorder_shares(keys, shuffled, locations, 0.1, product_rows=np.array([1, 2, 0])), [0.9, 0.4, 0.1])
    np.testing.assert_allclose(backorder_shares(keys, shuffled, locations, 0.1, product_rows=np.array([-1, 2, 0])), [0.4, 0.4, 0.1])


def test_demand_scenarios_keep_the_mean_and_are_the_same_in_any_split_of_the_series():
    keys = pd.DataFrame({"sku": [f"S{k}" for k in range(6)], "location": "L"})
    mean, sd = np.full((6, 13), 9.0), np.full((6, 13), 30.0)
    mean[5] = 0.0  # no demand: no spread
    draws = demand_scenarios(series_seed(keys), mean, sd)
    assert draws.shape == (6, 32, 13) and (draws >= 0).all()
    np.testing.assert_allclose(draws.mean(axis=1)[:5], 9.0, rtol=1e-9)
    assert (draws[:5] < 0.5).mean() > 0.4 and draws[:5].max() > 60  # lumpy: mostly nothing, now and then a large week
    np.testing.assert_allclose(draws[5], 0.0)
    again = demand_scenarios(series_seed(keys.iloc[[3, 1]]), mean[[3, 1]], sd[[3, 1]])
    np.testing.assert_array_equal(again, draws[[3, 1]])  # a part of the series gets the same scenarios
    assert not np.allclose(draws[:, :, 0], draws[:, :, 1])  # weeks are not copies of each other


def test_only_series_whose_spread_exceeds_their_mean_are_valued_over_scenarios():
    keys = pd.DataFrame({"sku": ["smooth", "lumpy"], "location": "L"})
    mean, sd = np.array([[20.0] * 13, [9.0] * 13]), np.array([[4.0] * 13, [30.0] * 13])
    spread = spread_of(keys, mean, sd)
    assert spread.rows.tolist() == [1]
    p = np.array([[50.0 - 20 * t for t in range(13)], [60.0 - 9 * (t + 1) for t in range(13)]])
    # the expected loss under the band of a lumpy series differs from the loss of its average week
    with_band = value(p, mean, Policy(np.zeros(2)), np.array([10.0, 10.0]), np.array([5.0, 5.0]), spread)
    average = value(p, mean, Policy(np.zeros(2)), np.array([10.0, 10.0]), np.array([5.0, 5.0]))
    assert with_band[0] == pytest.approx(average[0]) and with_band[1] != pytest.approx(average[1], rel=0.05)
    assert spread_of(keys, mean, None).rows.size == 0  # a week archived before spreads were kept: no scenarios


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), unique=True, max_size=12), st.lists(st.integers(0, 45), max_size=20), st.randoms(use_true_random=False))
def test_the_scenarios_of_any_rows_are_those_of_the_same_series_in_any_order(have, asked, rnd):
    """``Spread.take`` looks rows up by bisection (the greedy plan asks for one series 800k times at 1M): any order
    of the spread's rows, repeats and absent rows in the question, each row gets its own series' scenarios."""
    shuffled = list(have)
    rnd.shuffle(shuffled)
    offset = np.asarray(shuffled, dtype=float)[:, None, None] + np.zeros((len(shuffled), 2, 3))
    got = Spread(np.asarray(shuffled, dtype=np.int64), offset).take(np.asarray(asked, dtype=np.int64))
    present = [i for i, r in enumerate(asked) if r in have]
    assert got.rows.tolist() == present
    assert got.offset[:, 0, 0].tolist() == [float(asked[i]) for i in present]


@pytest.mark.parametrize("b", [0.0, 0.6])
def test_value_from_the_losses_alone_is_the_money_of_the_whole_flows_to_the_last_digit(b):
    """:func:`value` computes lost and owed units only (the greedy plan and the options' bisection call it thousands
    of times); the full flows' money, with stock and shipped units, must give the same figures exactly."""
    rng = np.random.default_rng(7)
    n, t = 40, 13
    keys = pd.DataFrame({"sku": [f"S{k}" for k in range(n)], "location": "L"})
    mean = rng.gamma(1.0, 8.0, (n, t))
    sd = np.where(np.arange(n)[:, None] % 3 == 0, 4 * mean, 0.5 * mean)  # a third lumpy: valued over scenarios
    spread = spread_of(keys, mean, sd)
    assert 0 < len(spread.rows) < n
    p = position(rng.uniform(0, 60, n), rng.uniform(0, 12, (n, t)), mean)
    policy = Policy(np.full(n, b), 0.05)
    price, cost = rng.uniform(5, 20, n), rng.uniform(1, 5, n)
    whole = money(flows(p, mean, policy, spread), price, cost, 0.05).margin_at_risk
    np.testing.assert_array_equal(value(p, mean, policy, price, cost, spread), whole)
    assert whole.sum() > 0
