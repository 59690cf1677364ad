"""The built-in sample company: a deterministic generator of every input table.

``generate_sample(skus, locations, seed)`` builds all tables with numpy over a (series x weeks) array,
so 100k SKU-locations take seconds, not minutes. The company's "current week" is fixed
(:data:`RUN_WEEK`), so runs on the sample are reproducible.

It holds the situations S&OE exists for, and says where it planted them (``planted.json``):

- demand patterns: seasonal, trending, smooth, intermittent and lumpy items;
- a demand **spike** (last 3 weeks at ~2.6x plan) on an item with thin stock, and a **drop** (last 4
  weeks at ~0.25x plan);
- a one-off **outlier** week (a single huge order, 10x the usual week);
- a **biased plan**: the Household family is planned ~25 % above what it sells;
- **late inbound** orders: supplier "Oceanic Imports" slips 1-3 weeks, and one item's only near
  receipt slips from week +1 to +4, leaving it short;
- a **capacity overload**: resource LINE-2 loses 45 % of its hours in weeks +2..+4 (maintenance);
- a location **near its storage capacity** (the last location holds 97 % of it today; receipts push it over);
- a **financial plan** by family and week, 3 % above what the demand plan is worth;
- **substitutes**: in each family (but spare parts) the first items may be sold in place of each other;
- **lanes and a port congestion** (:mod:`.logistics`): each supplier ships on a lane; deliveries through Hamburg
  in the last 8 weeks came 2-4 weeks late while the open lines there still show on-time ETAs;
- **customers and order lines** (:mod:`.customers`): four customers in three tiers, a key account with a
  contractual minimum, and a shortage where fair share would cut the key account.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.excel import text_cells_as_text
from ..core.paths import sample_dir
from ..core.weeks import parse_week, week_labels
from .customers import customer_tables, order_history
from .logistics import logistics_tables

__all__ = [
    "DEFAULTS", "GENERATOR_VERSION", "RUN_WEEK", "Truth", "ensure_sample", "generate_sample", "replacing_folder", "sample_with_truth", "write_company",
    "write_sample",
]

RUN_WEEK = "2026-W48"
HISTORY_WEEKS = 156
PLAN_AHEAD_WEEKS = 26
SUPPLY_WEEKS = 16
GENERATOR_VERSION = 6


@dataclass(frozen=True)
class Family:
    name: str
    price: tuple[float, float]
    margin: float  # (price - cost) / price
    made: bool  # produced in-house on a line (else purchased)
    resource: str | None
    patterns: tuple[float, float, float, float, float]  # seasonal, trending, smooth, intermittent, lumpy


FAMILIES = (
    Family("Beverages", (1.5, 6.0), 0.35, True, "LINE-1", (0.6, 0.2, 0.2, 0.0, 0.0)),
    Family("Snacks", (1.0, 4.0), 0.40, True, "LINE-2", (0.3, 0.3, 0.4, 0.0, 0.0)),
    Family("Household", (3.0, 15.0), 0.30, False, None, (0.2, 0.3, 0.5, 0.0, 0.0)),
    Family("Personal Care", (4.0, 25.0), 0.50, False, None, (0.3, 0.2, 0.3, 0.2, 0.0)),
    Family("Spare Parts", (20.0, 400.0), 0.55, False, None, (0.0, 0.0, 0.0, 0.6, 0.4)),
)
PATTERNS = np.array(["seasonal", "trending", "smooth", "intermittent", "lumpy"])
PLAN_BIAS = {"Household": 0.25}
SUPPLIERS = np.array(["Nordic Supply AB", "Oceanic Imports", "Acme Components 007", "Delta & Sons, Ltd."])
LATE_SUPPLIER = "Oceanic Imports"
LOCATION_NAMES = ("North", "South", "West", "East", "Central")
DEFAULTS = {"skus": 40, "locations": 3, "seed": 7}


def _codes(n_skus: int) -> np.ndarray:
    codes = np.char.zfill(np.arange(1, n_skus + 1).astype(str), 5).astype(object)
    if n_skus >= 10:
        codes[9] = "KIT 1/2, 50ml"  # real codes carry punctuation: CSV quoting must survive it
    return codes


def _locations(n: int) -> pd.DataFrame:
    codes = [f"{(j + 1) * 100:04d}" for j in range(n)]
    region = [LOCATION_NAMES[j % len(LOCATION_NAMES)] for j in range(n)]
    return pd.DataFrame({"location": codes, "region": region, "storage_capacity": np.nan})


@dataclass
class _Series:
    """Every SKU at every location: series i is SKU ``sku[i]`` at location ``loc[i]``."""

    sku: np.ndarray  # SKU position per series
    loc: np.ndarray  # location position per series
    pattern: np.ndarray  # pattern index per series (PATTERNS)
    codes: np.ndarray  # SKU codes (per SKU)
    locations: pd.DataFrame
    families: list[Family]  # per SKU
    weeks: pd.DatetimeIndex  # history + plan horizon
    now: int  # column of the run week

    @property
    def n(self) -> int:
        return len(self.sku)

    def keys(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return {"sku": self.codes[self.sku[rows]], "location": self.locations["location"].to_numpy()[self.loc[rows]]}


def _products(rng: np.random.Generator, skus: int) -> tuple[pd.DataFrame, list[Family], np.ndarray]:
    """Products with families, prices and margins, and each product's demand pattern."""
    fam_idx = np.arange(skus) % len(FAMILIES)
    fam_idx[skus // 2 :] = rng.integers(0, len(FAMILIES), skus - skus // 2)  # first half covers every family
    fam = [FAMILIES[i] for i in fam_idx]
    lo = np.array([f.price[0] for f in fam])
    hi = np.array([f.price[1] for f in fam])
    price = np.round(lo + (hi - lo) * rng.random(skus), 2)
    margin = np.array([f.margin for f in fam]) * rng.uniform(0.8, 1.2, skus)
    cost = np.round(price * (1 - margin), 2)
    probs = np.array([f.patterns for f in fam])
    pattern = (rng.random(skus)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1).clip(0, 4)
    products = pd.DataFrame(
        {
            "sku": _codes(skus),
            "description": [f"{f.name} item {i + 1}" for i, f in enumerate(fam)],
            "family": [f.name for f in fam],
            "unit_price": price,
            "unit_cost": cost,
            "abc_class": np.where(price > np.median(price), "A", "B"),  # an extra column: kept, never an error
        }
    )
    return products, fam, pattern


def _demand(rng: np.random.Generator, s: _Series) -> tuple[np.ndarray, np.ndarray]:
    """(actual demand, S&OP plan) per series and week: seasonal, trending and smooth means with
    gamma-Poisson noise; intermittent/lumpy as occurrence x size; the plan carries the family bias."""
    n, n_t, now = s.n, len(s.weeks), s.now
    t = np.arange(n_t)[None, :]
    level = np.exp(rng.normal(np.log(40), 0.7, n)) * np.linspace(1.3, 0.7, len(s.locations))[s.loc]
    level = np.where(s.pattern >= 3, level / 8, level)  # intermittent/lumpy items sell little
    phase = rng.integers(0, 52, n)[:, None]
    amp = np.where(s.pattern == 0, rng.uniform(0.25, 0.6, n), rng.uniform(0.0, 0.08, n))[:, None]
    growth = np.where(s.pattern == 1, rng.choice([-0.25, 0.3, 0.5], n), 0.0)[:, None]
    mean = level[:, None] * (1 + amp * np.sin(2 * np.pi * (t + phase) / 52)) * np.clip(1 + growth * (t - now) / 52, 0.2, None)
    occur_p = np.select([s.pattern == 3, s.pattern == 4], [0.3, 0.1], 1.0)[:, None]
    occurs = rng.random((n, n_t)) < occur_p
    size_cv = np.where(s.pattern == 4, 1.2, 0.25)[:, None]
    shape = 1 / size_cv**2
    rate = rng.gamma(shape, 1 / shape, (n, n_t)) * mean / occur_p
    actual = np.where(occurs, rng.poisson(rate), 0).astype(float)
    # the S&OP plan: the expected demand, with the family bias and a little monthly planner noise
    bias = np.array([PLAN_BIAS.get(f.name, 0.0) for f in s.families])[s.sku][:, None]
    month_noise = np.repeat(rng.normal(0, 0.05, (n, n_t // 4 + 1)), 4, axis=1)[:, :n_t]
    return actual, np.round(mean * (1 + bias) * (1 + month_noise))


def _plant_demand(s: _Series, actual: np.ndarray, plan: np.ndarray) -> dict[str, int]:
    """A spike, a drop, a one-off outlier (and the item whose order will be late) on regular items at
    the first location; the future is unknown."""
    names = np.array([f.name for f in s.families])[s.sku]
    regular = np.flatnonzero((s.pattern <= 2) & (s.loc == 0) & (names != "Household"))
    spike, drop, outlier, late_item = regular[:4]
    now = s.now
    actual[spike, now - 3 : now] = np.round(plan[spike, now - 3 : now] * 2.6)
    actual[drop, now - 4 : now] = np.round(plan[drop, now - 4 : now] * 0.25)
    actual[outlier, now - 6] = np.round(plan[outlier, now - 6] * 10)
    actual[:, now:] = 0
    return {"spike": spike, "drop": drop, "outlier": outlier, "late_item": late_item}


@dataclass
class _Supply:
    on_hand: np.ndarray
    safety: np.ndarray
    lines: pd.DataFrame  # the supply table
    rows: np.ndarray  # series of each line
    cols: np.ndarray  # planned horizon week of each line
    qty: np.ndarray  # (N, SUPPLY_WEEKS) receipt quantities
    delay: np.ndarray  # weeks late per line
    made: np.ndarray  # per series: produced in-house


def _receipts(rng: np.random.Generator, s: _Series, plan: np.ndarray, planted: dict[str, int]) -> tuple:
    """Stock and the receipt grid: a receipt every ``cadence`` weeks covering the plan until the next one;
    on hand covers the weeks until the first receipt, on top of safety stock."""
    n, now = s.n, s.now
    fwd = plan[:, now : now + 13].mean(axis=1)
    safety = np.round(fwd * 1.5)
    uplift = rng.uniform(0.6, 1.4, n)  # how much stock above the next receipt the planner keeps
    cadence = rng.choice([1, 2, 4], n)
    cadence[planted["late_item"]] = 4  # its one late order must matter: receipts are few and large
    offset = rng.integers(0, 4, n) % cadence
    h = np.arange(SUPPLY_WEEKS)[None, :]
    receipt = ((h - offset[:, None]) % cadence[:, None] == 0) & (h >= 1)
    future = plan[:, now : now + SUPPLY_WEEKS + 4]
    ahead = np.cumsum(np.concatenate([np.zeros((n, 1)), future], axis=1), axis=1)
    span = np.clip(h + cadence[:, None], None, future.shape[1])
    qty = np.ceil(ahead[np.arange(n)[:, None], span] - ahead[:, :SUPPLY_WEEKS]).clip(1, None)
    first_receipt = np.argmax(receipt, axis=1)
    on_hand = np.round(safety + ahead[np.arange(n), first_receipt] + fwd * uplift)
    spike, late = planted["spike"], planted["late_item"]
    on_hand[spike] = np.round(fwd[spike] * 1.5)
    on_hand[late] = np.round(fwd[late] * 1.6)
    receipt[late] = False
    receipt[late, [1, 8, 12]] = True
    qty[late, 1] = np.ceil(fwd[late] * 7)
    return on_hand, safety, receipt, qty


def _supply(rng: np.random.Generator, s: _Series, plan: np.ndarray, planted: dict[str, int]) -> _Supply:
    """Open supply lines: production for made families, purchases (some transfers) otherwise; the late
    supplier slips 1-3 weeks and the planted late order slips 3."""
    on_hand, safety, receipt, qty = _receipts(rng, s, plan, planted)
    rs, rh = np.nonzero(receipt)
    made = np.array([f.made for f in s.families])[s.sku]
    kind = np.where(made[rs], "production", "purchase")
    supplier = np.where(made[rs], "", SUPPLIERS[rng.integers(0, len(SUPPLIERS), len(rs))])
    transfer = (~made[rs]) & (s.loc[rs] > 0) & (rng.random(len(rs)) < 0.1)
    kind = np.where(transfer, "transfer", kind)
    supplier = np.where(transfer, "", supplier)
    delay = np.where(supplier == LATE_SUPPLIER, rng.integers(1, 4, len(rs)), (rng.random(len(rs)) < 0.08).astype(int))
    delay = np.where(kind == "production", 0, delay)
    late_line = (rs == planted["late_item"]) & (rh == 1)
    supplier = np.where(late_line, LATE_SUPPLIER, supplier)
    kind = np.where(late_line, "purchase", kind)
    delay = np.where(late_line, 3, delay)
    planned_week = s.weeks[s.now + rh]
    prefix = np.select([kind == "production", kind == "transfer"], ["MO", "TO"], "PO")
    lines = pd.DataFrame(
        {
            "order_id": pd.Series(prefix, dtype=object) + "-" + pd.Series(np.arange(1, len(rs) + 1)).astype(str).str.zfill(6),
            **s.keys(rs),
            "week": planned_week.strftime("%Y-%m-%d"),  # dates, not ISO labels: both are accepted
            "eta_week": (planned_week + pd.to_timedelta(delay * 7, unit="D")).strftime("%Y-%m-%d"),
            "qty": qty[rs, rh],
            "supplier": supplier,
            "kind": kind,
        }
    )
    return _Supply(on_hand, safety, lines, rs, rh, qty, delay, made)


def _capacity(rng: np.random.Generator, s: _Series, sup: _Supply) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(routings, capacity): lines sized 10 % above their load, LINE-2 losing hours to maintenance in
    weeks +2..+4 (the overload S&OE must catch)."""
    hours_per_unit = np.round(rng.uniform(0.01, 0.05, len(s.codes)), 4)
    made_series = np.flatnonzero(sup.made)
    routings = pd.DataFrame(
        {
            **s.keys(made_series),
            "resource": np.array([s.families[k].resource for k in s.sku[made_series]], dtype=object),
            "hours_per_unit": hours_per_unit[s.sku[made_series]],
        }
    )
    horizon_weeks = s.weeks[s.now : s.now + SUPPLY_WEEKS]
    prod = sup.lines[sup.lines["kind"] == "production"].merge(routings, on=["sku", "location"])
    prod["hours"] = prod["qty"] * prod["hours_per_unit"]
    rows = []
    for res in ("LINE-1", "LINE-2"):  # two resources, each vectorised over the weeks
        load = prod[prod["resource"] == res].groupby("week")["hours"].sum().reindex(
            horizon_weeks.strftime("%Y-%m-%d"), fill_value=0.0).to_numpy()
        hours = np.full(SUPPLY_WEEKS, float(np.ceil(max(load.max(), 1.0) * 1.1)))
        if res == "LINE-2":
            hours[2:5] = np.floor(np.minimum(hours[2:5] * 0.55, load[2:5] * 0.75))
        rows.append(pd.DataFrame({"resource": res, "week": week_labels(pd.Series(horizon_weeks)), "available_hours": hours}))
    return routings, pd.concat(rows, ignore_index=True)


def _storage(s: _Series, sup: _Supply, plan: np.ndarray) -> None:
    """Storage capacity per location: twice the peak for all but the last, which holds 97 % of its
    capacity today and overflows when the next receipts land (units held peak when receipts land)."""
    n = s.n
    rec = np.zeros((n, SUPPLY_WEEKS + 4))
    np.add.at(rec, (sup.rows, sup.cols + sup.delay), sup.qty[sup.rows, sup.cols])
    flow = rec[:, :SUPPLY_WEEKS] - plan[:, s.now : s.now + SUPPLY_WEEKS]
    brought = sup.on_hand[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(flow, axis=1)[:, :-1]], axis=1)
    held = np.clip(brought, 0, None) + rec[:, :SUPPLY_WEEKS]
    per_loc = np.stack([held[s.loc == j].sum(axis=0) for j in range(len(s.locations))])
    last = len(s.locations) - 1
    s.locations["storage_capacity"] = np.round(per_loc.max(axis=1) * 2.0)
    s.locations.loc[last, "storage_capacity"] = float(np.round(sup.on_hand[s.loc == last].sum() / 0.97))


def _long_tables(rng: np.random.Generator, s: _Series, actual: np.ndarray, plan: np.ndarray, sup: _Supply,
                 products: pd.DataFrame, planted: dict[str, int]) -> dict[str, pd.DataFrame]:
    """Actuals (zero weeks omitted, as ERP extracts do), the plan, inventory, booked orders and the
    financial plan (what the demand plan is worth, with a 3 % stretch)."""
    now, n = s.now, s.n
    week_lbl = week_labels(pd.Series(s.weeks)).to_numpy()
    ii, tt = np.nonzero(actual[:, :now] > 0)
    pi, pt = np.nonzero(np.ones_like(plan, dtype=bool))
    share = np.array([0.7, 0.4, 0.15, 0.05])  # booked: most of next week's demand, less further out
    booked = np.round(plan[:, now : now + 4] * share * rng.uniform(0.8, 1.1, (n, 4)))
    booked[planted["spike"]] = np.round(plan[planted["spike"], now : now + 4] * share * 2.4)
    oi, ot = np.nonzero(booked > 0)
    price, cost = products["unit_price"].to_numpy(), products["unit_cost"].to_numpy()
    money = pd.DataFrame(
        {
            "family": products["family"].to_numpy()[s.sku[pi]],
            "week": week_lbl[pt],
            "revenue_plan": plan[pi, pt] * price[s.sku[pi]],
            "margin_plan": plan[pi, pt] * (price - cost)[s.sku[pi]],
        }
    )[pt >= now - 13]
    financial_plan = money.groupby(["family", "week"], as_index=False, sort=True)[["revenue_plan", "margin_plan"]].sum()
    financial_plan[["revenue_plan", "margin_plan"]] = (financial_plan[["revenue_plan", "margin_plan"]] * 1.03).round(2)
    return {
        "actuals": pd.DataFrame({**s.keys(ii), "week": week_lbl[tt], "qty": actual[ii, tt]}),
        "demand_plan": pd.DataFrame({**s.keys(pi), "week": week_lbl[pt], "qty": plan[pi, pt]}),
        "inventory": pd.DataFrame({**s.keys(np.arange(n)), "on_hand": sup.on_hand, "safety_stock": sup.safety}),
        "open_orders": pd.DataFrame({**s.keys(oi), "week": week_lbl[now + ot], "qty": booked[oi, ot]}),
        "financial_plan": financial_plan,
    }


def _substitutes(products: pd.DataFrame) -> pd.DataFrame:
    """Master data of accepted substitutes: in each family except spare parts, the first items are
    substitutes of each other (one for one, at every location). No random draw: the rest of the
    company does not change with it."""
    pairs = []
    for family, items in products.groupby("family", sort=True)["sku"]:
        if family == "Spare Parts":
            continue
        codes = items.tolist()[:4]
        pairs += [(a, b) for a, b in zip(codes[0::2], codes[1::2], strict=False)]
    both = [(a, b) for a, b in pairs] + [(b, a) for a, b in pairs]
    return pd.DataFrame({"sku": [a for a, _ in both], "substitute_sku": [b for _, b in both], "location": "", "ratio": 1.0, "priority": 1})


def _planted(s: _Series, planted: dict[str, int], seed: int) -> dict:
    """Where each planted situation is (``planted.json``)."""
    week_lbl = week_labels(pd.Series(s.weeks)).to_numpy()
    now, last = s.now, len(s.locations) - 1

    def at(i: int) -> dict:
        return {"sku": str(s.codes[s.sku[i]]), "location": str(s.locations["location"].iloc[s.loc[i]])}

    return {
        "run_week": RUN_WEEK,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "skus": len(s.codes),
        "locations": len(s.locations),
        "demand_spike": {**at(planted["spike"]), "weeks": 3, "factor": 2.6},
        "demand_drop": {**at(planted["drop"]), "weeks": 4, "factor": 0.25},
        "outlier": {**at(planted["outlier"]), "week": str(week_lbl[now - 6]), "factor": 10},
        "biased_plan": {"family": "Household", "bias": PLAN_BIAS["Household"]},
        "late_inbound": {**at(planted["late_item"]), "supplier": LATE_SUPPLIER, "planned_week": str(week_lbl[now + 1]), "eta_week": str(week_lbl[now + 4])},
        "late_supplier": LATE_SUPPLIER,
        "capacity_overload": {"resource": "LINE-2", "weeks": [str(w) for w in week_lbl[now + 2 : now + 5]]},
        "storage_near_capacity": {"location": str(s.locations["location"].iloc[last])},
        "patterns": {str(p): int((s.pattern == k).sum()) for k, p in enumerate(PATTERNS)},
    }


@dataclass(frozen=True)
class Truth:
    """What the company's extracts do not show: the demand that will happen, for the weeks after the run
    week (the multi-week simulation, :mod:`.weeks`, realises it week by week)."""

    keys: pd.DataFrame  # sku, location per series
    weeks: pd.DatetimeIndex  # history + plan horizon
    now: int  # column of the run week
    future: np.ndarray  # (series, weeks from the run week on) demand as it will happen
    plan: np.ndarray  # (series, weeks) the S&OP plan


def generate_sample(
    skus: int = DEFAULTS["skus"], locations: int = DEFAULTS["locations"], seed: int = DEFAULTS["seed"]
) -> tuple[dict[str, pd.DataFrame], dict]:
    """All input tables of a sample company with ``skus x locations`` SKU-locations, and what was planted.

    Every stage draws from one seeded generator in a fixed order: the same seed gives the same company.
    """
    tables, planted, _ = sample_with_truth(skus, locations, seed)
    return tables, planted


def sample_with_truth(skus: int = DEFAULTS["skus"], locations: int = DEFAULTS["locations"], seed: int = DEFAULTS["seed"]) -> tuple[dict[str, pd.DataFrame], dict, Truth]:
    """:func:`generate_sample`, and the :class:`Truth` behind it (the same draws: the same company)."""
    if skus < 8 or locations < 2:
        raise ValueError("the sample company needs at least 8 SKUs and 2 locations to hold its planted cases")
    rng = np.random.default_rng(seed)
    run_week = parse_week(RUN_WEEK)
    weeks = pd.date_range(run_week - pd.Timedelta(weeks=HISTORY_WEEKS), periods=HISTORY_WEEKS + PLAN_AHEAD_WEEKS, freq="7D")
    products, fam, pattern = _products(rng, skus)
    s_sku = np.repeat(np.arange(skus), locations)
    s = _Series(s_sku, np.tile(np.arange(locations), skus), pattern[s_sku], products["sku"].to_numpy(), _locations(locations), fam, weeks, HISTORY_WEEKS)
    actual, plan = _demand(rng, s)
    future = actual[:, s.now :].copy()  # what will happen (the extracts never show it)
    planted = _plant_demand(s, actual, plan)
    sup = _supply(rng, s, plan, planted)
    routings, capacity = _capacity(rng, s, sup)
    _storage(s, sup, plan)
    tables = {"products": products, "locations": s.locations, "supply": sup.lines, "capacity": capacity, "routings": routings,
              "substitutes": _substitutes(products)}
    tables |= _long_tables(rng, s, actual, plan, sup, products, planted)
    logistics, congestion = logistics_tables(tables["supply"], products, s.locations, run_week, seed)
    tables |= logistics
    key = (str(s.codes[s.sku[planted["spike"]]]), str(s.locations["location"].iloc[s.loc[planted["spike"]]]))
    customers, key_account_cut = customer_tables(tables["open_orders"], seed, key)
    tables |= customers
    tables["order_history"] = order_history(tables["actuals"], run_week, seed)
    for name, cols in (("actuals", ["qty"]), ("demand_plan", ["qty"]), ("inventory", ["on_hand", "safety_stock"]), ("supply", ["qty"]), ("open_orders", ["qty"])):
        tables[name][cols] = tables[name][cols].astype("int64")  # whole units, as an ERP writes them
    order = ("products", "locations", "actuals", "demand_plan", "inventory", "supply", "open_orders", "capacity", "routings", "substitutes", "financial_plan",
             "lanes", "receipts_history", "customers", "order_history")
    truth = Truth(pd.DataFrame(s.keys(np.arange(s.n))), weeks, s.now, future, plan)
    return {name: tables[name] for name in order}, {**_planted(s, planted, seed), "port_congestion": congestion, "key_account_cut": key_account_cut}, truth


def write_sample(
    out: str | Path,
    skus: int = DEFAULTS["skus"],
    locations: int = DEFAULTS["locations"],
    seed: int = DEFAULTS["seed"],
    fmt: str = "csv",
) -> dict:
    """Generate the sample company into ``out`` (one file per table, ``csv``, ``parquet`` or ``xlsx``).

    Written into a temporary sibling folder first and renamed, so a reader never sees half a company.
    """
    tables, planted = generate_sample(skus, locations, seed)
    write_company(out, tables, planted, fmt)
    return planted


@contextlib.contextmanager
def replacing_folder(out: str | Path) -> Iterator[Path]:
    """A temporary sibling folder of ``out`` to write into; renamed to ``out`` (replacing it whole) when
    the block ends without an error, removed otherwise: a reader never sees half a company."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_company(out: str | Path, tables: dict[str, pd.DataFrame], planted: dict, fmt: str = "csv") -> Path:
    """Write a company's tables and its ``planted.json`` into ``out``, replacing it whole (see
    :func:`replacing_folder`)."""
    with replacing_folder(out) as tmp:
        if fmt == "xlsx":
            with pd.ExcelWriter(tmp / "sample_company.xlsx", engine="openpyxl") as xw:
                for name, frame in tables.items():
                    frame.to_excel(xw, sheet_name=name, index=False)
                    text_cells_as_text(xw.sheets[name])
        else:
            for name, frame in tables.items():
                if fmt == "parquet":
                    frame.to_parquet(tmp / f"{name}.parquet", index=False)
                else:
                    frame.to_csv(tmp / f"{name}.csv", index=False)
        (tmp / "planted.json").write_text(json.dumps(planted, indent=2) + "\n")
    return Path(out)


def ensure_sample(folder: str | Path | None = None) -> Path:
    """The built-in sample company in ``folder`` (default: the workspace's ``data/sample``), generated
    there when it is missing or made by an older generator. Callers ask for it explicitly: nothing
    else in the library writes it."""
    folder = Path(folder) if folder is not None else sample_dir()
    stamp = folder / "planted.json"
    current = None
    if stamp.exists():
        try:
            current = json.loads(stamp.read_text()).get("generator_version")
        except (OSError, ValueError):
            current = None
    if current != GENERATOR_VERSION:
        try:
            write_sample(folder)
        except OSError:
            if not (folder / "planted.json").exists():  # another process won the race: use its copy
                raise
    return folder
