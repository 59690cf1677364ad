"""Notebook hygiene: thin (no def/class), a tagged parameters cell, committed without outputs."""

from __future__ import annotations

import ast

import nbformat
import pytest

from soe_lib.core.paths import REVIEW_NOTEBOOK, notebooks_dir
from soe_lib.run.execute import batch_notebooks

ALL = sorted(notebooks_dir().glob("*.ipynb"))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_notebook_is_thin_and_clean(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and "parameters" in code[0].metadata.get("tags", []), "first code cell must be tagged 'parameters'"
    for cell in code:
        assert not cell.outputs and cell.execution_count is None, "commit notebooks without outputs"
        tree = ast.parse(cell.source)
        defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))]
        assert not defs, f"logic belongs in soe_lib/, not in a notebook: {cell.source[:80]!r}"
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        for imp in imports:
            module = imp.module if isinstance(imp, ast.ImportFrom) else imp.names[0].name
            assert module.split(".")[0] == "soe_lib", f"notebooks import from soe_lib only, not {module}"
    assert any(c.cell_type == "markdown" for c in nb.cells), "explain what the reader sees"


def test_batch_is_the_numbered_notebooks_without_the_review():
    names = [p.name for p in batch_notebooks(notebooks_dir())]
    assert names[0] == "01_data_health.ipynb" and REVIEW_NOTEBOOK not in names
    assert names == sorted(names)
