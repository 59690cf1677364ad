from __future__ import annotations

import pytest

from soe_lib.params import ParameterError, declared_parameters, load_defaults, merge, parse_set
from soe_lib.paths import NOTEBOOKS, PARAMETERS
from soe_lib.runner import batch_notebooks, known_parameters


def test_notebook_defaults_equal_the_parameter_files():
    """A notebook run by hand must behave like `soe run` with no overrides."""
    defaults = load_defaults(PARAMETERS)
    for nb in batch_notebooks(NOTEBOOKS):
        declared = declared_parameters(nb)
        for name, value in defaults.items():
            if name in declared:
                assert declared[name] == value, f"{nb.name}: {name}={declared[name]!r} but parameters/ says {value!r}"


def test_every_parameter_file_name_is_declared_by_some_notebook():
    known = set().union(*known_parameters(batch_notebooks(NOTEBOOKS)).values())
    assert set(load_defaults(PARAMETERS)) <= known


def test_unknown_names_are_errors():
    with pytest.raises(ParameterError, match="horizon_weks"):
        merge({"horizon_weeks": 13}, {"horizon_weks": 8}, {"horizon_weeks"})
    with pytest.raises(ParameterError, match="parameters/"):
        merge({"typo": 1}, {}, {"horizon_weeks"})
    assert merge({"horizon_weeks": 13}, {"horizon_weeks": 8}, {"horizon_weeks"}) == {"horizon_weeks": 8}


def test_set_values_are_yaml_typed():
    assert parse_set(["horizon_weeks=8", "week=2026-W48", "code='007'", "x="]) == {
        "horizon_weeks": 8,
        "week": "2026-W48",
        "code": "007",
        "x": None,
    }
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        parse_set(["horizon_weeks"])


def test_a_name_in_two_files_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("horizon_weeks: 13\n")
    (tmp_path / "b.yaml").write_text("horizon_weeks: 8\n")
    with pytest.raises(ParameterError, match="both a.yaml and b.yaml"):
        load_defaults(tmp_path)


def test_bad_yaml_names_the_file(tmp_path):
    (tmp_path / "a.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ParameterError, match="a.yaml"):
        load_defaults(tmp_path)
