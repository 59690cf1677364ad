"""pyproject.toml is what pip installs; environment.yml must describe the same packages, and work."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement

from .conftest import ROOT

# pip name -> conda-forge name, where they differ (psycopg's binary extra is what conda-forge's psycopg is)
CONDA_FORGE_NAMES = {"playwright": "playwright-python"}


def _spec(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(3).replace(" ", "")


def _env() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_environment_yml_and_pyproject_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = dict(_spec(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
    wanted = {CONDA_FORGE_NAMES.get(name, name): version for name, version in pip.items()}
    conda = dict(_spec(d) for d in _env()["dependencies"] if isinstance(d, str))
    conda.pop("python"), conda.pop("pip")
    assert conda == wanted, f"only in environment.yml: {set(conda.items()) - set(wanted.items())}; only in pyproject: {set(wanted.items()) - set(conda.items())}"


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"python{project['requires-python']}" in _env()["dependencies"]


def _check_pip_line(line: str) -> None:
    """What `pip install -r` accepts in a requirements file: a requirement, or -e/a path to a project."""
    if line.startswith(("-e ", "--editable ")):
        target = line.split(None, 1)[1]
        assert (ROOT / target / "pyproject.toml").is_file(), f"{line!r}: no project at {target}"
        return
    assert not line.startswith("-"), f"{line!r}: pip options are not valid requirement lines (e.g. --no-deps)"
    if (ROOT / line / "pyproject.toml").is_file():
        return
    Requirement(line)  # raises InvalidRequirement


def test_pip_section_is_valid_and_installs_the_project():
    sections = [d["pip"] for d in _env()["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "one pip section"
    for line in sections[0]:
        _check_pip_line(line)
    assert any(line in ("-e .", ".") for line in sections[0]), "the project itself must be installed"


@pytest.mark.parametrize("bad", ["--no-deps -e .", "-e ./nowhere", "soe workbench ==1"])
def test_the_pip_check_catches_invalid_lines(bad):
    with pytest.raises((AssertionError, InvalidRequirement)):
        _check_pip_line(bad)


def test_every_subpackage_is_in_the_package_list():
    """A subpackage missing from [tool.setuptools].packages is missing from the wheel (soe_lib.health was: the
    installed `soe` failed on import); folders of data files (the migrations, the catalogues) are listed too."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "soe_lib").rglob("*.py") if "__pycache__" not in p.parts}
    assert found - listed == set()
