"""End-to-end benchmark: does the flow recover the planted money ranking, and how fast?

Baselines, measured in the same run:

* **contact volume**: how contact centres rank issues today;
* **oracle topics** (an upper bound, not a competitor): the same value, risk and exposure stages
  fed the simulator's true root cause of every contact instead of the signals stage's. What it
  misses is sampling error of the planted effects (a few hundred customers per issue carry
  little information), which no root-cause reader can remove; the gap between it and cximpact
  is what misread root causes cost.
For each seed, a simulated enterprise with planted root causes (``truth.json``) goes through the
whole flow (ingest with redaction, signals, value, risk, exposure, cases). Printed:

* Spearman rank correlation with the true revenue at risk, cximpact vs contact-volume ranking;
* share of seeds whose top 3 issues are recovered in the right order;
* largest exposure put on a harmless issue, as a share of the top issue's;
* share of harmful planted issues within 20% of their true exposure, cximpact vs oracle topics;
* throughput in interactions per second for the whole flow, and the simulator's speed.

Usage::

    python benchmarks/bench_flow.py [--customers 20000] [--days 180] [--seeds 5]
    python benchmarks/bench_flow.py --customers 100000 --days 365 --routine 9 --seeds 1  # ~1.3M

Results go to ``benchmarks/results/flow-<customers>c-<days>d.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

from cximpact.exposure.issues import customer_signal_summary, issue_flags
from cximpact.flow import Analysis, run, score_customers
from cximpact.settings import Settings, load_settings
from cximpact.simulate import SimulationConfig, simulate, write_enterprise
from cximpact.store.analytics import AnalyticsStore

RESULTS_DIR = Path(__file__).parent / "results"


def oracle_exposure(
    analysis: Analysis, interactions: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """Issue exposure from the true root cause of every contact (the simulator's ``_topic``)."""
    truth = analysis.signals[["interaction_id", "customer_id"]].assign(
        root_cause=analysis.signals["interaction_id"].map(interactions.set_index("id")["_topic"]),
        secondary_root_cause="",
    )
    start = analysis.signals["timestamp"].min().floor("D")
    with AnalyticsStore(settings.db) as store:
        _, _, exposure = score_customers(
            store,
            settings,
            analysis.customers if analysis.customers is not None else store.read("customers"),
            flags=issue_flags(truth),
            summary=customer_signal_summary(analysis.signals),
            as_of=analysis.as_of,
            window_start=start,
            window_days=analysis.window_days,
            signals=analysis.signals if settings.risk_language_signals else None,
        )
    return exposure.issues.set_index("issue")


def _within(names: list[str], estimated: np.ndarray, true: np.ndarray, harmless: set[str]) -> float:
    return float(
        np.mean(
            [
                abs(e - t) <= 0.2 * t
                for n, e, t in zip(names, estimated, true, strict=True)
                if n not in harmless
            ]
        )
    )


def one_seed(customers: int, days: int, routine: float, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        config = SimulationConfig(
            customers=customers, days=days, seed=seed, routine_contacts_per_year=routine
        )
        enterprise = simulate(config)
        simulated = time.perf_counter() - started
        write_enterprise(enterprise, Path(tmp) / "data")
        started = time.perf_counter()
        # truth.json measures risk over the simulated window: use it as the horizon
        settings = load_settings(db=Path(tmp) / "a.duckdb", horizon_days=days)
        result = run(Path(tmp) / "data", settings, today=date(2026, 7, 1))
        elapsed = time.perf_counter() - started
        oracle = oracle_exposure(result.analysis, enterprise.interactions, settings)
    truth = {i["issue"]: i["revenue_at_risk"] for i in enterprise.truth["issues"]}
    harmless = {i["issue"] for i in enterprise.truth["issues"] if i["harmless"]}
    issues = result.analysis.exposure.issues.set_index("issue")
    names = list(truth)
    estimated = issues["revenue_at_risk"].reindex(names).fillna(0).to_numpy()
    volume = issues["contacts"].reindex(names).fillna(0).to_numpy()
    true = np.array([truth[n] for n in names])
    oracle_estimated = oracle["revenue_at_risk"].reindex(names).fillna(0).to_numpy()
    top3_true = names[:3]
    return {
        "seed": seed,
        "interactions": len(enterprise.interactions),
        "spearman_cximpact": float(spearmanr(true, estimated).statistic),
        "spearman_volume_baseline": float(spearmanr(true, volume).statistic),
        "top3_cximpact": list(issues.index[:3]) == top3_true,
        "top3_volume_baseline": list(issues.sort_values("contacts", ascending=False).index[:3])
        == top3_true,
        "harmless_max_share_of_top": float(
            issues["revenue_at_risk"].reindex(list(harmless)).fillna(0).max()
            / issues["revenue_at_risk"].max()
        ),
        "top_issue_relative_error": float(abs(estimated[0] - true[0]) / true[0]),
        "kendall_tau_cximpact": float(kendalltau(true, estimated).statistic),
        "kendall_tau_volume_baseline": float(kendalltau(true, volume).statistic),
        "harmful_relative_errors": {
            n: round(float((e - t) / t), 4)
            for n, e, t in zip(names, estimated, true, strict=True)
            if n not in harmless and t > 0
        },
        "harmful_within_20pct": _within(names, estimated, true, harmless),
        "harmful_within_20pct_oracle_topics": _within(names, oracle_estimated, true, harmless),
        "harmful_relative_errors_oracle_topics": {
            n: round(float((e - t) / t), 4)
            for n, e, t in zip(names, oracle_estimated, true, strict=True)
            if n not in harmless and t > 0
        },
        "top3_oracle_topics": list(oracle.index[:3]) == top3_true,
        "kendall_tau_oracle_topics": float(kendalltau(true, oracle_estimated).statistic),
        "harmless_interval_includes_zero": bool(
            (issues["revenue_at_risk_low"].reindex(list(harmless)).fillna(0) == 0).all()
        ),
        "flow_seconds": elapsed,
        "simulate_seconds": simulated,
        "interactions_per_second": len(enterprise.interactions) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument(
        "--routine", type=float, default=0.5, help="routine contacts per customer-year"
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        row = one_seed(args.customers, args.days, args.routine, seed)
        rows.append(row)
        print(
            f"seed {seed}: {row['interactions']:,} interactions, spearman {row['spearman_cximpact']:.2f} "
            f"(volume baseline {row['spearman_volume_baseline']:.2f}), top3 {row['top3_cximpact']} "
            f"(baseline {row['top3_volume_baseline']}), kendall tau {row['kendall_tau_cximpact']:.2f} "
            f"(baseline {row['kendall_tau_volume_baseline']:.2f}), harmful within 20% {row['harmful_within_20pct']:.0%} "
            f"(oracle topics {row['harmful_within_20pct_oracle_topics']:.0%}), harmless max {row['harmless_max_share_of_top']:.1%} "
            f"of top, flow {row['flow_seconds']:.1f}s = {row['interactions_per_second']:,.0f} interactions/s"
        )
    summary = {
        "customers": args.customers,
        "days": args.days,
        "seeds": args.seeds,
        "mean_spearman_cximpact": float(np.mean([r["spearman_cximpact"] for r in rows])),
        "mean_spearman_volume_baseline": float(
            np.mean([r["spearman_volume_baseline"] for r in rows])
        ),
        "top3_rate_cximpact": float(np.mean([r["top3_cximpact"] for r in rows])),
        "mean_kendall_tau_cximpact": float(np.mean([r["kendall_tau_cximpact"] for r in rows])),
        "mean_kendall_tau_volume_baseline": float(
            np.mean([r["kendall_tau_volume_baseline"] for r in rows])
        ),
        "harmful_within_20pct": float(np.mean([r["harmful_within_20pct"] for r in rows])),
        "harmful_within_20pct_oracle_topics": float(
            np.mean([r["harmful_within_20pct_oracle_topics"] for r in rows])
        ),
        "mean_harmful_error": float(
            np.mean([v for r in rows for v in r["harmful_relative_errors"].values()])
        ),
        "mean_harmful_error_oracle_topics": float(
            np.mean([v for r in rows for v in r["harmful_relative_errors_oracle_topics"].values()])
        ),
        "top3_rate_oracle_topics": float(np.mean([r["top3_oracle_topics"] for r in rows])),
        "mean_kendall_tau_oracle_topics": float(
            np.mean([r["kendall_tau_oracle_topics"] for r in rows])
        ),
        "top3_rate_volume_baseline": float(np.mean([r["top3_volume_baseline"] for r in rows])),
        "mean_interactions_per_second": float(
            np.mean([r["interactions_per_second"] for r in rows])
        ),
    }
    print(
        f"\nrank correlation with truth: cximpact {summary['mean_spearman_cximpact']:.2f} vs "
        f"contact-volume baseline {summary['mean_spearman_volume_baseline']:.2f}; top-3 in order: "
        f"{summary['top3_rate_cximpact']:.0%} vs {summary['top3_rate_volume_baseline']:.0%}; Kendall tau "
        f"{summary['mean_kendall_tau_cximpact']:.2f} vs {summary['mean_kendall_tau_volume_baseline']:.2f}; harmful "
        f"issues within 20% of truth: {summary['harmful_within_20pct']:.0%} (oracle topics "
        f"{summary['harmful_within_20pct_oracle_topics']:.0%}), mean error "
        f"{summary['mean_harmful_error']:+.1%} (oracle topics "
        f"{summary['mean_harmful_error_oracle_topics']:+.1%}); "
        f"throughput {summary['mean_interactions_per_second']:,.0f} interactions/s (whole flow, 1 process)"
    )
    results = RESULTS_DIR / f"flow-{args.customers}c-{args.days}d.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"summary": summary, "runs": rows}, indent=2))
    print(f"saved {results}")


if __name__ == "__main__":
    main()
