"""The weekly review meeting app and the charts: widgets, what the app reads, the decision log.

Public names are imported on first use (see :mod:`soe_lib._lazy`).
"""

from .._lazy import lazy_exports

_WHERE = {
    "export_minutes": "decisions",
    "item_state": "decisions",
    "meeting_pdf": "export",
    "ReviewApp": "review",
    "serve_review": "serve",
    "wait_for_page": "review",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
