"""Sensing on real data: three public data sets against simple peers measured in the same run.

The data sets live in ``../shared/data/real/`` (provenance there; the workbench never ships or tests on
them). :func:`prepare` turns each into the workbench's input tables:

| data set | series | plan given to sensing |
|---|---|---|
| UCI Online Retail, weekly top 500 SKUs | 500 SKUs, one location | stale: the mean of the 8 weeks that ended 4 weeks before |
| UCI Sales Transactions | 811 products x 52 weeks, one location | the same stale mean |
| Walmart, 45 stores | one item, 45 locations | last year's same week |

For each of three run weeks (the latest with 13 weeks of actuals after them), sensing runs on the
history before the week, and every method forecasts the next 13 weeks: **sensed**, the **plan**,
**MA(8)** at the run week, **naive** (last week), **seasonal naive** (52 weeks earlier) and, in the
peers' environment (``.venv-peers``), **statsforecast AutoETS** (season 52 where two years of history
exist). WAPE = sum|A - F| / sum A, pooled over series and averaged over the run weeks, at horizon weeks
1-4 and 1-13. Printed (and saved); never asserted: the figures are the point.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from soe_lib.core.weeks import week_labels
from soe_lib.io import load_data
from soe_lib.sensing import SensingParams
from soe_lib.sensing.engine import sense

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
PEERS_PYTHON = Path(__file__).resolve().parents[1] / ".venv-peers" / "bin" / "python"
HORIZON = 13


def _monday(dates: pd.Series) -> pd.Series:
    return dates - pd.to_timedelta(dates.dt.weekday, unit="D")


def _online_retail() -> pd.DataFrame:
    raw = pd.read_csv(REAL / "uci-online-retail" / "online_retail_weekly_top500_sku.csv", dtype={"StockCode": str})
    week = _monday(pd.to_datetime(raw["week_ending"]))
    return pd.DataFrame({"sku": raw["StockCode"], "location": "UK", "week": week, "qty": raw["qty_sold"].clip(lower=0).astype(float),
                         "price": raw["avg_unit_price_gbp"]})


def _sales_transactions() -> pd.DataFrame:
    raw = pd.read_csv(REAL / "uci-sales-transactions-weekly" / "Sales_Transactions_Dataset_Weekly.csv")
    cols = [f"W{i}" for i in range(52)]
    long = raw.melt(id_vars="Product_Code", value_vars=cols, var_name="w", value_name="qty")
    start = pd.Timestamp("2021-01-04")  # the file has week numbers only: any Monday will do
    week = start + pd.to_timedelta(long["w"].str[1:].astype(int) * 7, unit="D")
    return pd.DataFrame({"sku": long["Product_Code"], "location": "L", "week": week, "qty": long["qty"].astype(float), "price": 1.0})


def _walmart() -> pd.DataFrame:
    raw = pd.read_csv(REAL / "walmart-store-weekly" / "Walmart_Store_sales.csv")
    week = _monday(pd.to_datetime(raw["Date"], format="%d-%m-%Y"))
    return pd.DataFrame({"sku": "ALL", "location": raw["Store"].astype(str).str.zfill(2), "week": week, "qty": raw["Weekly_Sales"] / 1000.0, "price": 1.0})


SETS = {"UCI Online Retail": (_online_retail, "stale"), "UCI Sales Transactions": (_sales_transactions, "stale"), "Walmart 45 stores": (_walmart, "last_year")}


def _panel(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DatetimeIndex, np.ndarray]:
    """(series keys, weeks, (series x weeks) actuals: missing weeks 0 after a series' first sale)."""
    weeks = pd.date_range(frame["week"].min(), frame["week"].max(), freq="7D")
    keys = frame[["sku", "location"]].drop_duplicates().sort_values(["sku", "location"]).reset_index(drop=True)
    grid = frame.groupby(["sku", "location", "week"])["qty"].sum().unstack("week").reindex(columns=weeks)
    grid = grid.reindex(pd.MultiIndex.from_frame(keys)).to_numpy(dtype=float)
    started = np.cumsum(np.nan_to_num(grid) > 0, axis=1) > 0
    return keys, weeks, np.where(started, np.nan_to_num(grid), np.nan)


def _plan(y: np.ndarray, kind: str, run: int) -> np.ndarray:
    """The plan sensing is given, for history and horizon (as known at the run week)."""
    n, t = y.shape
    plan = np.full((n, t + HORIZON), np.nan)
    if kind == "last_year":
        full = np.concatenate([y, np.full((n, HORIZON), np.nan)], axis=1)
        plan[:, 52:] = full[:, : t + HORIZON - 52]
        plan[:, run:] = np.where(np.arange(run, t + HORIZON)[None, :] - 52 < run, plan[:, run:], np.nan)  # nothing from after the run
        return plan
    v = np.nan_to_num(y)
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(v, axis=1)], axis=1)
    for w in range(12, run + 1):  # the 8 weeks that ended 4 weeks before week w
        plan[:, w] = (cs[:, w - 3] - cs[:, w - 11]) / 8
    plan[:, run:] = plan[:, [run]]  # the horizon: the plan as of the run week
    return plan


