"""Benchmark the exposure stage (issue flags -> churn model -> revenue at risk per issue) at scale.

Run from the repository root::

    .venv/bin/python benchmarks/bench_exposure.py [--customers 1000000] [--interactions 10000000]
                                                  [--issues 12] [--seed 0]

Data are synthetic and generated with numpy only (no text): a signals table shaped like the
output of :func:`cximpact.signals.compute.compute_signals` (low-cardinality strings stored as
``category`` to save memory; ids are int64), a customers table, the values table from
:func:`cximpact.value.ladder.estimate_values`, and churn outcomes drawn from a logistic model with
planted issue effects (the last third of the issues are harmless).

Timed, each step separately:

* cximpact: ``issue_flags``, ``customer_signal_summary``, ``customer_features``,
  ``ChurnRiskModel.fit`` and ``compute_exposure`` (then, unless ``--no-profile``, a second run of
  ``customer_signal_summary`` and ``compute_exposure`` under cProfile, reporting the time of each
  function they call directly);
* baseline (a) pandas: per-customer issue flags, the attributable-risk allocation of
  :func:`cximpact.exposure.attribution.allocate_attributable_risk` and per-issue sums, written as
  plain pandas groupbys in long (customer, issue) form;
* baseline (b) DuckDB: the same in one SQL query over the registered frames.

Both baselines use the *same fitted coefficients* as cximpact (the covariate part of the log-odds
per customer, the raw issue coefficients of the logistic regression and the shrunk issue effects),
so only the flag / allocation / aggregation code differs. The comparable part is
flags + allocation + per-issue sums: ``issue_flags + compute_exposure`` for cximpact (note that
``compute_exposure`` also computes the risk table, the per-issue summary totals of the ranking
and the bootstrap intervals, which the baselines do not). The customer-issue table (a row per
customer and issue, with its "why" text) is built on first read of
``ExposureResult.customers``; it is timed as its own step and the ratios are printed with and
without it.

The comparable parts run ``--repeat`` rounds (cximpact, pandas, DuckDB in turn, on the same
inputs); each side's best round counts, so that other work on a shared machine decides the
ratios less. Every round's time is in the JSON.

All three must agree on revenue at risk per issue (relative difference < 1e-6).

Results go to ``benchmarks/results/exposure.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from cximpact.exposure.issues import compute_exposure, customer_signal_summary, issue_flags
from cximpact.risk.model import ChurnRiskModel, customer_features
from cximpact.value.ladder import estimate_values

RESULTS_DIR = Path(__file__).parent / "results"
AS_OF = pd.Timestamp("2026-07-01")
HORIZON_FACTOR = 0.5  # exercises over_horizon's 1 - (1 - p) ** f conversion
SEGMENTS = ["consumer", "smb", "premium"]
CHANNELS = ["phone", "email", "chat", "web", "social"]
COMPETITORS = ["", "acme", "globex", "initech", "acme,globex"]


# --------------------------------------------------------------------------- measurement


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MiB; ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


TIMINGS: list[dict[str, Any]] = []
#: Round of the repeated comparable parts that ``timed`` rows belong to (0: the first run).
ROUND = [0]


@contextmanager
def timed(group: str, step: str) -> Iterator[None]:
    gc.collect()
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    row = {
        "group": group,
        "step": step,
        "round": ROUND[0],
        "seconds": round(seconds, 3),
        "rss_after_mb": round(current_rss_mb()),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    TIMINGS.append(row)
    print(f"  {group:<10} {step:<40} {seconds:9.2f} s   peak RSS {row['peak_rss_mb']:>7,} MiB")


# --------------------------------------------------------------------------- synthetic data


def generate(
    customers: int, interactions: int, n_issues: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, list[str], np.ndarray]:
    """Signals, customers, churn outcomes (bool per customer), issue names, planted effects."""
    rng = np.random.default_rng(seed)
    issue_names = [f"issue_{k:02d}" for k in range(n_issues)]
    topic_dtype = pd.CategoricalDtype([*issue_names, "other", ""])
    other_code, none_code = n_issues, n_issues + 1

    # customers
    ids = np.arange(customers, dtype=np.int64)
    tenure_days = rng.integers(0, 10 * 365, customers)
    start = (AS_OF - pd.to_timedelta(tenure_days, unit="D")).normalize()
    segment_code = rng.choice(3, customers, p=[0.7, 0.2, 0.1])
    products = rng.integers(1, 6, customers)
    revenue = np.round(rng.lognormal(np.log(40), 0.6, customers) * (1 + segment_code), 2)
    margin = np.round(revenue * rng.uniform(0.2, 0.5, customers), 2)
    finance = np.where(rng.random(customers) < 0.3, margin * rng.uniform(20, 60, customers), np.nan)
    customer_frame = pd.DataFrame(
        {
            "id": ids,
            "start_date": start,
            # str (pyarrow), not category: estimate_values multiplies margin by
            # segment.map(...), which stays categorical for a categorical segment and fails
            "segment": pd.array(np.asarray(SEGMENTS)[segment_code], dtype="str"),
            "products": products,
            "monthly_revenue": revenue,
            "monthly_margin": margin,
            "finance_ltv": finance,
        }
    )

    # interactions: heavy-tailed activity per customer (gamma-Poisson), Zipf-ish topic mix
    activity = rng.gamma(0.7, 1.0, customers)
    cdf = np.cumsum(activity)
    customer_id = np.searchsorted(cdf, rng.random(interactions) * cdf[-1]).astype(np.int64)
    del cdf, activity
    topic_p = 1.0 / np.arange(1, n_issues + 1) ** 0.8
    topic_p = np.append(0.7 * topic_p / topic_p.sum(), 0.3)  # 30% "other"
    root = rng.choice(n_issues + 1, interactions, p=topic_p).astype(np.int8)
    second = rng.choice(n_issues, interactions, p=topic_p[:-1] / topic_p[:-1].sum()).astype(np.int8)
    second[(rng.random(interactions) >= 0.25) | (second == root) | (root == other_code)] = none_code
    sentiment = np.clip(rng.normal(-0.1, 0.4, interactions), -1, 1)
    label = np.where(sentiment < -0.2, 0, np.where(sentiment > 0.2, 2, 1)).astype(np.int8)
    competitor = np.where(
        rng.random(interactions) < 0.08, rng.integers(1, len(COMPETITORS), interactions), 0
    ).astype(np.int8)
    seconds_back = rng.integers(0, 365 * 86400, interactions)
    signals = pd.DataFrame(
        {
            "interaction_id": np.arange(interactions, dtype=np.int64),
            "customer_id": customer_id,
            "timestamp": AS_OF.to_datetime64() - seconds_back.astype("timedelta64[s]"),
            "channel": pd.Categorical.from_codes(
                rng.integers(0, len(CHANNELS), interactions), CHANNELS
            ),
            "handling_cost": np.round(rng.gamma(2.0, 3.0, interactions), 2),
            "root_cause": pd.Categorical.from_codes(root, dtype=topic_dtype),
            "root_cause_confidence": np.where(
                root == other_code, 0.0, rng.uniform(0.3, 1.0, interactions)
            ),
            "secondary_root_cause": pd.Categorical.from_codes(second, dtype=topic_dtype),
            "sentiment": sentiment,
            "sentiment_label": pd.Categorical.from_codes(
                label, ["negative", "neutral", "positive"]
            ),
            "competitors": pd.Categorical.from_codes(competitor, COMPETITORS),
            "escalation": rng.random(interactions) < 0.05,
            "churn_language": rng.random(interactions) < 0.03,
            "repeat_contact": rng.random(interactions) < 0.15,
        }
    )
    del seconds_back, sentiment, label, competitor

    # planted churn model: decreasing issue effects, the last third harmless
    effects = np.round(np.linspace(0.8, 0.1, n_issues), 3)
    effects[n_issues - n_issues // 3 :] = 0.0
    flags = np.zeros((customers, n_issues), dtype=bool)
    keep = root < n_issues
    flags[customer_id[keep], root[keep]] = True
    keep = second < n_issues
    flags[customer_id[keep], second[keep]] = True
    logit = (
        -3.0
        - 0.08 * tenure_days / 365.25
        - 0.1 * (products - 1)
        + 0.1 * np.log1p(revenue)
        + np.array([0.0, -0.2, -0.4])[segment_code]
        + flags @ effects
    )
    churned = rng.random(customers) < 1 / (1 + np.exp(-logit))
    return signals, customer_frame, churned, issue_names, effects


# --------------------------------------------------------------------------- baselines


def sigmoid(x: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def over_horizon(p: Any, factor: float) -> Any:
    return 1.0 - np.power(1.0 - p, factor)


def pandas_baseline(
    signals: pd.DataFrame, cust: pd.DataFrame, coefs: pd.DataFrame, horizon: float
) -> pd.Series:
    """Flags, allocation and per-issue sums with plain pandas groupbys in long form.

    ``cust``: index customer_id, columns ``offset`` (covariate log-odds), ``value``, ``active``.
    ``coefs``: index issue, columns ``beta`` (raw coefficient), ``effect`` (shrunk effect).
    """
    with timed("pandas", "flags (customer, issue) pairs"):
        primary = pd.DataFrame(
            {"customer_id": signals["customer_id"], "issue": signals["root_cause"]}
        )
        secondary = pd.DataFrame(
            {"customer_id": signals["customer_id"], "issue": signals["secondary_root_cause"]}
        )
        pairs = pd.concat([primary, secondary], ignore_index=True)
        pairs = pairs[pairs["issue"].isin(coefs.index)].drop_duplicates()
        pairs["issue"] = pairs["issue"].astype(str)
        del primary, secondary
    with timed("pandas", "allocation"):
        active = cust.loc[cust["active"], ["offset", "value"]]
        long = pairs.join(active, on="customer_id", how="inner").join(coefs, on="issue")
        long["e"] = long["effect"].clip(lower=0)
        per_customer = long.groupby("customer_id")
        eta = long["offset"] + per_customer["beta"].transform("sum")
        p_full = over_horizon(sigmoid(eta), horizon)
        p_base = over_horizon(sigmoid(eta - per_customer["e"].transform("sum")), horizon)
        long["m"] = p_full - over_horizon(sigmoid(eta - long["e"]), horizon)
        total = long.groupby("customer_id")["m"].transform("sum")
        share = (long["m"] / total).where(total > 0, 0.0)
        long["rar"] = share * (p_full - p_base) * long["value"]
    with timed("pandas", "per-issue sums"):
        out = long.groupby("issue")["rar"].sum()
    return out


DUCKDB_SQL = """
WITH mentions AS (
    SELECT customer_id, CAST(root_cause AS VARCHAR) AS issue FROM signals
    UNION ALL
    SELECT customer_id, CAST(secondary_root_cause AS VARCHAR) AS issue FROM signals
    WHERE CAST(secondary_root_cause AS VARCHAR) <> ''
),
pairs AS (  -- per-customer issue flags, in long form
    SELECT DISTINCT m.customer_id, m.issue FROM mentions m SEMI JOIN coefs c ON m.issue = c.issue
),
long AS (
    SELECT p.customer_id, p.issue, c.beta, greatest(c.effect, 0.0) AS e, u."offset", u.value
    FROM pairs p
    JOIN coefs c ON p.issue = c.issue
    JOIN cust u ON p.customer_id = u.customer_id
    WHERE u.active
),
per_customer AS (
    SELECT customer_id, any_value("offset") + sum(beta) AS eta, sum(e) AS e_sum
    FROM long GROUP BY customer_id
),
marginal AS (
    SELECT l.customer_id, l.issue, l.value,
           1 - pow(1 - 0.5 * (1 + tanh(0.5 * k.eta)), $h) AS p_full,
           1 - pow(1 - 0.5 * (1 + tanh(0.5 * (k.eta - k.e_sum))), $h) AS p_base,
           (1 - pow(1 - 0.5 * (1 + tanh(0.5 * k.eta)), $h))
             - (1 - pow(1 - 0.5 * (1 + tanh(0.5 * (k.eta - l.e))), $h)) AS m
    FROM long l JOIN per_customer k USING (customer_id)
),
allocated AS (
    SELECT issue, value, p_full, p_base, m, sum(m) OVER (PARTITION BY customer_id) AS total
    FROM marginal
)
SELECT issue,
       sum(CASE WHEN total > 0 THEN m / total * (p_full - p_base) ELSE 0 END * value)
         AS revenue_at_risk
