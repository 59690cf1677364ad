"""The built-in sample company: a deterministic generator of every input table."""

from .company import ensure_sample, write_sample
from .partitioned import write_sample_parts
from .weeks import write_weeks

__all__ = [
    "ensure_sample",
    "write_sample",
    "write_sample_parts",
    "write_weeks",
]
