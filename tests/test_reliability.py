"""What a planner can leave unattended: a run never publishes wrong numbers, a crash never loses a
week, bad parameters are refused before anything runs, signals and full disks end a run cleanly,
and the review server holds a meeting (one port, local Host names, a token beyond this machine,
kernels of closed pages shut down, damage said in words)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pandas as pd
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from openpyxl import load_workbook

from soe_lib.app import ReviewApp
from soe_lib.core.paths import notebooks_dir
from soe_lib.io.workbook import write_workbook
from soe_lib.run import publish as publish_module
from soe_lib.run import run_week
from soe_lib.run.distributed import SPILL_FOLDER
from soe_lib.run.execute import batch_notebooks
from soe_lib.run.publish import publish_run

from .conftest import ROOT, SOE, free_port, run_soe
from .golden import differences, week_digest

pytestmark = pytest.mark.slow
PARAMS = "data_dir = None\nweek = None\nout_dir = None\nhorizon_weeks = 13"


def _notebook(path: Path, code: str) -> None:
    nb = new_notebook(cells=[new_code_cell(PARAMS, metadata={"tags": ["parameters"]}), new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _books(tmp_path: Path, extra: dict[str, str], real: tuple[str, ...] | None = None) -> Path:
    """The weekly notebooks (``real``: these only) and ``extra`` ones made of the code given."""
    books = tmp_path / "notebooks"
    books.mkdir()
    for name in real if real is not None else [nb.stem for nb in batch_notebooks()]:
        shutil.copy(notebooks_dir() / f"{name}.ipynb", books)
    for name, code in extra.items():
        _notebook(books / f"{name}.ipynb", code)
    return books


# --- 1. one immutable snapshot --------------------------------------------------------------------------
def test_inputs_rewritten_during_a_run_do_not_reach_the_published_week(weekly_run, small_sample, tmp_path):
    """A file rewritten while notebook 02 runs and restored before the end (the first release published
    a fill rate of 50.7 % instead of 99.2 % that way): every notebook reads the snapshot."""
    _, clean = weekly_run
    data = shutil.copytree(small_sample, tmp_path / "data")
    tamper = ("import pandas as pd, shutil, pathlib\n"
              "d = pathlib.Path(data_dir); shutil.copy(d / 'demand_plan.csv', d / 'demand_plan.bak')\n"
              "p = pd.read_csv(d / 'demand_plan.csv', dtype=str); p['qty'] = (p['qty'].astype(float) * 3).astype(str)\n"
              "p.to_csv(d / 'demand_plan.csv', index=False)")
    restore = "import pathlib, os\nd = pathlib.Path(data_dir); os.replace(d / 'demand_plan.bak', d / 'demand_plan.csv')"
    books = _books(tmp_path, {"01_z_tamper": tamper, "03_z_restore": restore})
    out = tmp_path / "outputs"
    res = run_soe("run", "--data", str(data), "--out", str(out), env={**os.environ, "SOE_NOTEBOOKS": str(books)})
    assert res.returncode == 0, res.stdout + res.stderr
    assert "01_z_tamper ok" in res.stdout and "03_z_restore ok" in res.stdout
    assert differences(week_digest(clean / "2026-W48"), week_digest(out / "2026-W48")) == []


# --- 2. atomic publish ------------------------------------------------------------------------------------
def _staged(out: Path, label: str, run_id: str) -> Path:
    staging = out / ".staging" / f"{label}-{run_id}"
    staging.mkdir(parents=True)
    (staging / "manifest.json").write_text(json.dumps({"run_id": run_id, "status": "succeeded", "week": label}))
    return staging


def _visible(out: Path, label: str) -> str | None:
    try:
        return json.loads((out / label / "manifest.json").read_text())["run_id"]
    except OSError:
        return None


@pytest.mark.parametrize("crash_at", [0, 1, 2, 3])
def test_a_crash_at_any_step_of_publishing_leaves_the_old_or_the_new_week(tmp_path, monkeypatch, crash_at):
    out = tmp_path / "outputs"
    publish_run(_staged(out, "2026-W48", "old"), out, "2026-W48", "old")
    steps = []
    real_replace, real_symlink = os.replace, os.symlink

    def step(fn):
        def wrapped(*args, **kwargs):
            if len(steps) == crash_at:
                raise OSError(errno.EIO, "the machine went down here")
            steps.append(fn.__name__)
            return fn(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(publish_module.os, "replace", step(real_replace))
    monkeypatch.setattr(publish_module.os, "symlink", step(real_symlink))
    staging = _staged(out, "2026-W48", "new")
    if crash_at < 3:
        with pytest.raises(OSError, match="went down"):
            publish_run(staging, out, "2026-W48", "new")
        assert _visible(out, "2026-W48") == "old"
    else:
        publish_run(staging, out, "2026-W48", "new")
        assert _visible(out, "2026-W48") == "new"
    monkeypatch.undo()
    publish_run(_staged(out, "2026-W48", "next"), out, "2026-W48", "next")  # the next run recovers from any leftover
    assert _visible(out, "2026-W48") == "next" and not list(out.glob(".2026-W48.*.link"))
    assert (out / "runs" / "2026-W48" / "old" / "manifest.json").exists()  # nothing lost


def test_a_run_killed_while_publishing_or_staging_is_found_by_the_next_run_and_marked_failed(tmp_path, monkeypatch):
    """Killed after publishing's first rename: a run folder in runs/ whose manifest says succeeded, never
    published; killed while running: a folder in .staging/. The next run moves both to failed-runs/ and says so."""
    out = tmp_path / "outputs"
    publish_run(_staged(out, "2026-W48", "20261130T060000Z-aaaaaa"), out, "2026-W48", "20261130T060000Z-aaaaaa")
    monkeypatch.setattr(publish_module.os, "symlink", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EIO, "killed")))
    with pytest.raises(OSError):
        publish_run(_staged(out, "2026-W48", "20261207T060000Z-bbbbbb"), out, "2026-W48", "20261207T060000Z-bbbbbb")
    monkeypatch.undo()
    stray = out / "runs" / "2026-W48" / "20261207T060000Z-bbbbbb"
    assert json.loads((stray / "manifest.json").read_text())["status"] == "succeeded"  # what a kill leaves
    killed = _staged(out, "2026-W49", "20261214T060000Z-cccccc")  # a run killed while running, in sensing's rounds
    (killed / SPILL_FOLDER / "sensing").mkdir(parents=True)
    (killed / SPILL_FOLDER / "sensing" / "part-00000.pickle").write_bytes(b"state")
    moved = publish_module.recover_interrupted(out)
    assert {p.name for p in moved} == {"2026-W48-20261207T060000Z-bbbbbb", "2026-W49-20261214T060000Z-cccccc"}
    for folder in moved:
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["status"] == "failed" and "stopped" in manifest["reason"]
        assert not (folder / SPILL_FOLDER).exists()  # the parts' states between rounds are not kept (16 GB at 1M)
    assert not stray.exists() and not any((out / ".staging").iterdir())
    assert _visible(out, "2026-W48") == "20261130T060000Z-aaaaaa"  # the published week as it was


def test_a_first_release_week_folder_is_migrated_on_its_re_run(tmp_path):
    out = tmp_path / "outputs"
    legacy = out / "2026-W48"
    legacy.mkdir(parents=True)
    (legacy / "manifest.json").write_text(json.dumps({"run_id": "r1", "status": "succeeded"}))
    publish_run(_staged(out, "2026-W48", "r2"), out, "2026-W48", "r2")
    assert _visible(out, "2026-W48") == "r2" and (out / "runs" / "2026-W48" / "r1" / "manifest.json").exists()


# --- 3. parameters refused before anything runs -----------------------------------------------------------
@pytest.mark.parametrize(("setting", "says"), [("horizon_weeks=abc", "not a number"), ("horizon_weeks=-3", "out of range"), ("alert_budget=[1,2]", "not a number")])
def test_bad_parameters_exit_2_before_any_notebook(small_sample, tmp_path, setting, says):
    out = tmp_path / "o"
    res = run_soe("run", "--data", str(small_sample), "--out", str(out), "--set", setting)
    assert res.returncode == 2 and says in res.stdout and setting.split("=")[0] in res.stdout
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["soe-run.log"]


@pytest.mark.parametrize(("args", "says"), [
    (["--set", "alert_budget=!!python/object/apply:os.system ['true']"], "not readable as YAML"),
    (["--set", "alert_budget=[1"], "not readable as YAML"),
    (["--set", "alert_budget={a: b"], "not readable as YAML"),
    (["--set", "alert_budget=\x1b"], "not readable as YAML"),
    (["--set", "countermeasure_catalogue=/etc/passwd"], "not a countermeasure catalogue"),
    (["--set", "countermeasure_catalogue=missing.yaml"], "cannot read the countermeasure catalogue"),
    (["--params", "BINARY"], "not a text file"),
    (["--params", "ALIASES"], "aliases"),
])
def test_no_parameter_ends_in_a_traceback(small_sample, tmp_path, capsys, args, says):
    """Refused in-process by the command cron calls, exit 2, in words (never a traceback), before anything runs."""
    from soe_lib.cli import main

    (tmp_path / "BINARY").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "ALIASES").write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nalert_budget: [*b, *b, *b]\n")
    args = [str(tmp_path / a) if a in ("BINARY", "ALIASES") else a.replace("\\x1b", "\x1b") for a in args]
    assert main(["run", "--data", str(small_sample), "--out", str(tmp_path / "o"), *args]) == 2
    said = capsys.readouterr()
    text = said.out + said.err
    assert says in text and "Traceback" not in text and not (tmp_path / "o" / "runs").exists()


def test_a_huge_value_is_cut_in_messages_and_the_log(small_sample, tmp_path, capsys):
    from soe_lib.cli import main

    assert main(["run", "--data", str(small_sample), "--out", str(tmp_path / "o"), "--set", "alert_budget=" + "x" * 1_000_000]) == 2
    text = capsys.readouterr().out
    log = (tmp_path / "o" / "soe-run.log").read_text()
    assert "(1,000,002 characters)" in text and len(text) < 2_000 and len(log) < 2_000  # the repr: the value and its quotes


def test_review_refuses_a_port_out_of_range_and_a_culling_delay_pages_cannot_connect_in(capsys):
    from soe_lib.cli import main

    with pytest.raises(SystemExit) as usage:
        main(["review", "--port", "99999"])
    assert usage.value.code == 2
    # under 20 pages joining on 2 cores a page took 10-15 s to connect after its kernel went idle: 10 s lost pages
    with pytest.raises(SystemExit) as usage:
        main(["review", "--cull-after", "10"])
    assert usage.value.code == 2 and "seconds must be from 30" in capsys.readouterr().err


def test_a_relative_out_works_and_no_kernel_talks_over_tcp(small_sample, tmp_path):
    """`soe run --out out` from any folder (the installed wheel used as the README says); the run's kernels
    over IPC: no "running over TCP" warning; what a killed run left is moved aside by it."""
    (tmp_path / "out" / ".staging" / "2026-W47-20261123T060000Z-dddddd").mkdir(parents=True)
    res = subprocess.run([*SOE, "run", "--data", str(small_sample), "--out", "out"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "out" / "2026-W48" / "notebooks" / "03_supply_gaps.html").exists()
    assert "TCP" not in res.stdout + res.stderr
    assert (tmp_path / "out" / "failed-runs" / "2026-W47-20261123T060000Z-dddddd").is_dir() and "stopped before it finished" in res.stdout + res.stderr


def test_a_week_that_ran_but_cannot_be_published_says_so(small_sample, tmp_path, monkeypatch):
    """Every notebook ran; the outputs folder refuses the publication (read-only, full): exit 1 and the truth,
    not "nothing was run"."""
    import soe_lib.run.runner as runner

    monkeypatch.setattr(runner, "publish_run", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EROFS, "Read-only file system", str(tmp_path / "o"))))
    result = run_week(small_sample, out=tmp_path / "o")
    assert result.exit_code == 1 and "the week ran but could not be published" in result.message and "nothing was run" not in result.message
    assert not (tmp_path / "o" / "2026-W48").exists()


# --- 4. signals and disks ------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_run_with_a_record_and_no_leftovers(small_sample, tmp_path, sig):
    books = _books(tmp_path, {"02_slow": "import time\ntime.sleep(120)"}, real=("01_data_health",))
    out = tmp_path / "outputs"
    proc = subprocess.Popen([*SOE, "run", "--data", str(small_sample), "--out", str(out)], cwd=ROOT, env={**os.environ, "SOE_NOTEBOOKS": str(books)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    # papermill writes the executed copy as it starts: notebook 02 is running (01 runs beside it)
    while not (out / ".staging").is_dir() or not any((out / ".staging").glob("*/notebooks/02_slow.ipynb")):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    time.sleep(2)  # notebook 02's kernel is running
    kernels = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(sig)
    text, _ = proc.communicate(timeout=60)
    name = signal.Signals(sig).name
    assert proc.returncode == 1 and f"interrupted by {name}" in text
    assert f"interrupted by {name}" in (out / "soe-run.log").read_text()
    failed = list((out / "failed-runs").iterdir())
    assert len(failed) == 1 and json.loads((failed[0] / "manifest.json").read_text())["reason"] == f"interrupted by {name}"
    assert not any((out / ".staging").iterdir()) and not (out / "2026-W48").exists()
    assert kernels and psutil.wait_procs([psutil.Process(k) for k in kernels if psutil.pid_exists(k)], timeout=30)[1] == []


def test_a_full_disk_mid_run_is_said_plainly_and_leaves_the_last_good_week(weekly_run, small_sample, tmp_path, monkeypatch):
    from soe_lib.run import runner

    _, good = weekly_run
    out = tmp_path / "outputs"
    shutil.copytree(good / "2026-W48", out / "2026-W48")
    before = week_digest(out / "2026-W48")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / ".staging" / "x" / "inputs" / "actuals.parquet"))

    monkeypatch.setattr(runner, "write_snapshot", full)
    res = run_week(small_sample, out=out)
    assert res.exit_code == 1 and "the disk is full writing" in res.message and "free space" in res.message
    assert differences(before, week_digest(out / "2026-W48")) == [] and not any((out / ".staging").iterdir())


def test_an_outputs_folder_that_cannot_be_written_is_refused_plainly(small_sample, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    res = run_week(small_sample, out=blocker / "outputs")  # its parent is a file: it can never be created
    assert res.exit_code == 2 and "cannot write to the outputs folder" in res.message and "nothing was run" in res.message


# --- 5. the review server -------------------------------------------------------------------------------
def _start_review(out: Path, *args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([*SOE, "review", "--out", str(out), "--port", str(port), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/static/voila.js", timeout=2):
                return proc, port
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.poll() is not None else "timeout"
            time.sleep(0.3)


def _cmdline(p: psutil.Process) -> str:
    """A process's command line; empty for one that ended meanwhile (a zombie has none to read)."""
    try:
        return " ".join(p.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess, psutil.AccessDenied):
        return ""


