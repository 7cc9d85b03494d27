"""Benchmark: BG/NBD + Gamma-Gamma fit, ours vs the reference ``lifetimes``, side by side.

Simulates an RFM summary of N customers from known BG/NBD / Gamma-Gamma
parameters (daily resolution, 1 year), fits both implementations on the same
frame, and prints the times, the speed-up and the largest relative parameter
difference. Usage: ``python bench/bench_clv.py [--customers 1000000]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from storeops.models.clv import BetaGeoModel, GammaGammaModel

TRUE_BGNBD = {"r": 0.8, "alpha": 40.0, "a": 0.9, "b": 3.0}
TRUE_GG = {"p": 6.0, "q": 4.0, "v": 150.0}


def simulate(n: int, seed: int = 7, horizon_days: int = 365) -> pd.DataFrame:
    """RFM summary of ``n`` customers drawn from the BG/NBD and Gamma-Gamma processes."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE_BGNBD["r"], 1 / TRUE_BGNBD["alpha"], n)
    p = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], n)
    T = rng.integers(30, horizon_days + 1, n).astype(float)
    # Poisson purchases in (0, T]; the customer dies right after repeat purchase J.
    k = rng.poisson(lam * T)
    j = rng.geometric(p)
    x = np.minimum(k, j)
    # The x-th of k uniform arrival times on (0, T] is T * Beta(x, k - x + 1).
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(k - x + 1, 1)), 0.0)
    tx = np.minimum(np.ceil(tx), T)  # daily resolution, as a POS export gives it
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["v"], n)
    mean_spend = rng.gamma(TRUE_GG["p"] * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1)))
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": x,
            "recency": tx,
            "T": T,
            "monetary_value": np.where(x > 0, np.round(mean_spend, 2), 0.0),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    summary = simulate(args.customers)

    t0 = time.perf_counter()
    ours = BetaGeoModel().fit(summary)
    ours_gg = GammaGammaModel().fit(summary)
    ours_s = time.perf_counter() - t0

    import lifetimes  # reference implementation, dev/bench dependency only

    repeat = summary[summary["frequency"] > 0]
    t0 = time.perf_counter()
    ref = lifetimes.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    ref_gg = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    ref_s = time.perf_counter() - t0

    diffs = [abs(ours.params[k] / ref.params_[k] - 1) for k in ("r", "alpha", "a", "b")]
    diffs += [abs(ours_gg.params[k] / ref_gg.params_[k] - 1) for k in ("p", "q", "v")]
    result = {
        "benchmark": "clv_fit",
        "customers": args.customers,
        "unique_rows": ours.result.n_rows if ours.result else None,
        "storeops_s": round(ours_s, 3),
        "lifetimes_s": round(ref_s, 3),
        "speedup": round(ref_s / ours_s, 1),
        "max_param_rel_diff": float(f"{max(diffs):.2e}"),
        "params": {**ours.params, **ours_gg.params},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
