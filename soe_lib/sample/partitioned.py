"""A large sample company written in parts, never held in memory whole (``soe sample --parts N``).

The company is generated as ``N`` independent blocks of SKUs (block ``b`` with the seed ``seed + b``,
each the whole generator of :mod:`.company` on its share of the SKUs), so memory holds one block at a
time: at 1M SKU-locations and 20 parts the peak was 2.2 GB (measured; the whole company at once was not
tried). Each block's SKU codes are renumbered into one code range and its order ids carry the block
number, so the blocks never collide.

Written as Parquet, one folder per table of SKU-location rows (``actuals/part-00000.parquet``, ...,
read back as one table, see :mod:`soe_lib.io.sources`) and one file for the tables the blocks share:

- ``products``, ``routings``, ``substitutes``: the blocks' rows together (small: one row per SKU);
- ``capacity``: each resource's hours summed over the blocks (each block sized its lines 10 % above
  its own load and cut LINE-2's maintenance weeks, so the sum keeps both);
- ``locations``: storage capacity summed over the blocks (the last location still at 97 % today);
- ``financial_plan``: revenue and margin plans summed by family and week.

Not the same company as ``write_sample`` with one part (other draws); the same for the same
``(skus, locations, seed, parts)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.dataset import SERIES_TABLES
from .company import DEFAULTS, replacing_folder, sample_with_truth

__all__ = ["write_sample_parts"]

SUMMED = {"capacity": (["resource", "week"], ["available_hours"]), "financial_plan": (["family", "week"], ["revenue_plan", "margin_plan"])}
CONCATENATED = ("products", "routings", "substitutes", "order_history")
SAME = ("customers", "lanes")  # every block has the same: block 0's


def _global_codes(total: int) -> np.ndarray:
    """SKU codes of the whole company: zero-padded numbers (block 0's tenth SKU keeps its punctuation)."""
    width = max(5, len(str(total)))
    codes = np.char.zfill(np.arange(1, total + 1).astype(str), width).astype(object)
    if total >= 10:
        codes[9] = "KIT 1/2, 50ml"
    return codes


def _renumber(tables: dict[str, pd.DataFrame], codes: np.ndarray, block: int) -> None:
    """Give block ``block``'s SKUs their codes in the whole company, its order ids the block number."""
    local = pd.Index(tables["products"]["sku"])
    for frame in tables.values():
        for col in ("sku", "substitute_sku"):
            if col in frame.columns:
                frame[col] = codes[local.get_indexer(frame[col])]
    tables["supply"]["order_id"] = tables["supply"]["order_id"].str.replace("-", f"-{block:03d}-", n=1)
    for orders in (tables["open_orders"], tables.get("order_history", pd.DataFrame())):
        if "line" in orders:  # a line is named by its item: with the item's code in the whole company
            orders["line"] = orders["sku"].astype(str) + "@" + orders["location"].astype(str)


def _renumber_planted(planted: dict, local: np.ndarray, codes: np.ndarray) -> dict:
    """Block 0's planted cases, with its SKUs' codes in the whole company."""
    to_global = dict(zip(local.tolist(), codes.tolist(), strict=True))
    return {k: {**v, "sku": to_global[v["sku"]]} if isinstance(v, dict) and "sku" in v else v for k, v in planted.items()}


def _blocks(skus: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` consecutive SKU ranges ``[first, stop)`` of about the same size, each of at least 20 SKUs
    (a block must hold the planted cases, which need a few regular items)."""
    parts = max(1, min(parts, skus // 20))
    cuts = np.linspace(0, skus, parts + 1).astype(int)
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))


def _shared(collected: dict[str, list[pd.DataFrame]], locations: list[pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables the blocks share: concatenated, or summed where each block sized its own share."""
    out = {name: pd.concat(collected[name], ignore_index=True) for name in CONCATENATED}
    out |= {name: collected[name][0] for name in SAME if collected[name]}
    for name, (keys, values) in SUMMED.items():
        out[name] = pd.concat(collected[name]).groupby(keys, as_index=False, sort=True)[values].sum()
    loc = locations[0].copy()
    loc["storage_capacity"] = np.sum([f["storage_capacity"].to_numpy() for f in locations], axis=0)
    out["locations"] = loc
    return out


def write_sample_parts(out: str | Path, skus: int, locations: int = DEFAULTS["locations"], seed: int = DEFAULTS["seed"], parts: int = 10) -> dict:
    """Write a sample company of ``skus x locations`` SKU-locations into ``out`` in ``parts`` blocks (see
    the module doc); replaces ``out`` whole when done. Returns what was planted in block 0, with the
    company's size."""
    with replacing_folder(out) as tmp:
        codes = _global_codes(skus)
        collected: dict[str, list[pd.DataFrame]] = {name: [] for name in (*CONCATENATED, *SUMMED, *SAME)}
        locs: list[pd.DataFrame] = []
        planted: dict = {}
        for block, (first, stop) in enumerate(_blocks(skus, parts)):
            tables, planted_here, _ = sample_with_truth(stop - first, locations, seed + block)
            local = tables["products"]["sku"].to_numpy()
            _renumber(tables, codes[first:stop], block)
            for name in SERIES_TABLES:
                (tmp / name).mkdir(exist_ok=True)
                tables[name].to_parquet(tmp / name / f"part-{block:05d}.parquet", index=False)
            for name in collected:
                collected[name].append(tables[name])
            locs.append(tables["locations"])
            if block == 0:  # what was planted in block 0 stands for the company's
                planted = {**_renumber_planted(planted_here, local, codes[first:stop]), "skus": skus, "parts": parts}
            del tables
        for name, frame in _shared(collected, locs).items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "planted.json").write_text(json.dumps(planted, indent=2) + "\n")
    return planted
