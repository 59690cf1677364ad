"""pyproject.toml is what pip installs; environment.yml must describe the same packages."""

from __future__ import annotations

import re
import tomllib

import yaml

from .conftest import ROOT


def _spec(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_and_pyproject_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = dict(_spec(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_spec(d) for d in env["dependencies"] if isinstance(d, str))
    conda.pop("python"), conda.pop("pip")
    assert conda == pip, f"only in environment.yml: {set(conda.items()) - set(pip.items())}; only in pyproject: {set(pip.items()) - set(conda.items())}"


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in env["dependencies"]
