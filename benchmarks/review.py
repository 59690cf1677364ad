"""Review-app benchmark: time to first complete render and per-interaction server time.

For each size (the demo company, and 20k SKU-locations) it runs the weekly cycle into a temp outputs
folder, then measures:

- **server**: building the app (everything the kernel computes before the page is complete) and each
  interaction's callback (filter change, selecting an item, a what-if change), in this process;
- **browser** (when Debian's chromium is installed): a real ``soe review`` server and headless Chromium,
  from navigation to the KPI tiles, the decision list and the drill-down area being on screen.

Targets: first render < 5 s (demo) and < 8 s (20k); interactions < 300 ms. Printed, never asserted.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from soe_lib.app import ReviewApp
from soe_lib.run import run_week
from soe_lib.sample import write_sample


def _time(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def server_timings(out: Path) -> dict[str, float]:
    # outside a kernel, ipywidgets' Output prints what it would display: keep the report readable
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        app = ReviewApp(out, actions_url=f"sqlite:///{out / 'bench-actions.db'}")
        build = time.perf_counter() - t0
        causes = [v for _, v in app.decisions.filters["cause"].options if v]

        def flip_filter():
            app.decisions.filters["cause"].value = causes[0] if app.decisions.filters["cause"].value == "" else ""

        def pick_item():  # between two items about a SKU-location (charts, orders, options, what-if)
            items = app.current.items()
            options = [v for _, v in app.item_list.options if items.loc[v, "sku"] != ""]
            app.item_list.value = options[1] if app.item_list.value == options[0] else options[0]

        def what_if():
            app.whatif.controls["demand"].value = 20 if app.whatif.controls["demand"].value == 0 else 0

        timings = {"first render (server) s": build, "filter change ms": _time(flip_filter) * 1000 if causes else float("nan")}
        app.decisions.filters["cause"].value = ""
        with_sku = (app.current.items()["sku"] != "").sum()
        timings["select item ms"] = _time(pick_item) * 1000 if with_sku > 1 else float("nan")
        timings["what-if ms"] = _time(what_if) * 1000
    return timings


def browser_first_render(out: Path) -> float:
    from tests.browser import CHROMIUM, browser_page, review_server

    if not Path(CHROMIUM).exists():
        return float("nan")
    with review_server(out) as url, browser_page() as page:
        t0 = time.perf_counter()
        page.goto(url, timeout=120_000)
        page.locator(".soe-tiles .soe-tile").first.wait_for(timeout=120_000)
        page.locator(".soe-items select option").first.wait_for(timeout=120_000)
        page.locator(".soe-detail .widget-html-content").first.wait_for(timeout=120_000)  # the drill-down hint
        return time.perf_counter() - t0


def run(sizes: dict[str, tuple[int, int]]) -> list[dict]:
    rows = []
    for label, (skus, locations) in sizes.items():
        with tempfile.TemporaryDirectory(prefix="soe-review-bench-") as tmp:
            data, out = Path(tmp) / "data", Path(tmp) / "outputs"
            write_sample(data, skus=skus, locations=locations, fmt="parquet")
            t0 = time.perf_counter()
            result = run_week(data, out=out)
            cycle = time.perf_counter() - t0
            if result.exit_code != 0:
                raise SystemExit(f"weekly run failed at {label}: {result.message}")
            row = {"size": label, "SKU-locations": skus * locations, "weekly run s": round(cycle, 1)}
            row.update({k: round(v, 3) for k, v in server_timings(out).items()})
            row["first render (browser) s"] = round(browser_first_render(out), 2)
            rows.append(row)
            print(pd.DataFrame([row]).to_string(index=False), flush=True)
    return rows
