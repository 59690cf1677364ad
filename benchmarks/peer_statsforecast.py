"""statsforecast as a peer, run in its own venv (.venv-peers): it needs pandas<3, the workbench pandas 3.

Usage: .venv-peers/bin/python benchmarks/peer_statsforecast.py IN.npz OUT.npz [--auto --season S]
IN holds ``history`` (series x weeks, NaN before a series starts), ``weeks`` (datetime64) and ``h``;
OUT gets ``forecast`` (series x h) and ``seconds`` (the fit+forecast time only). Default: ETS(A,Ad,N);
``--auto``: AutoETS choosing the model, with a season of ``S`` weeks (1: none). Series with fewer than
three weeks get NaN (the caller scores them as 0); series too short for ETS get statsforecast's fallback,
the naive forecast.
Standalone on purpose: it imports nothing from soe_lib.
"""

import sys
import time

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, Naive


def main(src: str, dst: str, auto: bool = False, season: int = 1) -> None:
    data = np.load(src)
    history, weeks, h = data["history"], pd.DatetimeIndex(data["weeks"]), int(data["h"])
    n = len(history)
    frame = pd.DataFrame(
        {"unique_id": np.repeat(np.arange(n), history.shape[1]), "ds": np.tile(weeks.to_numpy(), n), "y": history.reshape(-1)}
    ).dropna()
    frame = frame[frame.groupby("unique_id")["y"].transform("size") >= 3]
    ets = AutoETS(season_length=season) if auto else AutoETS(model="AAN", damped=True)
    model = StatsForecast(models=[ets], freq="7D", n_jobs=1, fallback_model=Naive())  # ETS refuses tiny series
    t0 = time.perf_counter()
    fc = model.forecast(df=frame, h=h)
    seconds = time.perf_counter() - t0
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    values = np.full((n, h), np.nan)
    for uid, rows in fc.sort_values(["unique_id", "ds"]).groupby("unique_id"):  # the peer, on purpose: its own loop
        values[int(uid)] = rows["AutoETS"].to_numpy()[:h]
    np.savez(dst, forecast=np.clip(values, 0, None), seconds=seconds)


if __name__ == "__main__":
    args = sys.argv[1:]
    season = int(args[args.index("--season") + 1]) if "--season" in args else 1
    main(args[0], args[1], "--auto" in args, season)