def _tables(keys: pd.DataFrame, weeks: pd.DatetimeIndex, y: np.ndarray, plan: np.ndarray, run: int, price: pd.Series) -> dict[str, pd.DataFrame]:
    """The workbench's inputs for a run at week ``run``: actuals before it, the plan, minimal stock and supply."""
    hist = pd.DataFrame(y[:, :run], columns=weeks[:run]).assign(sku=keys["sku"], location=keys["location"]).melt(["sku", "location"], var_name="week", value_name="qty")
    hist = hist[hist["qty"].notna()]
    all_weeks = pd.date_range(weeks[0], periods=len(weeks) + HORIZON, freq="7D")
    pl = pd.DataFrame(plan[:, : run + HORIZON], columns=all_weeks[: run + HORIZON]).assign(sku=keys["sku"], location=keys["location"])
    pl = pl.melt(["sku", "location"], var_name="week", value_name="qty").dropna()
    skus = keys["sku"].drop_duplicates()
    prices = skus.map(price).fillna(1.0).clip(lower=0.01)
    return {
        "products": pd.DataFrame({"sku": skus, "family": "F", "unit_price": prices, "unit_cost": prices * 0.6}),
        "locations": pd.DataFrame({"location": keys["location"].drop_duplicates()}),
        "actuals": hist.assign(week=week_labels(pd.to_datetime(hist["week"]))),
        "demand_plan": pl.assign(week=week_labels(pd.to_datetime(pl["week"])), qty=pl["qty"].clip(lower=0)),
        "inventory": keys.assign(on_hand=0.0, safety_stock=0.0),
        "supply": keys.head(1).assign(week=week_labels(pd.Series([weeks[run]])).iloc[0], qty=1.0),
    }


def _wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    ok = np.isfinite(actual)
    f = np.where(np.isfinite(forecast), forecast, 0.0)
    return float(np.abs(actual[ok] - f[ok]).sum() / max(actual[ok].sum(), 1e-9))


def _peers_autoets(history: np.ndarray, weeks: pd.DatetimeIndex, season: int) -> np.ndarray | None:
    """statsforecast AutoETS in the peers' venv (``make bench`` builds it); None without it."""
    if not PEERS_PYTHON.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, history=history, weeks=weeks.to_numpy(), h=HORIZON, season=season)
        script = Path(__file__).with_name("peer_statsforecast.py")
        done = subprocess.run([str(PEERS_PYTHON), str(script), str(src), str(dst), "--auto", "--season", str(season)], capture_output=True, text=True)
        if done.returncode:
            print(f"statsforecast peer failed: {done.stderr[-300:]}")
            return None
        return np.load(dst)["forecast"]


def evaluate(name: str, runs: int = 3) -> dict:
    """WAPE at 1-4 and 1-13 weeks of every method, averaged over ``runs`` run weeks (see the module doc)."""
    load, plan_kind = SETS[name]
    frame = load()
    keys, weeks, y = _panel(frame)
    price = frame.groupby("sku")["price"].median()
    scores: dict[str, list[tuple[float, float]]] = {}
    for k in range(runs):
        run = len(weeks) - HORIZON - k
        plan = _plan(y, plan_kind, run)
        truth = y[:, run : run + HORIZON]
        with tempfile.TemporaryDirectory() as tmp:
            for table, t in _tables(keys, weeks, y, plan, run, price).items():
                t.to_parquet(Path(tmp) / f"{table}.parquet", index=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = load_data(tmp, week=week_labels(pd.Series([weeks[run]])).iloc[0], week_check="warning")
                s = sense(data, SensingParams(), HORIZON)
        order = pd.MultiIndex.from_frame(s.series[["sku", "location"]]).get_indexer(pd.MultiIndex.from_frame(keys))
        past = y[:, :run]
        methods = {
            "sensed": s.sensed[order], "plan": plan[:, run : run + HORIZON],
            "MA(8)": np.repeat(np.nanmean(past[:, -8:], axis=1)[:, None], HORIZON, axis=1),
            "naive": np.repeat(past[:, -1:], HORIZON, axis=1),
            "seasonal naive": y[:, run - 52 : run - 52 + HORIZON] if run >= 52 else np.full_like(truth, np.nan),
        }
        ets = _peers_autoets(past, weeks[:run], 52 if run >= 104 else 1)
        if ets is not None:
            methods["statsforecast AutoETS"] = ets
        for m, f in methods.items():
            if np.isfinite(f).any():  # seasonal naive needs a year of history: not shown without it
                scores.setdefault(m, []).append((_wape(truth[:, :4], f[:, :4]), _wape(truth, f)))
    out = {m: {"wape 1-4": float(np.mean([a for a, _ in v])), "wape 1-13": float(np.mean([b for _, b in v]))} for m, v in scores.items()}
    return {"data set": name, "series": len(keys), "weeks": len(weeks), "methods": out}


def run(names: list[str] | None = None) -> list[dict]:
    if not REAL.exists():
        print(f"real data not found at {REAL}: skipped")
        return []
    results = []
    for name in names or list(SETS):
        r = evaluate(name)
        results.append(r)
        table = pd.DataFrame(r["methods"]).T.map(lambda v: f"{v:.1%}")
        print(f"-- {name}: {r['series']} series x {r['weeks']} weeks, WAPE averaged over 3 run weeks --\n{table.to_string()}", flush=True)
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