def _kernels(proc: subprocess.Popen) -> list[psutil.Process]:
    return [c for c in psutil.Process(proc.pid).children(recursive=True) if "ipykernel" in _cmdline(c)]


def test_review_server_refuses_foreign_hosts_culls_kernels_and_stops_on_sigterm(weekly_run, tmp_path):
    _, src = weekly_run
    out = tmp_path / "outputs"
    shutil.copytree(src / "2026-W48", out / "2026-W48")
    # culling after 30 s (the shortest allowed): no page's kernel goes before the fourth page is asked for
    proc, port = _start_review(out, "--cull-after", "30", "--max-sessions", "3")
    try:
        busy = run_soe("review", "--out", str(out), "--port", str(port))
        assert busy.returncode == 2 and f"port {port}" in busy.stderr and "in use" in busy.stderr  # no silent hop
        page = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": f"evil.example:{port}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(page, timeout=30)
        assert refused.value.code == 403
        for _ in range(3):  # pages fetched and never connected (a crawler, a closed tab)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as r:
                body = r.read().decode()
            assert "Traceback" not in body and str(out) not in body
        assert len(_kernels(proc)) >= 3  # the three pages' kernels (and the one kept prepared for the next page)
        with pytest.raises(urllib.error.HTTPError) as full:  # a fourth page: asked to wait, no kernel started
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60)
        assert full.value.code == 503 and "at most 3 pages at once" in full.value.read().decode()
        assert len(_kernels(proc)) <= 4
        files = [Path(k.cmdline()[k.cmdline().index("-f") + 1]) for k in _kernels(proc)]  # each kernel's connection file
        assert files and all(json.loads(f.read_text())["transport"] == "ipc" for f in files)  # the kernels talk over Unix sockets
        # (what each still listens on is ipykernel's own pipe for its subprocesses' output, on 127.0.0.1: one, not the five channels)
        assert all(len([c for c in k.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]) <= 1 for k in _kernels(proc))
        deadline = time.monotonic() + 90
        while len(_kernels(proc)) > 1 and time.monotonic() < deadline:
            time.sleep(1)
        # culled: idle and never connected; what stays is the one preheated kernel waiting for the next page
        assert len(_kernels(proc)) <= 1
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120):
            pass
        kernels = _kernels(proc)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        printed, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in printed  # the URL actually served
    assert psutil.wait_procs(kernels, timeout=20)[1] == []  # Voila shut its kernels down


