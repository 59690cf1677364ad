"""statsforecast as a peer, run in its own venv (.venv-peers): it needs pandas<3, the workbench pandas 3.

Usage: .venv-peers/bin/python benchmarks/peer_statsforecast.py IN.npz OUT.npz
IN holds ``history`` (series x weeks, NaN before a series starts), ``weeks`` (datetime64) and ``h``;
OUT gets ``forecast`` (series x h) and ``seconds`` (the fit+forecast time only).
Standalone on purpose: it imports nothing from soe_lib.
"""

import sys
import time

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS


def main(src: str, dst: str) -> None:
    data = np.load(src)
    history, weeks, h = data["history"], pd.DatetimeIndex(data["weeks"]), int(data["h"])
    n = len(history)
    frame = pd.DataFrame(
        {"unique_id": np.repeat(np.arange(n), history.shape[1]), "ds": np.tile(weeks.to_numpy(), n), "y": history.reshape(-1)}
    ).dropna()
    model = StatsForecast(models=[AutoETS(model="AAN", damped=True)], freq="7D", n_jobs=1)
    t0 = time.perf_counter()
    fc = model.forecast(df=frame, h=h)
    seconds = time.perf_counter() - t0
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    values = fc.sort_values(["unique_id", "ds"])["AutoETS"].to_numpy().reshape(n, h)
    np.savez(dst, forecast=np.clip(values, 0, None), seconds=seconds)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
