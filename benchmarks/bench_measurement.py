"""Benchmark the measurement planner: does the planned holdout reach its power?

Run from the repository root::

    .venv/bin/python benchmarks/bench_measurement.py [--repeats 2000] [--seed 0]

For a 20% relative churn reduction, 10% holdout, 5% two-sided significance and 80% target
power, at baseline churn 3%, 10% and 30%, two planners size the groups in the same run:

* ``cximpact`` -- :func:`cximpact.measure.design.holdout_sample_size` (unpooled two-proportion
  formula with the Fleiss-Tytun-Ury continuity correction);
* ``baseline`` -- the textbook pooled two-proportion formula without correction
  (``n = [z_a sqrt((1 + 1/r) p q) + z_b sqrt(p_c q_c + p_t q_t / r)]^2 / d^2``).

Each plan is then run ``repeats`` times with the estimator cases are closed with
(:func:`cximpact.measure.estimators.holdout_effect`); power is the share of ``worked`` verdicts.
Results go to ``benchmarks/results/measurement.json``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from cximpact.measure.design import holdout_sample_size
from cximpact.measure.estimators import holdout_effect

RESULTS_DIR = Path(__file__).parent / "results"
EFFECT, SHARE = 0.2, 0.1


def baseline_size(p: float) -> tuple[int, int]:
    """Pooled two-proportion sample size without continuity correction."""
    z_a, z_b = NormalDist().inv_cdf(0.975), NormalDist().inv_cdf(0.8)
    r = (1 - SHARE) / SHARE
    pc, pt = p, p * (1 - EFFECT)
    pooled = (pc + r * pt) / (1 + r)
    n_c = (
        z_a * math.sqrt((1 + 1 / r) * pooled * (1 - pooled))
        + z_b * math.sqrt(pc * (1 - pc) + pt * (1 - pt) / r)
    ) ** 2 / (pc - pt) ** 2
    n_c = math.ceil(n_c)
    return math.ceil(r * n_c), n_c


def power(p: float, n_t: int, n_c: int, repeats: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    x_t = rng.binomial(n_t, p * (1 - EFFECT), repeats)
    x_c = rng.binomial(n_c, p, repeats)
    worked = [
        holdout_effect(int(a), n_t, int(b), n_c).verdict == "worked"
        for a, b in zip(x_t, x_c, strict=True)
    ]
    return float(np.mean(worked))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    print(f"{'baseline churn':>14} {'planner':>9} {'customers':>10} {'power':>6} {'n ratio':>8}")
    for p in (0.03, 0.10, 0.30):
        sizes = {
            "baseline": baseline_size(p),
            "cximpact": holdout_sample_size(p, EFFECT, control_share=SHARE),
        }
        base_total = sum(sizes["baseline"])
        for name, (n_t, n_c) in sizes.items():
            achieved = power(p, n_t, n_c, args.repeats, args.seed)
            ratio = (n_t + n_c) / base_total
            rows.append(
                {
                    "baseline_churn": p,
                    "planner": name,
                    "treated": n_t,
                    "control": n_c,
                    "power": achieved,
                    "customers_vs_baseline": round(ratio, 3),
                }
            )
            print(f"{p:>14.2f} {name:>9} {n_t + n_c:>10,} {achieved:>6.3f} {ratio:>7.2f}x")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / "measurement.json"
    out.write_text(
        json.dumps(
            {
                "effect": EFFECT,
                "holdout_share": SHARE,
                "repeats": args.repeats,
                "seed": args.seed,
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"saved {out}")


if __name__ == "__main__":
    main()
