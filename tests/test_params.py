"""One source for every parameter default: the declarations; the files and notebook cells equal them."""

from __future__ import annotations

import pytest

from soe_lib.core.params import CycleParams, FocusParams, check_value, param_specs
from soe_lib.core.paths import notebooks_dir, parameters_dir
from soe_lib.run.execute import batch_notebooks, known_parameters
from soe_lib.run.parameters import (
    PARAMETER_FILES,
    RUNNER_OWNED,
    ParameterError,
    all_specs,
    declared_parameters,
    default_parameters,
    load_file,
    merge,
    parse_set,
    render_parameter_file,
)
from soe_lib.run.steps import STEPS, steps_of_notebook


def test_parameter_files_are_the_declarations():
    """parameters/*.yaml are generated from the declarations: `soe params --write parameters` after a change."""
    assert sorted(p.name for p in parameters_dir().glob("*.yaml")) == sorted(PARAMETER_FILES)
    for name in PARAMETER_FILES:
        assert (parameters_dir() / name).read_text() == render_parameter_file(name), f"{name}: run `soe params --write parameters`"
        assert load_file(parameters_dir() / name) == {s.name: s.default for g in PARAMETER_FILES[name] for s in param_specs(g)}


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_each_notebook_declares_its_steps_parameters_with_the_declared_defaults(step):
    """A notebook run by hand behaves like `soe run` with no overrides: same names, same defaults (of every step
    it computes: the supply-gap notebook computes supply and logistics)."""
    declared = declared_parameters(notebooks_dir() / step.notebook)
    steps = steps_of_notebook(step.notebook)
    assert step in steps
    groups = (CycleParams, *(g for s in steps for g in s.groups)) + ((FocusParams,) if {s.name for s in steps} & {"sensing", "supply"} else ())
    wanted = {s.name: s.default for g in groups for s in param_specs(g)}
    assert {k: v for k, v in declared.items() if k not in RUNNER_OWNED} == wanted
    assert set(RUNNER_OWNED) <= set(declared)


def test_every_declared_parameter_is_used_by_a_notebook():
    """... or is run-wide (the engine settings: in parameters.json, read by the steps, never injected)."""
    from soe_lib.run.parameters import RUN_LEVEL

    known = set().union(*known_parameters(batch_notebooks(notebooks_dir())).values())
    assert set(RUN_LEVEL) == {"engine", "scheduler", "partitions"} and not set(RUN_LEVEL) & known
    assert set(all_specs()) == known | set(RUN_LEVEL)


def test_unknown_names_are_errors():
    with pytest.raises(ParameterError, match="horizon_weks"):
        merge({"horizon_weeks": 13}, {"horizon_weks": 8}, {"horizon_weeks"})
    assert merge({"horizon_weeks": 13}, {"horizon_weeks": 8}, {"horizon_weeks"}) == {"horizon_weeks": 8}


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("horizon_weeks", "abc", "not a number"),
        ("horizon_weeks", -3, "out of range"),
        ("horizon_weeks", [1, 2], "not a number"),
        ("horizon_weeks", 2.5, "not a whole number"),
        ("alert_budget", [1, 2], "not a number"),
        ("urgency_decay", 1.5, "out of range"),
        ("outlier_z", float("inf"), "not finite"),
        ("week", "2026-W99", "not a week"),
        ("focus_sku", 123, "not text"),
        ("horizon_weeks", None, "got null"),
    ],
)
def test_values_that_do_not_fit_their_declaration_are_refused(name, value, why):
    with pytest.raises(ParameterError, match=f"'{name}'.*{why}"):
        merge(default_parameters(), {name: value}, set(all_specs()), "--set")


def test_values_that_fit_are_normalised():
    specs = all_specs()
    assert check_value(specs["outlier_z"], 5) == 5.0 and isinstance(check_value(specs["outlier_z"], 5), float)
    assert check_value(specs["horizon_weeks"], 8.0) == 8
    import datetime as dt

    assert check_value(specs["week"], dt.date(2026, 11, 23)) == "2026-11-23"  # YAML reads a date as a date
    assert check_value(specs["data_dir"], None) is None


def test_set_values_are_yaml_typed():
    assert parse_set(["horizon_weeks=8", "week=2026-W48", "code='007'", "x="]) == {
        "horizon_weeks": 8,
        "week": "2026-W48",
        "code": "007",
        "x": None,
    }
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        parse_set(["horizon_weeks"])


def test_a_name_declared_twice_is_an_error(monkeypatch):
    from soe_lib.run import parameters

    monkeypatch.setitem(parameters.PARAMETER_FILES, "again.yaml", (CycleParams,))
    with pytest.raises(ParameterError, match="'data_dir' is declared by both"):
        parameters.all_specs()


def test_bad_yaml_names_the_file(tmp_path):
    (tmp_path / "a.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ParameterError, match="a.yaml"):
        load_file(tmp_path / "a.yaml")
