"""Lazy package exports (PEP 562): a package lists its public names in ``__all__`` and imports the
module behind a name only when it is first used, so ``import soe_lib.app`` costs nothing until a
chart or a widget is asked for (a kernel that only computes never loads altair or ipywidgets)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, where: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``where`` maps each public name to its module."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        return value

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
