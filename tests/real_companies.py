"""The shared real data sets (``../shared/data/real/``) prepared as companies the weekly cycle runs on.

Each data set gives what it really holds (demand; for USAID SCMS also the real shipment lines with their scheduled
and delivered dates) and the rest of a company is built around it the way a planner would fill a pilot: a plan that
is a stale trailing mean (or last year's same week), stock of one to three weeks, replenishment every other week of
which some arrives late. Everything made up is seeded; the real numbers are not touched except where the extract
cannot be read as it is (returns are not demand; an unknown date is dropped). Small slices keep the runs quick.

| company | what is real | shape | optional tables |
|---|---|---|---|
| walmart | weekly sales of 45 stores, in units of $25 | 1 SKU x 45 stores, 143 weeks | none (the run that crashed in notebook 04) |
| m5 | 28 Walmart items x 10 stores, their shelf prices | 280 series, lumpy and intermittent | financial plan, storage capacity, substitutes |
| online_retail | daily sales lines of 60 UK SKUs, their names and prices | 60 series, daily dates summed | open orders, substitutes |
| sales_transactions | 811 products' weekly quantities (no dates, no prices) | 120 series, 52 weeks | capacity, routings (made to stock) |
| usaid_scms | deliveries of HIV/AIDS products to countries and the shipment lines themselves | product x country | the real lines as supply (late ones late) |

These files are read here only; the project never ships them (the Walmart file's licence is unclear).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
HORIZON = 16  # plan and supply run past the 13-week horizon
SUPPLIERS = ["Acme & Sons", "Nordic Supply", "Delta <Logistics>"]


def _monday(dates: pd.Series) -> pd.Series:
    return (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.normalize()


def _weekly(frame: pd.DataFrame) -> pd.DataFrame:
    """(sku, location, week, qty) summed per week, every week from a series' first to the data's last filled with 0."""
    frame = frame.assign(week=_monday(frame["week"]))
    sums = frame.groupby(["sku", "location", "week"], as_index=False)["qty"].sum()
    weeks = pd.date_range(sums["week"].min(), sums["week"].max(), freq="7D")
    grid = sums.set_index(["sku", "location", "week"])["qty"].unstack("week").reindex(columns=weeks)
    started = grid.notna().cumsum(axis=1) > 0
    long = grid.fillna(0).where(started).stack().dropna().rename("qty").reset_index()
    return long.rename(columns={"level_2": "week"})


def _rest_of_company(weekly: pd.DataFrame, seed: int, plan: str = "stale") -> dict[str, pd.DataFrame]:
    """Plan, inventory and supply around real weekly demand (all series at once).

    plan "stale": each week's plan is the mean of the 8 weeks that ended 4 weeks before (the horizon's is the last
    such mean); "last_year": the same week 52 weeks before (the horizon's from the year before the run week).
    """
    rng = np.random.default_rng(seed)
    run = weekly["week"].max() + pd.Timedelta(weeks=1)
    wide = weekly.pivot_table(index=["sku", "location"], columns="week", values="qty")
    future = pd.date_range(run, periods=HORIZON, freq="7D")
    if plan == "last_year":
        back = wide.reindex(columns=[w - pd.Timedelta(weeks=52) for w in [*wide.columns, *future]])
        back.columns = [*wide.columns, *future]
        mean = wide.iloc[:, -8:].mean(axis=1).to_numpy()[:, None]
        planned = back.fillna(pd.DataFrame(mean * np.ones((1, back.shape[1])), index=back.index, columns=back.columns))
    else:
        stale = wide.T.rolling(8, min_periods=1).mean().shift(4).T
        last = wide.T.rolling(8, min_periods=1).mean().T.iloc[:, -4]
        planned = pd.concat([stale, pd.DataFrame(np.repeat(last.to_numpy()[:, None], HORIZON, axis=1), index=wide.index, columns=future)], axis=1)
        planned = planned.where(wide.reindex(columns=planned.columns).notna() | (planned.columns >= run)[None, :])
    planned = planned.round(1)
    demand_plan = planned.stack().rename("qty").reset_index().rename(columns={"level_2": "week"}).dropna()
    recent = wide.iloc[:, -8:].mean(axis=1).fillna(0).to_numpy()
    n = len(wide)
    keys = wide.index.to_frame(index=False)
    inventory = keys.assign(on_hand=np.round(recent * rng.uniform(0.3, 3.0, n)), safety_stock=np.round(recent))
    supply = _replenishment(keys, planned[future].to_numpy(), future, rng)
    return {"demand_plan": demand_plan, "inventory": inventory, "supply": supply}


def _replenishment(keys: pd.DataFrame, plan: np.ndarray, future: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    """An order every other week for two weeks' plan (60-120 %), one in six late by 1-3 weeks."""
    weeks = future[1::2]
    qty = np.round(2 * plan[:, 1::2] * rng.uniform(0.6, 1.2, (len(keys), len(weeks))))
    lines = keys.loc[keys.index.repeat(len(weeks))].reset_index(drop=True)
    lines["week"] = np.tile(weeks, len(keys))
    lines["qty"] = qty.ravel()
    late = rng.random(len(lines)) < 1 / 6
    lines["eta_week"] = lines["week"] + pd.to_timedelta(np.where(late, rng.integers(1, 4, len(lines)), 0) * 7, unit="D")
    lines["order_id"] = [f"PO-{i:05d}" for i in range(len(lines))]
    lines["supplier"] = rng.choice(SUPPLIERS, len(lines))
    lines["kind"] = "purchase"
    return lines[lines["qty"] > 0].reset_index(drop=True)


def walmart() -> dict[str, pd.DataFrame]:
    """A distributor of one product line at 45 stores: no capacity, routings, open orders, substitutes or plan money."""
    raw = pd.read_csv(REAL / "walmart-store-weekly" / "Walmart_Store_sales.csv")
    sales = pd.DataFrame({"sku": "ALL-DEPTS", "location": "Store " + raw["Store"].astype(str).str.zfill(2),
                          "week": pd.to_datetime(raw["Date"], format="%d-%m-%Y"), "qty": (raw["Weekly_Sales"] / 25.0).round()})
    weekly = _weekly(sales)
    return {
        "products": pd.DataFrame({"sku": ["ALL-DEPTS"], "description": ["All departments"], "family": ["Store"], "unit_price": [25.0], "unit_cost": [18.0]}),
        "locations": pd.DataFrame({"location": sorted(weekly["location"].unique())}),
        "actuals": weekly,
        **_rest_of_company(weekly, seed=1, plan="last_year"),
    }


def m5() -> dict[str, pd.DataFrame]:
    """28 items at 10 stores, weeks before an item's first sale masked; a financial plan, storage limits, substitutes."""
    folder = REAL / "m5-tiny-weekly"
    weekly = pd.read_csv(folder / "weekly.csv")
    series = pd.read_csv(folder / "series.csv")
    weekly = weekly.merge(series[["sku", "location", "first_sale_week"]], on=["sku", "location"])
    weekly = weekly[weekly["week"] >= weekly["first_sale_week"]]
    weekly = weekly.assign(week=pd.to_datetime(weekly["week"] + "-1", format="%G-W%V-%u"))[["sku", "location", "week", "qty"]]
    weekly = _weekly(weekly[weekly["week"] >= "2014-01-01"])
    prices = pd.read_csv(folder / "prices.csv")
    items = series.drop_duplicates("sku")[["sku", "category", "dept"]].merge(prices, on="sku")
    products = pd.DataFrame({"sku": items["sku"], "description": items["dept"].str.replace("_", " ").str.title(), "family": items["category"],
                             "unit_price": items["unit_price"], "unit_cost": (items["unit_price"] * 0.7).round(2)})
    rest = _rest_of_company(weekly, seed=2)
    stock = rest["inventory"].groupby("location")["on_hand"].sum()
    locations = pd.DataFrame({"location": stock.index, "region": stock.index.str[:2], "storage_capacity": (stock.to_numpy() * 1.3).round()})
    plan = rest["demand_plan"].merge(products[["sku", "family", "unit_price"]], on="sku")
    plan = plan[plan["week"] >= weekly["week"].max() - pd.Timedelta(weeks=26)]
    financial = plan.assign(revenue_plan=plan["qty"] * plan["unit_price"]).groupby(["family", "week"], as_index=False)["revenue_plan"].sum()
    by_dept = items.sort_values("sku").groupby("dept")["sku"]
    subs = pd.DataFrame({"sku": by_dept.shift(0), "substitute_sku": by_dept.shift(-1)}).dropna()
    return {"products": products, "locations": locations, "actuals": weekly, "financial_plan": financial.round({"revenue_plan": 2}),
            "substitutes": subs.assign(ratio=1.0, priority=1), **rest}


def online_retail() -> dict[str, pd.DataFrame]:
    """60 UK SKUs' daily sales lines (dates summed into ISO weeks), their real names; open orders and substitutes."""
    raw = pd.read_csv(REAL / "uci-online-retail" / "online_retail_daily_top100_sku.csv", dtype={"StockCode": str})
    top = raw.groupby("StockCode")["qty_sold"].sum().nlargest(60).index
    raw = raw[raw["StockCode"].isin(top)]
    lines = pd.DataFrame({"sku": raw["StockCode"], "location": "UK", "week": pd.to_datetime(raw["date"]), "qty": raw["qty_sold"].clip(lower=0)})
    weekly = _weekly(lines)
    names = raw.groupby("StockCode").agg(description=("Description", "first"), unit_price=("avg_unit_price_gbp", "median")).reset_index()
    products = pd.DataFrame({"sku": names["StockCode"], "description": names["description"], "family": names["description"].str.split().str[-1],
                             "unit_price": names["unit_price"].round(2), "unit_cost": (names["unit_price"] * 0.55).round(2)})
    rest = _rest_of_company(weekly, seed=3)
    run = weekly["week"].max() + pd.Timedelta(weeks=1)
    first = rest["demand_plan"][rest["demand_plan"]["week"].isin([run, run + pd.Timedelta(weeks=1)])]
    open_orders = first.assign(qty=(first["qty"] * 0.6).round())
    skus = sorted(products["sku"])
    subs = pd.DataFrame({"sku": skus[::2], "substitute_sku": skus[1::2][: len(skus[::2])], "location": ""})
    return {"products": products, "locations": pd.DataFrame({"location": ["UK"], "region": ["United Kingdom"]}), "actuals": lines.assign(week=lines["week"].dt.strftime("%Y-%m-%d")),
            "open_orders": open_orders, "substitutes": subs, **rest}


def sales_transactions() -> dict[str, pd.DataFrame]:
    """120 of 811 products' 52 weeks (week numbers only: placed from a Monday), made on one line with its hours."""
    raw = pd.read_csv(REAL / "uci-sales-transactions-weekly" / "Sales_Transactions_Dataset_Weekly.csv").iloc[::7].head(120)
    long = raw.melt(id_vars="Product_Code", value_vars=[f"W{i}" for i in range(52)], var_name="w", value_name="qty")
    week = pd.Timestamp("2025-01-06") + pd.to_timedelta(long["w"].str[1:].astype(int) * 7, unit="D")
    weekly = _weekly(pd.DataFrame({"sku": long["Product_Code"], "location": "Plant", "week": week, "qty": long["qty"].astype(float)}))
    skus = sorted(weekly["sku"].unique())
    rest = _rest_of_company(weekly, seed=4)
    rest["supply"] = rest["supply"].assign(kind="production", supplier="")
    weeks = pd.date_range(weekly["week"].max() - pd.Timedelta(weeks=4), periods=HORIZON + 6, freq="7D")
    need = rest["supply"]["qty"].sum() * 0.2 / (HORIZON / 2)
    return {
        "products": pd.DataFrame({"sku": skus, "family": [f"Group {int(s[1:]) % 4 + 1}" for s in skus], "unit_price": 1.0, "unit_cost": 0.6}),
        "locations": pd.DataFrame({"location": ["Plant"]}),
        "actuals": weekly, **rest,
        "capacity": pd.DataFrame({"resource": "Line 1", "week": weeks, "available_hours": round(need * 0.8, 1)}),
        "routings": pd.DataFrame({"sku": skus, "location": "Plant", "resource": "Line 1", "hours_per_unit": 0.2}),
    }


def usaid_scms() -> dict[str, pd.DataFrame]:
    """HIV/AIDS products delivered to 8 countries: past deliveries are the demand, the lines scheduled in the 16 weeks
    from the run week are the supply (eta = the week they were really delivered), order = ASN/DN, supplier = vendor."""
    raw = pd.read_csv(REAL / "usaid-scms-delivery" / "SCMS_Delivery_History_Dataset.normalized.csv")
    raw = raw.assign(scheduled=pd.to_datetime(raw["Scheduled Delivery Date"], format="%d-%b-%y"),
                     delivered=pd.to_datetime(raw["Delivered to Client Date"], format="%d-%b-%y"),
                     sku=raw["Item Description"].str.strip(), location=raw["Country"].str.strip(), qty=raw["Line Item Quantity"].astype(float))
    countries = raw["location"].value_counts().head(8).index
    raw = raw[raw["location"].isin(countries) & (raw["qty"] > 0)]
    products_of = raw.groupby("sku")["qty"].sum().nlargest(25).index
    raw = raw[raw["sku"].isin(products_of)]
    cut = pd.Timestamp("2014-06-30")
    past = raw[raw["delivered"] < cut]
    weekly = _weekly(pd.DataFrame({"sku": past["sku"], "location": past["location"], "week": past["delivered"], "qty": past["qty"]}))
    weekly = weekly[weekly["week"] >= "2011-01-01"]
    run = weekly["week"].max() + pd.Timedelta(weeks=1)
    rest = _rest_of_company(weekly, seed=5)
    keys = set(zip(weekly["sku"], weekly["location"], strict=False))
    ahead = raw[(raw["scheduled"] >= run) & (raw["scheduled"] < run + pd.Timedelta(weeks=HORIZON))]
    ahead = ahead[[k in keys for k in zip(ahead["sku"], ahead["location"], strict=False)]]
    lines = pd.DataFrame({"sku": ahead["sku"], "location": ahead["location"], "week": _monday(ahead["scheduled"]),
                          "eta_week": _monday(ahead["delivered"]).where(ahead["delivered"] >= run, _monday(ahead["scheduled"])),
                          "qty": ahead["qty"], "order_id": ahead["ASN/DN #"], "supplier": ahead["Vendor"], "kind": "purchase"})
    # an ASN may carry one item in several lines (packs, lots): one supply line per order, item, country and week
    rest["supply"] = lines.groupby(["order_id", "sku", "location", "week"], as_index=False).agg(
        eta_week=("eta_week", "max"), qty=("qty", "sum"), supplier=("supplier", "first"), kind=("kind", "first"))
    items = raw.drop_duplicates("sku")
    sums = raw.groupby("sku")[["Line Item Value", "qty"]].sum()
    value = (sums["Line Item Value"] / sums["qty"]).rename("unit_price").reset_index()
    products = items[["sku", "Product Group", "Molecule/Test Type"]].merge(value, on="sku")
    products = pd.DataFrame({"sku": products["sku"], "description": products["Molecule/Test Type"], "family": products["Product Group"],
                             "unit_price": products["unit_price"].clip(lower=0.01).round(4), "unit_cost": (products["unit_price"] * 0.8).round(4)})
    return {"products": products, "locations": pd.DataFrame({"location": sorted(weekly["location"].unique())}), "actuals": weekly, **rest}


COMPANIES: dict[str, Callable[[], dict[str, pd.DataFrame]]] = {
    "walmart": walmart, "m5": m5, "online_retail": online_retail, "sales_transactions": sales_transactions, "usaid_scms": usaid_scms,
}


def write_company(name: str, folder: Path) -> Path:
    """Write the company ``name`` as CSV files (weeks as dates, as an extract gives them) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, frame in COMPANIES[name]().items():
        out = frame.copy()
        for col in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[col]):
                out[col] = out[col].dt.strftime("%Y-%m-%d")
        out.to_csv(folder / f"{table}.csv", index=False)
    return folder
