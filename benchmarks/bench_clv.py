"""BG/NBD + Gamma-Gamma: published CDNOW values, holdout accuracy, and speed against a baseline.

1. Known values. On the 2,357-customer CDNOW sample (``../shared/data/cdnow_sample_transactions.csv``),
   calibration 1997-01-01..1997-09-30, holdout to 1998-06-30, frequency = distinct purchase days
   minus one, time in weeks, our estimates must match the published ones within 1 %:
   BG/NBD r 0.243, α 4.414, a 0.793, b 2.426 (Fader, Hardie & Lee 2005, log-likelihood -9582.4);
   Gamma-Gamma p 6.25, q 3.74, γ 15.44 on the 946 repeat buyers (Fader & Hardie 2013).
   The holdout totals (predicted vs actual repeat purchase days) and MAE per customer are printed.
2. Speed. ``--customers`` (default 1,000,000) customers are drawn from the BG/NBD and
   Gamma-Gamma processes at the CDNOW estimates, first purchases spread over 12 weeks, times
   rounded down to whole days (as transaction logs are). Timed: BG/NBD fit + conditional
   prediction of the next 39 weeks for every customer, and Gamma-Gamma fit + expected spend.
   Baseline, measured in the same run: the ``lifetimes`` package (0.11.x) run by a separate
   Python (``--lifetimes-python``, a throwaway venv, never a project dependency). Where that
   Python cannot import lifetimes, the baseline is a plain scipy implementation of the same
   likelihood without grouping or gradient (Nelder-Mead), and the report says so.

Usage::

    python -m venv /tmp/lt_venv && /tmp/lt_venv/bin/pip install lifetimes
    python benchmarks/bench_clv.py [--customers 1000000] [--lifetimes-python /tmp/lt_venv/bin/python]

Results go to ``benchmarks/results/clv.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize

from cximpact.ingest.readers import read_records
from cximpact.value.bgnbd import BetaGeoFitter, bgnbd_log_likelihood
from cximpact.value.evaluate import evaluate_clv, rfm_summary
from cximpact.value.gamma_gamma import GammaGammaFitter

RESULTS_DIR = Path(__file__).parent / "results"
CDNOW = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdnow_sample_transactions.csv"
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}
PUBLISHED_LL = -9582.4
TOLERANCE = 0.01

LIFETIMES_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, warnings
    import numpy as np
    warnings.simplefilter("ignore")
    import lifetimes
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    data = np.load(sys.argv[1])
    out = {"version": lifetimes.__version__}
    m = BetaGeoFitter().fit(data["cx"], data["ctx"], data["cT"])
    g = GammaGammaFitter().fit(data["cgx"], data["cgz"])
    out["cdnow_bgnbd"] = {k: float(v) for k, v in m.params_.items()}
    out["cdnow_gamma_gamma"] = {k: float(v) for k, v in g.params_.items()}
    start = time.perf_counter()
    m = BetaGeoFitter().fit(data["x"], data["tx"], data["T"])
    pred = m.conditional_expected_number_of_purchases_up_to_time(39.0, data["x"], data["tx"], data["T"])
    out["bgnbd_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    g = GammaGammaFitter().fit(data["gx"], data["gz"])
    spend = g.conditional_expected_average_profit(data["gx"], data["gz"])
    out["gg_seconds"] = time.perf_counter() - start
    out["bgnbd"] = {k: float(v) for k, v in m.params_.items()}
    out["gamma_gamma"] = {k: float(v) for k, v in g.params_.items()}
    np.save(sys.argv[2], np.asarray(pred, dtype=float))
    print(json.dumps(out))
    """
)