def test_review_beyond_this_machine_needs_a_token(tmp_path):
    res = run_soe("review", "--out", str(tmp_path), "--ip", "0.0.0.0", "--port", str(free_port()))
    assert res.returncode == 2 and "--token" in res.stderr


def test_the_page_says_what_is_damaged_and_what_still_works(weekly_run, tmp_path):
    _, src = weekly_run
    out = tmp_path / "outputs"
    shutil.copytree(src / "2026-W48", out / "2026-W48")
    (out / "2026-W48" / "tables" / "financial_impact.parquet").write_bytes(b"damaged")
    (out / "actions.db").write_bytes(b"not a database" * 50)
    app = ReviewApp(out)
    banner = app.problems.banner.value
    assert "tables/financial_impact" in banner and "soe run --week 2026-W48" in banner and "everything else" in banner
    assert "actions.db is damaged" in banner and "cannot be recorded" in banner
    assert str(out) not in banner and "Traceback" not in banner
    assert len(app.decisions.shown) > 0 and app.record_button.disabled  # the list still works; recording does not


# --- 6. Excel ----------------------------------------------------------------------------------------
def test_text_that_looks_like_a_formula_stays_text_in_workbooks(tmp_path):
    codes = pd.DataFrame({"sku": ["=1+2", "+CMD|' /C calc'!A0", "-2+3", "@SUM(A1)", "ok"], "qty": [1.0, -2.0, 3.0, 4.0, 5.0]})
    path = write_workbook(tmp_path / "pack.xlsx", {"gaps": codes})
    sheet = load_workbook(path)["gaps"]
    cells = [sheet.cell(row=r, column=1) for r in range(2, 7)]
    assert [c.value for c in cells] == codes["sku"].tolist() and all(c.data_type == "s" for c in cells)
    assert [sheet.cell(row=r, column=2).value for r in range(2, 7)] == [1, -2, 3, 4, 5]  # numbers stay numbers


def test_a_failure_beside_the_chain_fails_the_run_before_the_next_notebook(small_sample, tmp_path):
    """01_data_health runs in its own process beside 02-05; when it fails, the run fails with its error
    and no later notebook starts (its process group is gone too)."""
    marker = tmp_path / "03-ran"
    books = _books(tmp_path, {"01_data_health": "raise ValueError('health broke on purpose')", "02_wait": "import time\ntime.sleep(6)",
                              "03_after": f"import pathlib\npathlib.Path({str(marker)!r}).touch()"}, real=())
    out = tmp_path / "outputs"
    res = subprocess.run([*SOE, "run", "--data", str(small_sample), "--out", str(out)], cwd=ROOT, env={**os.environ, "SOE_NOTEBOOKS": str(books)},
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stdout + res.stderr
    failed = list((out / "failed-runs").iterdir())
    manifest = json.loads((failed[0] / "manifest.json").read_text())
    assert manifest["failed_step"] == "01_data_health" and "health broke on purpose" in manifest["reason"]
    assert not marker.exists() and not (out / "2026-W48").exists()
