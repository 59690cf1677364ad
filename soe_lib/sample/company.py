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
- a **financial plan** by family and week, 3 % above what the demand plan is worth.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.paths import sample_dir
from ..core.weeks import parse_week, week_labels

__all__ = ["DEFAULTS", "GENERATOR_VERSION", "RUN_WEEK", "ensure_sample", "generate_sample", "write_sample"]

RUN_WEEK = "2026-W48"
HISTORY_WEEKS = 156
PLAN_AHEAD_WEEKS = 26
SUPPLY_WEEKS = 16
GENERATOR_VERSION = 3


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


def generate_sample(
    skus: int = DEFAULTS["skus"], locations: int = DEFAULTS["locations"], seed: int = DEFAULTS["seed"]
) -> tuple[dict[str, pd.DataFrame], dict]:
    """All input tables of a sample company with ``skus x locations`` SKU-locations, and what was planted."""
    if skus < 8 or locations < 2:
        raise ValueError("the sample company needs at least 8 SKUs and 2 locations to hold its planted cases")
    rng = np.random.default_rng(seed)
    run_week = parse_week(RUN_WEEK)
    weeks = pd.date_range(run_week - pd.Timedelta(weeks=HISTORY_WEEKS), periods=HISTORY_WEEKS + PLAN_AHEAD_WEEKS, freq="7D")
    n_t, now = len(weeks), HISTORY_WEEKS  # column index of the run week

    # --- products -------------------------------------------------------------------------------
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
    sku_codes = _codes(skus)
    products = pd.DataFrame(
        {
            "sku": sku_codes,
            "description": [f"{f.name} item {i + 1}" for i, f in enumerate(fam)],
            "family": [f.name for f in fam],
            "unit_price": price,
            "unit_cost": cost,
            "abc_class": np.where(price > np.median(price), "A", "B"),  # an extra column: kept, never an error
        }
    )
    loc = _locations(locations)

    # --- series: every SKU at every location ------------------------------------------------------
    n = skus * locations
    s_sku = np.repeat(np.arange(skus), locations)
    s_loc = np.tile(np.arange(locations), skus)
    s_pat = pattern[s_sku]
    t = np.arange(n_t)[None, :]
    level = np.exp(rng.normal(np.log(40), 0.7, n)) * np.linspace(1.3, 0.7, locations)[s_loc]
    level = np.where(s_pat >= 3, level / 8, level)  # intermittent/lumpy items sell little
    phase = rng.integers(0, 52, n)[:, None]
    amp = np.where(s_pat == 0, rng.uniform(0.25, 0.6, n), rng.uniform(0.0, 0.08, n))[:, None]
    growth = np.where(s_pat == 1, rng.choice([-0.25, 0.3, 0.5], n), 0.0)[:, None]
    mean = level[:, None] * (1 + amp * np.sin(2 * np.pi * (t + phase) / 52)) * np.clip(1 + growth * (t - now) / 52, 0.2, None)

    # actual demand: gamma-Poisson noise for regular items; occurrence x size for intermittent/lumpy
    occur_p = np.select([s_pat == 3, s_pat == 4], [0.3, 0.1], 1.0)[:, None]
    occurs = rng.random((n, n_t)) < occur_p
    size_cv = np.where(s_pat == 4, 1.2, 0.25)[:, None]
    shape = 1 / size_cv**2
    rate = rng.gamma(shape, 1 / shape, (n, n_t)) * mean / occur_p
    actual = np.where(occurs, rng.poisson(rate), 0).astype(float)

    # the S&OP plan: the expected demand, with the family bias and a little monthly planner noise
    bias = np.array([PLAN_BIAS.get(f.name, 0.0) for f in fam])[s_sku][:, None]
    month_noise = np.repeat(rng.normal(0, 0.05, (n, n_t // 4 + 1)), 4, axis=1)[:, :n_t]
    plan = np.round(mean * (1 + bias) * (1 + month_noise))

    # --- planted demand situations (on regular items at the first location) ------------------------
    regular = np.flatnonzero((s_pat <= 2) & (s_loc == 0) & (np.array([f.name for f in fam])[s_sku] != "Household"))
    spike, drop, outlier, late_item = regular[:4]
    actual[spike, now - 3 : now] = np.round(plan[spike, now - 3 : now] * 2.6)
    actual[drop, now - 4 : now] = np.round(plan[drop, now - 4 : now] * 0.25)
    actual[outlier, now - 6] = np.round(plan[outlier, now - 6] * 10)
    actual[:, now:] = 0  # the future is unknown

    # --- inventory and open supply ------------------------------------------------------------------
    fwd = plan[:, now : now + 13].mean(axis=1)
    safety = np.round(fwd * 1.5)
    uplift = rng.uniform(0.6, 1.4, n)  # how much stock above the next receipt the planner keeps

    # --- open supply: a receipt every `cadence` weeks covering the plan until the next one -----------
    cadence = rng.choice([1, 2, 4], n)
    cadence[late_item] = 4  # its one late order must matter: receipts are few and large
    offset = rng.integers(0, 4, n) % cadence
    h = np.arange(SUPPLY_WEEKS)[None, :]
    receipt = ((h - offset[:, None]) % cadence[:, None] == 0) & (h >= 1)
    future = plan[:, now : now + SUPPLY_WEEKS + 4]
    ahead = np.cumsum(np.concatenate([np.zeros((n, 1)), future], axis=1), axis=1)
    span = np.clip(h + cadence[:, None], None, future.shape[1])
    qty = np.ceil(ahead[np.arange(n)[:, None], span] - ahead[:, :SUPPLY_WEEKS]).clip(1, None)
    first_receipt = np.argmax(receipt, axis=1)
    # on hand covers the weeks until the first receipt, on top of safety stock
    on_hand = np.round(safety + ahead[np.arange(n), first_receipt] + fwd * uplift)
    on_hand[spike] = np.round(fwd[spike] * 1.5)
    on_hand[late_item] = np.round(fwd[late_item] * 1.6)
    receipt[late_item] = False
    receipt[late_item, [1, 8, 12]] = True
    qty[late_item, 1] = np.ceil(fwd[late_item] * 7)
    rs, rh = np.nonzero(receipt)
    made = np.array([f.made for f in fam])[s_sku]
    kind = np.where(made[rs], "production", "purchase")
    supplier = np.where(made[rs], "", SUPPLIERS[rng.integers(0, len(SUPPLIERS), len(rs))])
    transfer = (~made[rs]) & (s_loc[rs] > 0) & (rng.random(len(rs)) < 0.1)
    kind = np.where(transfer, "transfer", kind)
    supplier = np.where(transfer, "", supplier)
    delay = np.where(supplier == LATE_SUPPLIER, rng.integers(1, 4, len(rs)), (rng.random(len(rs)) < 0.08).astype(int))
    delay = np.where(kind == "production", 0, delay)
    late_line = (rs == late_item) & (rh == 1)
    supplier = np.where(late_line, LATE_SUPPLIER, supplier)
    kind = np.where(late_line, "purchase", kind)
    delay = np.where(late_line, 3, delay)
    planned_week = weeks[now + rh]
    prefix = np.select([kind == "production", kind == "transfer"], ["MO", "TO"], "PO")
    supply = pd.DataFrame(
        {
            "order_id": pd.Series(prefix, dtype=object) + "-" + pd.Series(np.arange(1, len(rs) + 1)).astype(str).str.zfill(6),
            "sku": sku_codes[s_sku[rs]],
            "location": loc["location"].to_numpy()[s_loc[rs]],
            "week": planned_week.strftime("%Y-%m-%d"),  # dates, not ISO labels: both are accepted
            "eta_week": (planned_week + pd.to_timedelta(delay * 7, unit="D")).strftime("%Y-%m-%d"),
            "qty": qty[rs, rh],
            "supplier": supplier,
            "kind": kind,
        }
    )

    # --- capacity and routings ----------------------------------------------------------------------
    hours_per_unit = np.round(rng.uniform(0.01, 0.05, skus), 4)
    made_series = np.flatnonzero(made)
    resource = np.array([fam[s].resource for s in s_sku[made_series]], dtype=object)
    routings = pd.DataFrame(
        {
            "sku": sku_codes[s_sku[made_series]],
            "location": loc["location"].to_numpy()[s_loc[made_series]],
            "resource": resource,
            "hours_per_unit": hours_per_unit[s_sku[made_series]],
        }
    )
    cap_rows = []
    horizon_weeks = weeks[now : now + SUPPLY_WEEKS]
    prod = supply[supply["kind"] == "production"].merge(routings, on=["sku", "location"])
    prod["hours"] = prod["qty"] * prod["hours_per_unit"]
    for res in ("LINE-1", "LINE-2"):
        load = prod[prod["resource"] == res].groupby("week")["hours"].sum().reindex(
            horizon_weeks.strftime("%Y-%m-%d"), fill_value=0.0).to_numpy()
        hours = np.full(SUPPLY_WEEKS, float(np.ceil(max(load.max(), 1.0) * 1.1)))
        if res == "LINE-2":  # planned maintenance in weeks +2..+4: the overload S&OE must catch
            hours[2:5] = np.floor(np.minimum(hours[2:5] * 0.55, load[2:5] * 0.75))
        cap_rows.append(pd.DataFrame({"resource": res, "week": week_labels(pd.Series(horizon_weeks)), "available_hours": hours}))
    capacity = pd.concat(cap_rows, ignore_index=True)

    # --- storage: the last location is nearly full ----------------------------------------------------
    # units held in a week peak when its receipts land: stock brought in + receipts (at ETA)
    eta_col = rh + delay
    rec = np.zeros((n, SUPPLY_WEEKS + 4))
    np.add.at(rec, (rs, eta_col), qty[rs, rh])
    flow = rec[:, :SUPPLY_WEEKS] - plan[:, now : now + SUPPLY_WEEKS]
    brought = on_hand[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(flow, axis=1)[:, :-1]], axis=1)
    held = np.clip(brought, 0, None) + rec[:, :SUPPLY_WEEKS]
    per_loc = np.stack([held[s_loc == j].sum(axis=0) for j in range(locations)])
    last = locations - 1
    loc["storage_capacity"] = np.round(per_loc.max(axis=1) * 2.0)
    # fits today (97 %), overflows when the next receipts land
    loc.loc[last, "storage_capacity"] = float(np.round(on_hand[s_loc == last].sum() / 0.97))

    # --- long tables ----------------------------------------------------------------------------------
    week_lbl = week_labels(pd.Series(weeks)).to_numpy()
    ii, tt = np.nonzero(actual[:, :now] > 0)  # ERP extracts omit zero weeks
    actuals = pd.DataFrame(
        {"sku": sku_codes[s_sku[ii]], "location": loc["location"].to_numpy()[s_loc[ii]], "week": week_lbl[tt], "qty": actual[ii, tt]}
    )
    pi, pt = np.nonzero(np.ones_like(plan, dtype=bool))
    demand_plan = pd.DataFrame(
        {"sku": sku_codes[s_sku[pi]], "location": loc["location"].to_numpy()[s_loc[pi]], "week": week_lbl[pt], "qty": plan[pi, pt]}
    )
    inventory = pd.DataFrame(
        {"sku": sku_codes[s_sku], "location": loc["location"].to_numpy()[s_loc], "on_hand": on_hand, "safety_stock": safety}
    )
    # booked orders: most of next week's demand, less further out
    share = np.array([0.7, 0.4, 0.15, 0.05])
    booked = np.round(plan[:, now : now + 4] * share * rng.uniform(0.8, 1.1, (n, 4)))
    booked[spike] = np.round(plan[spike, now : now + 4] * share * 2.4)
    oi, ot = np.nonzero(booked > 0)
    open_orders = pd.DataFrame(
        {"sku": sku_codes[s_sku[oi]], "location": loc["location"].to_numpy()[s_loc[oi]], "week": week_lbl[now + ot], "qty": booked[oi, ot]}
    )
    # financial plan by family and week: what the demand plan is worth, with a 3 % stretch
    money = pd.DataFrame(
        {
            "family": np.array([f.name for f in fam])[s_sku[pi]],
            "week": week_lbl[pt],
            "revenue_plan": plan[pi, pt] * price[s_sku[pi]],
            "margin_plan": plan[pi, pt] * (price - cost)[s_sku[pi]],
        }
    )
    money = money[pt >= now - 13]
    financial_plan = money.groupby(["family", "week"], as_index=False, sort=True)[["revenue_plan", "margin_plan"]].sum()
    financial_plan[["revenue_plan", "margin_plan"]] = (financial_plan[["revenue_plan", "margin_plan"]] * 1.03).round(2)

    def at(i: int) -> dict:
        return {"sku": str(sku_codes[s_sku[i]]), "location": str(loc["location"].iloc[s_loc[i]])}

    planted = {
        "run_week": RUN_WEEK,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "skus": skus,
        "locations": locations,
        "demand_spike": {**at(spike), "weeks": 3, "factor": 2.6},
        "demand_drop": {**at(drop), "weeks": 4, "factor": 0.25},
        "outlier": {**at(outlier), "week": str(week_lbl[now - 6]), "factor": 10},
        "biased_plan": {"family": "Household", "bias": PLAN_BIAS["Household"]},
        "late_inbound": {**at(late_item), "supplier": LATE_SUPPLIER, "planned_week": str(week_lbl[now + 1]), "eta_week": str(week_lbl[now + 4])},
        "late_supplier": LATE_SUPPLIER,
        "capacity_overload": {"resource": "LINE-2", "weeks": [str(w) for w in week_lbl[now + 2 : now + 5]]},
        "storage_near_capacity": {"location": str(loc["location"].iloc[last])},
        "patterns": {str(p): int((s_pat == k).sum()) for k, p in enumerate(PATTERNS)},
    }
    for frame, cols in ((actuals, ["qty"]), (demand_plan, ["qty"]), (inventory, ["on_hand", "safety_stock"]),
                        (supply, ["qty"]), (open_orders, ["qty"])):
        frame[cols] = frame[cols].astype("int64")  # whole units, as an ERP writes them
    tables = {
        "products": products,
        "locations": loc,
        "actuals": actuals,
        "demand_plan": demand_plan,
        "inventory": inventory,
        "supply": supply,
        "open_orders": open_orders,
        "capacity": capacity,
        "routings": routings,
        "financial_plan": financial_plan,
    }
    return tables, planted


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
    out = Path(out)
    tables, planted = generate_sample(skus, locations, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        if fmt == "xlsx":
            with pd.ExcelWriter(tmp / "sample_company.xlsx", engine="openpyxl") as xw:
                for name, frame in tables.items():
                    frame.to_excel(xw, sheet_name=name, index=False)
        else:
            for name, frame in tables.items():
                if fmt == "parquet":
                    frame.to_parquet(tmp / f"{name}.parquet", index=False)
                else:
                    frame.to_csv(tmp / f"{name}.csv", index=False)
        (tmp / "planted.json").write_text(json.dumps(planted, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return planted


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
