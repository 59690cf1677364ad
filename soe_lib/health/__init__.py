"""Data health (step 1): what was loaded, the validation findings that did not stop the run, coverage per
SKU-location, and demand at a glance."""

from .step import HEALTH, weekly_totals

__all__ = [
    "HEALTH",
    "weekly_totals",
]
