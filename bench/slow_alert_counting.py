"""What counting every answer for the slow-page alert costs a request, now that the counts live
in the shared cache (``alerts.services.observe_response``): the fast answer (one counter) and a
slow one (three counters and the five-minute window read), with the default cache (one
process's memory) and with Redis (several web processes).

    .venv/bin/python bench/slow_alert_counting.py [--answers 20000]
    .venv/bin/python bench/slow_alert_counting.py --cache-url redis://127.0.0.1:6379/13

No database is touched: the slow answers stay under the 95th percentile (one in 40), so no alert
is raised.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")


def run(answers: int) -> dict:
    from django.conf import settings

    from dangan.alerts import services

    settings.DANGAN_ALERT_SLOW_P95_MS = 1000
    view = f"bench-{time.time_ns()}"
    fast, slow = [], []
    for n in range(answers):
        seconds = 2.0 if n % 40 == 39 else 0.01
        start = time.perf_counter()
        alert = services.observe_response(view=view, seconds=seconds, at=time.time())
        (slow if seconds > 1 else fast).append(time.perf_counter() - start)
        assert alert is None
    return {
        "fast_us_p50": statistics.median(fast) * 1e6,
        "fast_us_p95": sorted(fast)[int(len(fast) * 0.95)] * 1e6,
        "slow_us_p50": statistics.median(slow) * 1e6,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--cache-url", help="e.g. redis://127.0.0.1:6379/13 (default: memory)")
    args = parser.parse_args()
    if args.cache_url:
        os.environ["DANGAN_CACHE_URL"] = args.cache_url
    import django

    django.setup()
    figures = run(args.answers)
    print(
        f"{args.cache_url or 'memory (one process)'}: fast answer p50 "
        f"{figures['fast_us_p50']:.1f} µs, p95 {figures['fast_us_p95']:.1f} µs; "
        f"slow answer p50 {figures['slow_us_p50']:.0f} µs"
    )


if __name__ == "__main__":
    main()
