"""Financial impact (step 4): money at risk, plan vs estimate, countermeasures, the decision list, feedback to S&OP."""

from .catalogue import CatalogueError, load_catalogue
from .params import FinanceParams
from .step import FINANCE

__all__ = [
    "CatalogueError",
    "FINANCE",
    "FinanceParams",
    "load_catalogue",
]
