"""Demand-sensing benchmark: the vectorised engine against peers measured in the same run.

1. **Scale**: the whole sensing step (load Parquet + sense every series) on ``--series`` SKU-locations
   x 156 weeks, in a fresh subprocess so its peak memory (VmHWM) is its own.
2. **Peers on the same series**: a random subsample, history cut 13 weeks before the run week, each
   method forecasts those 13 held-out weeks:
   - the engine's statistical forecast (and the sensed forecast the backtest chose, no open-orders floor),
   - statsmodels ``ExponentialSmoothing(trend="add", damped_trend=True)`` fitted per series in a loop,
   - statsforecast ``AutoETS(model="AAN", damped=True)`` (compiled), from its own venv ``.venv-peers``
     (``benchmarks/requirements-peers.txt``): statsforecast 2.x requires pandas<3; it is never a
     dependency of the workbench.
   Reported: series per second, speed ratios, and holdout WAPE = sum|A - F| / sum A on the same series.

No timing is asserted anywhere: the figures are printed (and saved under ``benchmarks/results/``).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from soe_lib.io import load_data
from soe_lib.run.environment import RUN_ENVIRONMENT
from soe_lib.sample.company import generate_sample
from soe_lib.sensing import SensingParams
from soe_lib.sensing.engine import sense

HOLDOUT = 13


def make_data(folder: Path, series: int, seed: int = 11) -> Path:
    """The sample company at ``series`` SKU-locations (4 locations), as Parquet."""
    locations = 4
    tables, _ = generate_sample(skus=max(series // locations, 8), locations=locations, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def scale_job(data_dir: str) -> dict:
    """Run in a subprocess: load + sense everything; report seconds and peak RSS."""
    t0 = time.perf_counter()
    data = load_data(data_dir)
    t1 = time.perf_counter()
    s = sense(data, SensingParams())
    t2 = time.perf_counter()
    return {
        "series": len(s.series),
        "weeks": int(s.actual.shape[1]),
        "load_seconds": round(t1 - t0, 2),
        "sense_seconds": round(t2 - t1, 2),
        "peak_rss_gb": round(peak_rss_bytes() / 1024**3, 2),
    }


def peak_rss_bytes() -> int:
    """This process's resident-set high-water mark (VmHWM). Unlike ``ru_maxrss``, which Linux carries
    over from the parent across fork+exec, it starts afresh in a new process image."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _holdout(data_dir: Path, sample: int, seed: int) -> tuple:
    """Sensing on the data cut 13 weeks early (all series, timed), the subsample rows, their held-out actuals."""
    full = load_data(data_dir)
    cut_week = full.week - pd.Timedelta(weeks=HOLDOUT)
    data = load_data(data_dir, week=cut_week, week_check="warning")  # a deliberately earlier week
    t0 = time.perf_counter()
    s_cut = sense(data, SensingParams(open_orders_floor_weeks=0), horizon_weeks=HOLDOUT)
    seconds = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(s_cut.series), size=min(sample, len(s_cut.series)), replace=False))
    keys = s_cut.series.iloc[rows][["sku", "location"]]
    weeks = pd.date_range(cut_week, periods=HOLDOUT, freq="7D")
    act = full.actuals[full.actuals["week"].isin(weeks)]
    from soe_lib.core.matrix import to_matrix

    held = to_matrix(act, keys.reset_index(drop=True), weeks)
    return s_cut, rows, held, seconds


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.abs(actual - forecast).sum() / actual.sum())


def statsmodels_loop(history: np.ndarray) -> tuple[np.ndarray, float]:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    out = np.zeros((len(history), HOLDOUT))
    t0 = time.perf_counter()
    for i, y in enumerate(history):  # the per-series loop this project replaces: the peer, on purpose
        y = y[~np.isnan(y)]
        if len(y) < 10:
            out[i] = y.mean() if len(y) else 0.0
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(y, trend="add", damped_trend=True, initialization_method="estimated").fit()
        out[i] = np.clip(fit.forecast(HOLDOUT), 0, None)
    return out, time.perf_counter() - t0


PEERS_PYTHON = Path(__file__).resolve().parents[1] / ".venv-peers" / "bin" / "python"


def statsforecast_run(history: np.ndarray, weeks: pd.DatetimeIndex) -> tuple[np.ndarray, float]:
    """AutoETS(A,Ad,N) on one core, in the peers venv (statsforecast needs pandas<3)."""
    if not PEERS_PYTHON.exists():
        raise SystemExit(f"statsforecast peer needs {PEERS_PYTHON}: run `make bench` (it builds .venv-peers)")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, history=history, weeks=weeks.to_numpy(), h=HOLDOUT)
        script = Path(__file__).with_name("peer_statsforecast.py")
        subprocess.run([str(PEERS_PYTHON), str(script), str(src), str(dst)], check=True)
        out = np.load(dst)
        return out["forecast"], float(out["seconds"])


def run(series: int, sample_statsmodels: int, sample_statsforecast: int, peers: list[str], seed: int = 11) -> dict:
    results: dict = {"series": series}
    with tempfile.TemporaryDirectory(prefix="soe-bench-") as tmp:
        data_dir = make_data(Path(tmp) / "data", series, seed)
        print(f"data: {series:,} SKU-locations x 156 weeks (Parquet) in {data_dir}", flush=True)
        # the environment a run gives its kernels (one BLAS thread, large arrays from the heap)
        env = {**RUN_ENVIRONMENT, **os.environ}  # a setting of the user's own wins
        job = subprocess.run(
            [sys.executable, "-c", f"import json; from benchmarks.sensing import scale_job; print(json.dumps(scale_job({str(data_dir)!r})))"],
            capture_output=True, text=True, check=True, env=env,
        )
        results["scale"] = json.loads(job.stdout.strip().splitlines()[-1])
        sc = results["scale"]
        print(f"scale: load {sc['load_seconds']} s + sense {sc['sense_seconds']} s for {sc['series']:,} series; peak RSS {sc['peak_rss_gb']} GB", flush=True)

        sample = max(sample_statsmodels, sample_statsforecast)
        s_cut, rows, held, eng_seconds = _holdout(data_dir, sample, seed)
        stat, sensed = s_cut.statistical[rows], s_cut.sensed[rows]
        n_all = len(s_cut.series)
        methods = {"engine (statistical)": (n_all / eng_seconds, stat), "engine (sensed, chosen)": (n_all / eng_seconds, sensed)}
        history = s_cut.actual[rows]
        if "statsmodels" in peers:
            k = sample_statsmodels
            fc, secs = statsmodels_loop(history[:k])
            methods["statsmodels loop (damped ETS)"] = (k / secs, fc)
        if "statsforecast" in peers:
            k = sample_statsforecast
            fc, secs = statsforecast_run(history[:k], s_cut.history_weeks)
            methods["statsforecast AutoETS(AAdN)"] = (k / secs, fc)

    engine_rate = methods["engine (statistical)"][0]
    table = []
    for name, (rate, fc) in methods.items():
        k = len(fc)
        table.append(
            {
                "method": name,
                "series/s": round(rate, 1),
                "engine speed-up": round(engine_rate / rate, 1),
                "holdout WAPE (same series)": round(wape(held[:k], fc), 4),
                "engine WAPE on those series": round(wape(held[:k], stat[:k]), 4),
                "series scored": k,
            }
        )
    results["peers"] = table
    frame = pd.DataFrame(table)
    with pd.option_context("display.width", 200, "display.max_columns", 10):
        print(frame.to_string(index=False))
    return results
