"""Single-use coupon race: N terminals redeem one coupon at the same moment, T trials.

Acceptance (issue 6): on PostgreSQL at READ COMMITTED, 100 concurrent redemptions of
one single-use coupon → exactly 1 success, 1,000 trials. Also runs on SQLite.

    .venv/bin/python bench/bench_coupon_race.py                 # 1,000 trials, both
    .venv/bin/python bench/bench_coupon_race.py --trials 200 --db postgresql --json

PostgreSQL is a throwaway server (tests/postgres_server.py: initdb in a temporary
folder, needs the server binaries installed). Prints trials, successes per trial,
refusals (and how many lost at the conditional UPDATE itself, i.e. had read the coupon
as still issued), violations and the time taken.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package: throwaway PostgreSQL, the race itself

from tests.ops_engines import pooled_engine  # noqa: E402
from tests.promotions.coupon_race import Racer, single_use_race  # noqa: E402


def run(db: str, trials: int, terminals: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = pooled_engine(db, Path(tmp), terminals)
        with Racer(terminals) as racer:
            figures = single_use_race(engine, racer, trials)
        engine.dispose()
    successes = figures.successes_per_trial
    return {
        "database": db,
        "isolation": "read committed" if db == "postgresql" else "serializable (one writer)",
        "trials": figures.trials,
        "terminals": figures.terminals,
        "trials_with_exactly_one_success": sum(1 for s in successes if s == 1),
        "max_successes_in_a_trial": max(successes, default=0),
        "refused": figures.refused,
        "lost_at_conditional_update": figures.lost_at_update,
        "violations": figures.violations,
        "other_errors": figures.other_errors[:5],
        "seconds": round(figures.seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1_000)
    parser.add_argument("--terminals", type=int, default=100)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--json", action="store_true", help="one JSON object per database")
    args = parser.parse_args(argv)
    dbs = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    failed = False
    for db in dbs:
        out = run(db, args.trials, args.terminals)
        failed |= out["violations"] != 0
        if args.json:
            print(json.dumps(out))
        else:
            print(
                f"{db}: {out['trials']} trials x {out['terminals']} terminals: "
                f"{out['trials_with_exactly_one_success']} with exactly 1 success "
                f"(max {out['max_successes_in_a_trial']}), {out['refused']} refused "
                f"({out['lost_at_conditional_update']} at the conditional update), "
                f"{out['violations']} violations, {out['seconds']} s"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