def simulate(n: int, bg: dict[str, float], gg: dict[str, float], seed: int) -> dict[str, Any]:
    """Customers from the BG/NBD + Gamma-Gamma processes, in days rounded down, then weeks."""
    rng = np.random.default_rng(seed)
    first_day = rng.integers(0, 84, n)  # first purchase in the first 12 weeks
    big_t = (273 - first_day) / 7.0  # calibration ends on day 273 (39 weeks)
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)
    drop = rng.beta(bg["a"], bg["b"], n)
    now = np.zeros(n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        nxt = now[idx] + rng.exponential(1.0, len(idx)) / np.maximum(lam[idx], 1e-300)
        beyond = nxt > big_t[idx]
        active[idx[beyond]] = False
        idx, nxt = idx[~beyond], nxt[~beyond]
        now[idx] = nxt
        x[idx] += 1
        t_x[idx] = nxt
        active[idx[rng.random(len(idx)) < drop[idx]]] = False
    t_x = np.floor(t_x * 7.0) / 7.0  # whole days
    nu = rng.gamma(gg["q"], 1.0 / gg["v"], n)
    repeat = x > 0
    z = rng.gamma(gg["p"] * np.maximum(x, 1), 1.0 / nu) / np.maximum(x, 1)
    return {"x": x, "tx": t_x, "T": big_t, "gx": x[repeat], "gz": np.round(z[repeat], 2)}


def naive_bgnbd_fit(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> dict[str, float]:
    """Fallback baseline: the same likelihood, every row evaluated, Nelder-Mead, no gradient."""

    def loss(log_params: np.ndarray) -> float:
        return -float(bgnbd_log_likelihood(np.exp(log_params), x, t_x, big_t).sum())

    result = optimize.minimize(
        loss, np.zeros(4), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-8}
    )
    return dict(zip(("r", "alpha", "a", "b"), map(float, np.exp(result.x)), strict=True))


def known_values() -> dict[str, Any]:
    """Fit on CDNOW and compare to the published values."""
    started = time.perf_counter()
    result = evaluate_clv(
        CDNOW,
        customer_column="customer_id",
        date_column="date",
        amount_column="amount",
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
    )
    elapsed = time.perf_counter() - started
    rows = []
    for model, published in (("bgnbd", PUBLISHED_BGNBD), ("gamma_gamma", PUBLISHED_GG)):
        for name, value in published.items():
            ours = result[model][name]
            error = abs(ours - value) / value
            rows.append(
                {
                    "model": model,
                    "param": name,
                    "published": value,
                    "ours": ours,
                    "relative_error": error,
                    "within_1pct": error <= TOLERANCE,
                }
            )
    print(
        f"CDNOW sample: {result['n_customers']} customers, {result['n_repeat_buyers']} repeat buyers"
    )
    print(f"{'model':<12} {'param':<6} {'published':>10} {'ours':>10} {'rel.err':>9}")
    for row in rows:
        flag = "ok" if row["within_1pct"] else "FAIL"
        print(
            f"{row['model']:<12} {row['param']:<6} {row['published']:>10.3f} {row['ours']:>10.4f} "
            f"{row['relative_error']:>8.3%} {flag}"
        )
    ll = result["fit"]["bgnbd_log_likelihood"]
    print(f"BG/NBD log-likelihood {ll:.2f} (published {PUBLISHED_LL})")
    h = result["holdout"]
    print(
        f"holdout {h['weeks']:.0f} weeks: predicted {h['predicted_repeat_transactions']:.1f} repeat "
        f"purchase days (conditional; unconditional {h['predicted_repeat_transactions_unconditional']:.1f}), "
        f"actual {h['actual_repeat_transactions']}, MAE/customer {h['mae_per_customer']:.3f}, "
        f"RMSE {h['rmse_per_customer']:.3f}; evaluate_clv took {elapsed:.2f}s"
    )
    return {
        "result": result,
        "comparison": rows,
        "all_within_1pct": all(r["within_1pct"] for r in rows),
        "log_likelihood_published": PUBLISHED_LL,
        "evaluate_seconds": elapsed,
    }


def run_lifetimes(
    python: str, sim: dict[str, Any], cdnow: dict[str, np.ndarray]
) -> tuple[dict[str, Any] | None, np.ndarray | None, str]:
    """Run the lifetimes baseline in its own interpreter; (result, predictions, reason)."""
    with tempfile.TemporaryDirectory() as tmp:
        data, preds, script = Path(tmp) / "d.npz", Path(tmp) / "p.npy", Path(tmp) / "lt.py"
        np.savez(data, **{k: sim[k] for k in ("x", "tx", "T", "gx", "gz")}, **cdnow)
        script.write_text(LIFETIMES_SCRIPT)
        try:
            done = subprocess.run(
                [python, str(script), str(data), str(preds)],
                capture_output=True,
                text=True,
                check=False,
                timeout=1800,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, None, f"could not run {python}: {exc}"
        if done.returncode != 0:
            return None, None, f"lifetimes failed: {done.stderr.strip().splitlines()[-1:]}"
        return json.loads(done.stdout.strip().splitlines()[-1]), np.load(preds), "ok"


def speed(
    n: int, bg: dict[str, float], gg: dict[str, float], python: str, seed: int
) -> dict[str, Any]:
    """Fit + predict time on ``n`` simulated customers, ours vs the baseline."""
    started = time.perf_counter()
    sim = simulate(n, bg, gg, seed)
    print(
        f"\nsimulated {n:,} customers in {time.perf_counter() - started:.1f}s "
        f"({len(sim['gx']):,} repeat buyers)"
    )
    started = time.perf_counter()
    model = BetaGeoFitter().fit(sim["x"], sim["tx"], sim["T"])
    predicted = model.predict_purchases(39.0, sim["x"], sim["tx"], sim["T"])
    ours_bg = time.perf_counter() - started
    started = time.perf_counter()
    spend_model = GammaGammaFitter().fit(sim["gx"], sim["gz"])
    spend_model.conditional_expected_average_profit(sim["gx"], sim["gz"])
    ours_gg = time.perf_counter() - started
    print(
        f"ours: BG/NBD fit+predict {ours_bg:.2f}s ({model.n_groups_:,} distinct (x, t_x, T) rows), "
        f"Gamma-Gamma fit+predict {ours_gg:.2f}s"
    )
    summary = rfm_summary_cdnow()
    lt, lt_pred, reason = run_lifetimes(python, sim, summary)
    out: dict[str, Any] = {
        "customers": n,
        "repeat_buyers": len(sim["gx"]),
        "distinct_rows": model.n_groups_,
        "ours_bgnbd_seconds": ours_bg,
        "ours_gamma_gamma_seconds": ours_gg,
        "ours_bgnbd_params": model.params_,
        "ours_gamma_gamma_params": spend_model.params_,
        "true_bgnbd_params": bg,
        "true_gamma_gamma_params": gg,
    }
    if lt is not None and lt_pred is not None:
        out |= {
            "baseline": f"lifetimes {lt['version']} (separate venv: {python})",
            "baseline_bgnbd_seconds": lt["bgnbd_seconds"],
            "baseline_gamma_gamma_seconds": lt["gg_seconds"],
            "baseline_bgnbd_params": lt["bgnbd"],
            "baseline_gamma_gamma_params": lt["gamma_gamma"],
            "baseline_cdnow_bgnbd": lt["cdnow_bgnbd"],
            "baseline_cdnow_gamma_gamma": lt["cdnow_gamma_gamma"],
            "max_abs_prediction_difference": float(np.max(np.abs(lt_pred - predicted))),
        }
        print(
            f"lifetimes {lt['version']}: BG/NBD fit+predict {lt['bgnbd_seconds']:.2f}s, "
            f"Gamma-Gamma {lt['gg_seconds']:.2f}s; params {_fmt(lt['bgnbd'])}, ours {_fmt(model.params_)}; "
            f"max |prediction difference| {out['max_abs_prediction_difference']:.2e}"
        )
        print(f"lifetimes on CDNOW: {_fmt(lt['cdnow_bgnbd'])}, {_fmt(lt['cdnow_gamma_gamma'])}")
    else:
        print(f"lifetimes unavailable ({reason}); baseline: plain scipy, ungrouped, Nelder-Mead")
        started = time.perf_counter()
        params = naive_bgnbd_fit(sim["x"], sim["tx"], sim["T"])
        fallback = BetaGeoFitter()
        fallback.params_ = params
        fallback.predict_purchases(39.0, sim["x"], sim["tx"], sim["T"])
        out |= {
            "baseline": f"plain scipy Nelder-Mead without grouping ({reason})",
            "baseline_bgnbd_seconds": time.perf_counter() - started,
            "baseline_bgnbd_params": params,
        }
    out["speedup_bgnbd"] = out["baseline_bgnbd_seconds"] / ours_bg
    if "baseline_gamma_gamma_seconds" in out:
        out["speedup_gamma_gamma"] = out["baseline_gamma_gamma_seconds"] / ours_gg
    print(
        f"BG/NBD fit+predict speed-up vs {out['baseline']}: {out['speedup_bgnbd']:.1f}x"
        + (
            f"; Gamma-Gamma {out['speedup_gamma_gamma']:.1f}x"
            if "speedup_gamma_gamma" in out
            else ""
        )
    )
    return out


def rfm_summary_cdnow() -> dict[str, np.ndarray]:
    """CDNOW calibration summary, for lifetimes' own fit on the same data."""
    s = rfm_summary(read_records(CDNOW), "customer_id", "date", "amount", "1997-09-30")
    rep = s[s["frequency"] > 0]
    return {
        "cx": s["frequency"].to_numpy(float),
        "ctx": s["recency"].to_numpy(),
        "cT": s["T"].to_numpy(),
        "cgx": rep["frequency"].to_numpy(float),
        "cgz": rep["monetary_value"].to_numpy(),
    }


def _fmt(params: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in params.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lifetimes-python", default="/tmp/lt_venv/bin/python")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not CDNOW.exists():
        sys.exit(f"missing {CDNOW}; this benchmark needs the shared CDNOW sample")
    known = known_values()
    fitted = known["result"]
    timing = speed(
        args.customers, fitted["bgnbd"], fitted["gamma_gamma"], args.lifetimes_python, args.seed
    )
    results = RESULTS_DIR / "clv.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"known_values": known, "speed": timing}, indent=2))
    print(f"saved {results}")
    if not known["all_within_1pct"]:
        sys.exit("published CDNOW values NOT reproduced within 1 %")


if __name__ == "__main__":
    main()
