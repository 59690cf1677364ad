"""The architecture holds: one-way data flow, layers that import only what they may, no import cycle,
engines free of notebook and UI libraries, and public names listed in every package's __all__."""

from __future__ import annotations

import ast
import graphlib
import importlib
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "soe_lib"
# What each part of soe_lib may import from the others (docs/architecture.md shows this table).
LAYERS: dict[str, tuple[str, ...]] = {
    "core": (),
    "io": ("core",),
    "sample": ("core",),
    "sensing": ("core",),
    "supply": ("core",),
    "logistics": ("core",),
    "allocation": ("core",),
    "finance": ("core",),
    "loop": ("core", "io"),  # io: the archive of earlier weeks it compares with
    "health": ("core", "io"),  # io: coverage, the validation the snapshot was made with
    "run": ("core", "io", "sample", "health", "sensing", "supply", "logistics", "allocation", "finance", "loop"),
    "app": ("core", "io"),
    "cli": ("core", "io", "sample", "run", "app"),
}
WHY = {
    "core": "weeks, contracts, parameter declarations, the step protocol, paths, the snapshot type, the matrix, the projection kernel, item ids",
    "io": "reads, validates and snapshots inputs; writes and reads a week's tables; the archive; the decision log",
    "sample": "the built-in sample company",
    "health": "step 1: what was loaded, validation findings, coverage",
    "sensing": "step 2: sensed demand, accuracy, exceptions",
    "supply": "step 3: projections, gaps and causes, delays, capacity, storage",
    "logistics": "what lanes really did (delays by lane, mode, supplier, carrier), predicted receipt weeks of open lines",
    "allocation": "scarce supply shared among customers' order lines, service per customer, policies compared, ATP and CTP",
    "finance": "step 4: money, countermeasures, the joint plan, decision list, feedback",
    "loop": "step 5: what changed since last week and why, whether decisions worked, sensing's track record",
    "run": "parameters, the steps in order, the week a notebook works on, the Papermill runner, steps in parts (Dask)",
    "app": "the review app and charts",
    "cli": "the `soe` command",
}
ENGINES = ("core", "io", "sample", "health", "sensing", "supply", "logistics", "allocation", "finance", "loop")
STEP_PACKAGES = ("health", "sensing", "supply", "logistics", "allocation", "finance", "loop")
# public names of all subpackages together (146 after the cut; +2 for the label catalogue every layer shows words
# through, +1 the meeting's PDF, +2 the logistics step and its parameters, +5 core's lanes: how a lane is matched and
# named and which lines slip, read alike by logistics, supply and finance, +3 disruption scenarios: the scenario, its
# reader, the run that compares it with the week, and how both the app and the CLI set it beside the week, +2 the
# allocation step and its parameters, +2 order promising: the promise and the command's reading of a week, +1 the one
# reader of a person's small YAML file, which the catalogue and the scenario had each copied)
API_BUDGET = 169
NOT_IN_ENGINES = ("papermill", "nbformat", "nbconvert", "nbclient", "voila", "ipywidgets", "altair", "vl_convert", "IPython", "jupyter_client")


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, at the top or inside a function."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names if (root / Path(*f"{base}.{a.name}".split("."))).with_suffix(".py").exists()}
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    return {_module_name(p, root): _imports(p, root) for p in (root / "soe_lib").rglob("*.py")}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "soe_lib" or len(parts) < 2 or parts[1].startswith("_"):
        return None
    return parts[1]


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """A cycle of soe_lib modules, or [] when there is none."""
    try:
        graphlib.TopologicalSorter({m: {d for d in deps if d.startswith("soe_lib")} for m, deps in graph.items()}).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return []


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{module} imports {dep}"
        for module, deps in graph.items()
        if (layer := _layer(module)) is not None
        for dep in deps
        if (other := _layer(dep)) is not None and other != layer and other not in LAYERS[layer]
    ]


def engine_violations(graph: dict[str, set[str]]) -> list[str]:
    return [f"{module} imports {dep}" for module, deps in graph.items() if _layer(module) in ENGINES for dep in deps if dep.split(".")[0] in NOT_IN_ENGINES]


def test_no_import_cycle():
    assert cycle(import_graph()) == []


def test_each_layer_imports_only_what_it_may():
    assert layer_violations(import_graph()) == []


def test_engines_never_import_notebook_or_ui_libraries():
    assert engine_violations(import_graph()) == []


def _fake_tree(root: Path, modules: dict[str, str]) -> Path:
    """A package tree under ``root``: ``soe_lib`` with the given modules (path under soe_lib: source), each
    folder a package."""
    for path, source in modules.items():
        folder = root / "soe_lib" / Path(path).parent
        for pkg in (folder, *folder.parents):
            if pkg == root:
                break
            pkg.mkdir(parents=True, exist_ok=True)
            (pkg / "__init__.py").touch()
        (root / "soe_lib" / path).write_text(source)
    return root


