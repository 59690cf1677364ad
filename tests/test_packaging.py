"""The product works as a new user installs it: a wheel (not the editable checkout) in a fresh venv,
run from an unrelated working directory. Nothing is downloaded: the wheel is built without build
isolation, and the fresh venv borrows this environment's installed dependencies through a .pth file
(a path added that way is not a site directory, so this checkout's editable finder is not loaded)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, free_port

pytestmark = pytest.mark.slow


def _run(args: list, cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    res = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{args}: {res.stdout[-1500:]} {res.stderr[-2500:]}"
    return res


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, site-packages) of a fresh venv with the built wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # build from a copy: no build/ or egg-info left in the checkout
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv*", ".git", "outputs", "data", "test-artifacts", "build", "*.egg-info", "__pycache__"))
    built = _run([sys.executable, "-m", "pip", "wheel", "-v", src, "--no-deps", "--no-build-isolation", "--no-index", "-w", tmp / "dist"], tmp, dict(os.environ))
    (tmp / "build.log").write_text(built.stdout + built.stderr)
    wheel = next((tmp / "dist").glob("soe_workbench-*.whl"))
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp, dict(os.environ))
    site = Path(subprocess.check_output([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "--no-index", wheel], tmp, dict(os.environ))
    return venv / "bin", site


def _user_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SOE_OUTPUTS", "SOE_SAMPLE_DIR", "SOE_HOME", "SOE_NOTEBOOKS", "SOE_PARAMETERS", "PYTHONPATH")}
    # the borrowed dependencies' data files (nbconvert and voila templates) sit under this environment's
    # prefix; in a real install they would be under the venv's own
    shared = str(Path(sys.prefix) / "share" / "jupyter")
    return {**env, "HOME": str(tmp / "home"), "JUPYTER_PATH": os.pathsep.join(filter(None, [shared, env.get("JUPYTER_PATH")]))}


def test_the_installed_package_is_the_wheel_with_its_data(installed, tmp_path):
    bin_dir, site = installed
    where = _run([bin_dir / "python", "-c", "import soe_lib, soe_lib.core.paths as p; print(soe_lib.__file__); print(p.notebooks_dir()); print(p.parameters_dir())"],
                 tmp_path, _user_env(tmp_path)).stdout.split()
    assert all(Path(w).is_relative_to(site) for w in where), where
    assert (Path(where[1]) / "02_demand_sensing.ipynb").exists() and (Path(where[2]) / "catalogues" / "countermeasures.yaml").exists()


def test_the_build_is_quiet_and_ships_the_migrations(installed):
    """`make setup` printed ~100 lines of setuptools warnings: folders with data (the migrations, the catalogues)
    that were not in the package list. Every folder is listed now, and the wheel holds each file."""
    bin_dir, site = installed
    log = (bin_dir.parent.parent / "build.log").read_text()
    assert "running bdist_wheel" in log  # the verbose build's log, not an empty file
    assert "is absent from the `packages` configuration" not in log and "Installing 'soe_lib" not in log
    for path in ("io/migrations/env.py", "io/migrations/script.py.mako", "io/migrations/versions/0005_action_pool.py", "parameters/catalogues/countermeasures.yaml",
                 "run/templates/soe_html/index.html.j2", "run/templates/soe_html/conf.json"):
        assert (site / "soe_lib" / path).is_file(), path


def test_sample_validate_run_and_review_from_any_folder(installed, tmp_path):
    bin_dir, site = installed
    before = sorted(p for p in (site / "soe_lib").rglob("*") if "__pycache__" not in p.parts)
    work = tmp_path / "work"
    work.mkdir()
    env = _user_env(tmp_path)
    _run([bin_dir / "soe", "sample"], work, env)
    assert (work / "data" / "sample" / "planted.json").exists()
    assert "OK:" in _run([bin_dir / "soe", "validate"], work, env).stdout
    ran = _run([bin_dir / "soe", "run"], work, env, timeout=600)
    assert "succeeded" in ran.stdout and (work / "outputs" / "2026-W48" / "tables" / "decision_list.parquet").exists()
    assert (work / "outputs" / "2026-W48" / "notebooks" / "04_financial_impact.html").exists()
    _review_serves(bin_dir, work, env, tmp_path)
    after = sorted(p for p in (site / "soe_lib").rglob("*") if "__pycache__" not in p.parts)
    assert after == before, "nothing is written into the installed package"


def _review_serves(bin_dir: Path, work: Path, env: dict, tmp: Path) -> None:
    port = free_port()
    log = open(tmp / "review.log", "w")  # noqa: SIM115 (closed below, after the server stops)
    server = subprocess.Popen([bin_dir / "soe", "review", "--port", str(port)], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/static/voila.js", timeout=2):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp / "review.log").read_text()[-2000:]
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as page:
            html = page.read().decode()
        assert "S&amp;OE weekly review" in html or "S&OE weekly review" in html
        assert "Traceback" not in html
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
        log.close()