FROM allocated GROUP BY issue ORDER BY issue
"""


def duckdb_baseline(
    signals: pd.DataFrame, cust: pd.DataFrame, coefs: pd.DataFrame, horizon: float
) -> pd.Series:
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = '6GB'")
    con.execute("SET preserve_insertion_order = false")
    with timed("duckdb", "register frames"):
        con.register("signals", signals[["customer_id", "root_cause", "secondary_root_cause"]])
        con.register("cust", cust.reset_index())
        con.register("coefs", coefs.reset_index())
    with timed("duckdb", "flags + allocation + per-issue sums"):
        out = con.execute(DUCKDB_SQL, {"h": horizon}).df()
    con.close()
    return out.set_index("issue")["revenue_at_risk"]


# --------------------------------------------------------------------------- cximpact


def direct_callees(func: Any, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Run ``func`` under cProfile; time spent in each function it calls directly.

    Read from the profile's caller table, so it follows the code as it is (no replay of its
    lines) and adds up to the function's own total.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    func(*args, **kwargs)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    target = next(
        key
        for key in stats
        if key[2] == func.__name__ and key[0].endswith(".py") and "cximpact" in key[0]
    )
    rows = []
    for (path, line, name), (_, _, _, _, callers) in stats.items():
        if target in callers:
            calls, _, _, cumulative = callers[target]
            where = f"{Path(path).parent.name}/{Path(path).name}:{line}" if line else path
            rows.append(
                {"callee": name, "where": where, "calls": calls, "seconds": round(cumulative, 3)}
            )
    rows.sort(key=lambda r: -r["seconds"])
    total = stats[target][3]
    print(f"  profile of {func.__name__} ({total:.2f} s under cProfile), direct callees:")
    for r in rows[:12]:
        print(f"    {r['seconds']:8.2f} s  {r['calls']:>6}x  {r['callee']:<28} {r['where']}")
    return [{"function": func.__name__, "total_seconds": round(total, 3)}, *rows[:20]]


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--issues", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="skip the cProfile breakdown of customer_signal_summary and compute_exposure",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of the comparable parts (cximpact, pandas, DuckDB in turn); the best "
        "round of each counts, which keeps a busy machine from deciding the ratios",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "exposure.json")
    args = parser.parse_args()
    print(
        f"exposure benchmark: {args.customers:,} customers x {args.interactions:,} interactions, "
        f"{args.issues} issues, seed {args.seed}"
    )

    with timed("setup", "generate data (numpy)"):
        signals, customers, churned, issue_names, planted = generate(
            args.customers, args.interactions, args.issues, args.seed
        )
    with timed("setup", "estimate_values"):
        values = estimate_values(customers, None, default_ltv=500.0, annual_churn=0.1)
    signals_mb = signals.memory_usage(deep=True).sum() / 2**20
    print(f"  signals table: {signals_mb:,.0f} MiB; churned share {churned.mean():.3f}")

    # ---- cximpact, end to end
    with timed("cximpact", "issue_flags"):
        flags = issue_flags(signals)
    with timed("cximpact", "customer_signal_summary"):
        summary = customer_signal_summary(signals)
    with timed("cximpact", "customer_features"):
        features = customer_features(customers, flags, as_of=AS_OF)
    y = pd.Series(churned.astype(int), index=features.index)
    active = pd.Series(~churned, index=features.index)
    with timed("cximpact", "ChurnRiskModel.fit"):
        model = ChurnRiskModel().fit(features, y)
    with timed("cximpact", "compute_exposure"):
        exposure = compute_exposure(
            features, model, values, summary, active=active, horizon_factor=HORIZON_FACTOR
        )
    cx = exposure.issues.set_index("issue")["revenue_at_risk"]
    # the customer-issue table is built on first read (ExposureResult.customers): time it on
    # its own, and report the comparable part with and without it
    with timed("cximpact", "customer table (built on first read)"):
        n_long = len(exposure.customers)
    del exposure, flags
    gc.collect()

    profiles: list[list[dict[str, Any]]] = []
    if not args.no_profile:
        print("profiling (second run, under cProfile):")
        profiles.append(direct_callees(customer_signal_summary, signals))
        gc.collect()
        profiles.append(
            direct_callees(
                compute_exposure,
                features,
                model,
                values,
                summary,
                active=active,
                horizon_factor=HORIZON_FACTOR,
            )
        )
        gc.collect()

    # ---- shared inputs for the baselines: the same fitted coefficients
    names = [c.removeprefix("issue:") for c in model.issue_columns_]
    index = [model.columns_.index(c) for c in model.issue_columns_]
    coefs = pd.DataFrame(
        {
            "beta": model.estimator_.coef_[0][index],
            "effect": model.issue_effects_.reindex(names).to_numpy(),
        },
        index=pd.Index(names, name="issue"),
    )
    no_issues = features.copy()
    no_issues[model.issue_columns_] = 0.0
    cust = pd.DataFrame(
        {
            "offset": model.decision_function(no_issues),  # covariate part of the log-odds
            "value": values.set_index("customer_id")["value"].reindex(features.index).to_numpy(),
            "active": active.to_numpy(),
        },
        index=features.index,
    )
    del no_issues
    gc.collect()

    for round_ in range(max(args.repeat, 1)):  # rounds: cximpact, pandas, DuckDB in turn
        ROUND[0] = round_
        if round_ > 0:
            print(f"round {round_ + 1} of {args.repeat}:")
            with timed("cximpact", "issue_flags"):
                issue_flags(signals)
            with timed("cximpact", "compute_exposure"):
                again = compute_exposure(
                    features, model, values, summary, active=active, horizon_factor=HORIZON_FACTOR
                )
            with timed("cximpact", "customer table (built on first read)"):
                len(again.customers)
            del again
        gc.collect()
        pd_result = pandas_baseline(signals, cust, coefs, HORIZON_FACTOR)
        gc.collect()
        db_result = duckdb_baseline(signals, cust, coefs, HORIZON_FACTOR)
        gc.collect()
    del summary, features

    # ---- agreement
    table = pd.DataFrame({"cximpact": cx, "pandas": pd_result, "duckdb": db_result}).fillna(0.0)
    scale = np.maximum(table.abs().max(axis=1), 1e-9 * table["cximpact"].abs().sum())
    rel_pd = ((table["cximpact"] - table["pandas"]).abs() / scale).max()
    rel_db = ((table["cximpact"] - table["duckdb"]).abs() / scale).max()
    agree = bool(rel_pd < 1e-6 and rel_db < 1e-6)
    table["planted_effect"] = pd.Series(planted, index=issue_names)
    table["fitted_effect"] = model.issue_effects_
    print("\nrevenue at risk per issue (cximpact / pandas / DuckDB):")
    print(table.sort_values("cximpact", ascending=False).round(4).to_string())
    print(
        f"check: max relative difference cximpact vs pandas {rel_pd:.2e}, vs DuckDB {rel_db:.2e}"
        f" -> {'AGREE' if agree else 'DISAGREE'} (tolerance 1e-6)"
    )

    # ---- summary table
    def total(group: str, steps: list[str] | None = None, rounds: list[int] | None = None) -> float:
        """Seconds of ``steps`` (all of the group's when None) in the best round."""
        per_round: dict[int, float] = {}
        for t in TIMINGS:
            if t["group"] != group or (steps is not None and t["step"] not in steps):
                continue
            if rounds is None or t["round"] in rounds:
                per_round[t["round"]] = per_round.get(t["round"], 0.0) + t["seconds"]
        return min(per_round.values())

    table_step = "customer table (built on first read)"
    cx_comparable = total("cximpact", ["issue_flags", "compute_exposure"])
    cx_with_table = total("cximpact", ["issue_flags", "compute_exposure", table_step])
    cx_total = total("cximpact", rounds=[0])  # the first run, every step once
    pd_total = total("pandas")
    db_total = total("duckdb")
    print(f"\n{'group':<10} {'step':<40} {'round':>5} {'seconds':>9} {'peak RSS MiB':>13}")
    for t in TIMINGS:
        print(
            f"{t['group']:<10} {t['step']:<40} {t['round'] + 1:>5} {t['seconds']:9.2f} "
            f"{t['peak_rss_mb']:>13,}"
        )
    print("-" * 75)
    print(f"best of {max(args.repeat, 1)} rounds for the comparable parts:")
    print(f"{'cximpact':<10} {'exposure stage end to end (first run)':<40} {cx_total:9.2f}")
    print(f"{'cximpact':<10} {'comparable: issue_flags+compute_exposure':<40} {cx_comparable:9.2f}")
    print(f"{'cximpact':<10} {'  + customer table (on first read)':<40} {cx_with_table:9.2f}")
    print(f"{'pandas':<10} {'comparable: flags+allocation+sums':<40} {pd_total:9.2f}")
    print(f"{'duckdb':<10} {'comparable: flags+allocation+sums':<40} {db_total:9.2f}")
    ratio_pd = cx_comparable / pd_total
    ratio_db = cx_comparable / db_total
    print(f"ratio cximpact/pandas (comparable part): {ratio_pd:.2f}x")
    print(f"ratio cximpact/DuckDB (comparable part): {ratio_db:.2f}x")
    print(
        f"ratio with the customer table built too: {cx_with_table / pd_total:.2f}x pandas, "
        f"{cx_with_table / db_total:.2f}x DuckDB"
    )
    # compute_exposure also bootstraps per-issue intervals (no counterpart in the baselines):
    # take its time, read from the profile, out of the comparable part as well
    bootstrap = next(
        (
            r["seconds"]
            for p in profiles
            for r in p[1:]
            if p[0]["function"] == "compute_exposure" and r["callee"] == "_bootstrap_intervals"
        ),
        None,
    )
    no_intervals = None
    profiled = next(
        (p[0]["total_seconds"] for p in profiles if p[0]["function"] == "compute_exposure"), None
    )
    if bootstrap is not None and profiled:
        # the profile runs slower than the timed rounds: take out the bootstrap's *share* of
        # compute_exposure's profiled time from its best timed round
        share = bootstrap / profiled
        no_intervals = cx_comparable - share * total("cximpact", ["compute_exposure"])
        print(
            f"without _bootstrap_intervals ({share:.0%} of compute_exposure in the profile): "
            f"cximpact {no_intervals:.2f} s -> {no_intervals / pd_total:.2f}x pandas, "
            f"{no_intervals / db_total:.2f}x DuckDB"
        )
    print(f"peak RSS: {peak_rss_mb():,.0f} MiB")

    result = {
        "benchmark": "exposure",
        "params": {
            "customers": args.customers,
            "interactions": args.interactions,
            "issues": args.issues,
            "seed": args.seed,
            "horizon_factor": HORIZON_FACTOR,
            "repeat": args.repeat,
        },
        "environment": {
            "python": platform.python_version(),
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "duckdb": duckdb.__version__,
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
        },
        "data": {
            "signals_mib": round(signals_mb),
            "churned_share": round(float(churned.mean()), 4),
            "customer_issue_rows": n_long,
        },
        "timings": TIMINGS,
        "totals_seconds": {
            "cximpact_end_to_end": round(cx_total, 3),
            "cximpact_comparable": round(cx_comparable, 3),
            "cximpact_comparable_with_customer_table": round(cx_with_table, 3),
            "pandas_comparable": round(pd_total, 3),
            "duckdb_comparable": round(db_total, 3),
        },
        "ratios": {
            "cximpact_over_pandas": round(ratio_pd, 3),
            "cximpact_over_duckdb": round(ratio_db, 3),
            "cximpact_with_customer_table_over_pandas": round(cx_with_table / pd_total, 3),
            "cximpact_with_customer_table_over_duckdb": round(cx_with_table / db_total, 3),
        },
        "without_bootstrap_intervals": None
        if no_intervals is None
        else {
            "bootstrap_seconds_profiled": bootstrap,
            "compute_exposure_seconds_profiled": profiled,
            "cximpact_comparable": round(no_intervals, 3),
            "cximpact_over_pandas": round(no_intervals / pd_total, 3),
            "cximpact_over_duckdb": round(no_intervals / db_total, 3),
        },
        "check": {
            "max_rel_diff_pandas": float(rel_pd),
            "max_rel_diff_duckdb": float(rel_db),
            "tolerance": 1e-6,
            "agree": agree,
        },
        "profiles": profiles,
        "per_issue": table.reset_index(names="issue").round(6).to_dict(orient="records"),
        "peak_rss_mib": round(peak_rss_mb()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
