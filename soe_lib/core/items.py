"""The decision items the weekly meeting follows from one week to the next: their ids, and when one got worse.

A decision item (a SKU-location, a resource, a location, an S&OP finding) keeps the same id while it
exists, so this week's list, the decision log and next week's comparison can be joined on it. The id
is a short SHA-1 of the item's kind and keys: the same in every process and on every machine (Python's
own ``hash`` is salted per process), and readable by its prefix.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = ["ACTION_TYPES", "ITEM_PREFIX", "WORSE_SHARE", "WORSE_UNITS", "eased", "item_id", "item_words", "worse"]

ITEM_PREFIX = {"sku-location": "SL", "capacity": "CAP", "storage": "STO", "customer": "CUS"}  # anything else: SOP
# the countermeasure types an action may name (the finance catalogue's levers; the CLI and the app check a typed one)
ACTION_TYPES = ("expedite", "switch_mode", "pull_in", "transfer", "overtime", "build_ahead", "substitute", "raise_order", "new_order", "allocate",
                "shape_demand", "accept")
# one rule for "the item got worse" wherever it is asked (in hand or not; what changed since last week)
WORSE_SHARE, WORSE_UNITS = 0.10, 1.0


def item_id(kind: str, *keys: pd.Series) -> np.ndarray:
    """``<prefix>-<first 12 hex digits of sha1(kind, keys...)>`` per row of ``keys``.

    One hash per item (tens of thousands at 100k SKU-locations: milliseconds); kept as SHA-1 rather
    than pandas' hashing so that an id recorded today still matches after a library upgrade."""
    prefix = ITEM_PREFIX.get(kind, "SOP")
    return np.array(
        [f"{prefix}-" + hashlib.sha1("\x1f".join((kind, *map(str, k))).encode()).hexdigest()[:12] for k in zip(*keys, strict=True)], dtype=object
    )


def item_words(kind: str, sku: str = "", location: str = "", resource: str = "") -> str:
    """The item as a person names it: ``SKU 00123 at DC-2``, ``resource Line 1``, ``storage at DC-2``, or the
    S&OP finding's keys (never its id)."""
    if kind == "sku-location":
        return f"SKU {sku} at {location}"
    if kind == "capacity":
        return f"resource {resource}"
    if kind == "storage":
        return f"storage at {location}"
    if kind == "customer":
        return f"customer {resource}"
    return "S&OP finding " + " ".join(k for k in (sku, location, resource) if k)


def worse(now: np.ndarray | pd.Series, then: np.ndarray | pd.Series) -> np.ndarray:
    """The item's size (units short, hours carried, units over capacity) grew: ``now > then x 1.1 + 1``."""
    return np.asarray(now, dtype=float) > np.asarray(then, dtype=float) * (1 + WORSE_SHARE) + WORSE_UNITS


def eased(now: np.ndarray | pd.Series, then: np.ndarray | pd.Series) -> np.ndarray:
    """The item's size fell by the same margin: ``now < then / 1.1 - 1`` (the mirror of :func:`worse`)."""
    return np.asarray(now, dtype=float) < np.asarray(then, dtype=float) / (1 + WORSE_SHARE) - WORSE_UNITS