def test_the_checks_catch_violations(tmp_path):
    """The three rules can fail: a fake tree where supply imports sensing and altair, and sensing imports supply back."""
    graph = import_graph(_fake_tree(tmp_path, {
        "supply/x.py": "from ..sensing.engine import sense\n\ndef f():\n    import altair\n",
        "sensing/engine.py": "from soe_lib.supply import x\n",
    }))
    assert set(cycle(graph)) >= {"soe_lib.supply.x", "soe_lib.sensing.engine"}
    assert "soe_lib.supply.x imports soe_lib.sensing.engine" in layer_violations(graph)
    assert engine_violations(graph) == ["soe_lib.supply.x imports altair"]


def test_running_the_engines_loads_no_notebook_or_ui_library(small_sample):
    """Not only the source: computing the steps in a fresh process loads none of them either."""
    code = (
        "import sys\n"
        "from soe_lib.io import load_data\n"
        "from soe_lib.sensing.step import sense_week\n"
        "from soe_lib.supply.step import analyse_supply\n"
        f"data = load_data({str(small_sample)!r})\n"
        "s = sense_week(data)\n"
        "analyse_supply(data, s.sensed)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {NOT_IN_ENGINES!r}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


SUBPACKAGES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def run_reaching_in(graph: dict[str, set[str]]) -> list[str]:
    """Imports by the run layer of a step package's modules (it may use only the package's public names)."""
    return [f"{module} imports {dep}" for module, deps in graph.items() if _layer(module) == "run"
            for dep in deps if _layer(dep) in STEP_PACKAGES and len(dep.split(".")) > 2]


def test_the_run_layer_uses_only_the_step_packages_public_names():
    assert run_reaching_in(import_graph()) == []


def test_the_run_rule_can_fail(tmp_path):
    tree = _fake_tree(tmp_path, {"sensing/engine.py": "def prepare(): ...\n",
                                 "run/x.py": "from ..sensing import SENSING\nfrom ..sensing.engine import prepare\n"})
    assert run_reaching_in(import_graph(tree)) == ["soe_lib.run.x imports soe_lib.sensing.engine"]


def public_api() -> dict[str, list[str]]:
    return {name: list(importlib.import_module(f"soe_lib.{name}").__all__) for name in SUBPACKAGES}


def test_the_public_api_is_small_and_no_name_means_two_things():
    api = public_api()
    names = [n for exported in api.values() for n in exported]
    assert len(names) <= API_BUDGET, f"{len(names)} public names (budget {API_BUDGET}): {', '.join(f'{k} {len(v)}' for k, v in api.items())}"
    twice = sorted({n for n in names if names.count(n) > 1})
    assert twice == [], f"exported by two packages: {twice}"
    for package, exported in api.items():
        module = importlib.import_module(f"soe_lib.{package}")
        assert all(getattr(module, n) is not None for n in exported)


def _package_level_uses() -> dict[str, set[str]]:
    """Names each subpackage is asked for by another part of soe_lib, the CLI or a notebook (any import of it)."""
    import json

    used: dict[str, set[str]] = {name: set() for name in SUBPACKAGES}

    def scan(text: str, importer: str | None, package: str | None) -> None:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom):
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level else (node.module or "")
                parts = base.split(".")
                if len(parts) >= 2 and parts[0] == "soe_lib" and parts[1] in used and parts[1] != importer:
                    used[parts[1]] |= {a.name for a in node.names}
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path, ROOT)
        scan(path.read_text(), _layer(name), name if path.name == "__init__.py" else name.rsplit(".", 1)[0])
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        scan("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code" and not "".join(c["source"]).startswith("%")), None, None)
    return used


def test_the_public_names_are_exactly_what_other_layers_the_cli_and_the_notebooks_use():
    used = _package_level_uses()
    for package, exported in public_api().items():
        modules = {p.stem for p in (PACKAGE / package).glob("*.py")} - {"deep_dive"}  # deep_dive: a module and its function
        wanted = used[package] - modules
        assert set(exported) - wanted == set(), f"soe_lib.{package} exports names no other part uses"
        assert wanted - set(exported) == set(), f"soe_lib.{package} is used for names it does not list in __all__"


def layers_markdown() -> str:
    """The allowed-imports table of docs/architecture.md."""
    lines = ["| part | holds | may import |", "|---|---|---|"]
    lines += [f"| `{layer}` | {WHY[layer]} | {', '.join(f'`{d}`' for d in deps) or 'nothing of soe_lib'} |" for layer, deps in LAYERS.items()]
    return "\n".join(lines)


def test_architecture_doc_shows_these_rules():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    block = doc.split("<!-- layers:begin -->", 1)[1].split("<!-- layers:end -->", 1)[0]
    assert block.strip() == layers_markdown()
