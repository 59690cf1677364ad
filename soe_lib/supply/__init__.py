"""Supply gap analysis (step 3): projected inventory, gaps and their root cause, inbound delays, capacity, storage."""

from .params import SupplyParams
from .step import SUPPLY

__all__ = [
    "SUPPLY",
    "SupplyParams",
]
