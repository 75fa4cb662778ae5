"""Fuzz both webhook endpoints with the test suite's properties, at volume.

The same generators and the same `check` as tests/test_fuzz_intake.py (never a 5xx,
every error in the one shape, nothing stored or queued unless authentic, every
accepted body normalizes), run for --requests generated requests (default 10,000,
half per endpoint) against the Flask app in this process, with a SQLite ledger and
queue in a temporary directory. Prints the count and the outcome tallies; a broken
property stops the run with hypothesis' smallest failing example.

    .venv/bin/python bench/bench_fuzz.py
    .venv/bin/python bench/bench_fuzz.py --requests 20000 --seed 7

Prints figures; never asserts on time.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c


def fuzz(app, platform: str, count: int, seed: int | None) -> tuple[Counter, Counter]:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    from tests.test_fuzz_intake import check, requests_for

    outcomes: Counter = Counter()
    by_kind: Counter = Counter()
    client = app.test_client()

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(requests_for(platform))
    def run(req):
        outcome = check(app, client, req)
        outcomes[outcome] += 1
        by_kind[(req.kind, outcome.split()[0])] += 1

    if seed is not None:
        run = hseed(seed)(run)
    run()
    return outcomes, by_kind


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--requests", type=int, default=10_000, help="in all, half per endpoint")
    ap.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random)")
    args = ap.parse_args()
    c.install_sigterm()
    logging.disable(logging.WARNING)     # unsupported/skipped events would flood the terminal

    from tests.test_fuzz_intake import make_app

    total: Counter = Counter()
    with c.temp_dir("bench-fuzz-") as work:
        app = make_app(work / "data")
        for platform in ("zammad", "jira"):
            t0 = time.perf_counter()
            outcomes, by_kind = fuzz(app, platform, args.requests // 2, args.seed)
            seconds = time.perf_counter() - t0
            n = sum(outcomes.values())
            total.update({f"{platform} {k}": v for k, v in outcomes.items()})
            print(f"/hooks/{platform}: {n:,} requests in {seconds:.1f} s, every property held")
            for outcome, count in sorted(outcomes.items()):
                print(f"  {outcome:<34} {count:>6,}")
            for kind in sorted({k for k, _ in by_kind}):
                answers = ", ".join(f"{st} x{n}" for (k, st), n in sorted(by_kind.items()) if k == kind)
                print(f"  headers {kind:<12} {answers}")
        rows = app.extensions["enricher"].ledger.status_counts()
    by_status = Counter()
    for key, count in total.items():
        by_status[key.split()[1]] += count
    fives = sum(v for status, v in by_status.items() if status.startswith("5"))
    print(f"in all: {sum(total.values()):,} generated requests, {fives} answered 5xx; "
          f"ledger rows {sum(rows.values()):,}, requests answered 202 {by_status['202']:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
