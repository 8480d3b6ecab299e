"""Benchmark the calibrated churn model against plain logistic regression.

Run from the repository root::

    .venv/bin/python benchmarks/bench_churn.py [--folds 5] [--seed 0]

Datasets (skipped when absent): ``../shared/data/ibm_telco_churn.csv`` (target ``Churn``, id
``customerID``) and ``../shared/data/maven_telecom_churn.csv`` (target ``Customer Status``,
churned = ``Churned``, id ``Customer ID``; ``Churn Category`` / ``Churn Reason`` are left out by
the loader as target leaks).

Two models, scored on the same stratified K-fold out-of-fold predictions in the same run:

* ``cximpact`` -- :class:`cximpact.risk.calibrated.CalibratedChurnClassifier` (defaults);
* ``baseline`` -- plain logistic regression (``C=1``) on one-hot categories and standardised,
  median-imputed numbers, no calibration.

Metrics: ROC AUC, PR AUC (average precision), Brier score, ECE (10 equal-width bins, see
:func:`cximpact.risk.evaluate.expected_calibration_error`). Results go to
``benchmarks/results/churn.json``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from cximpact.errors import CximpactWarning
from cximpact.risk.calibrated import CalibratedChurnClassifier
from cximpact.risk.evaluate import expected_calibration_error, load_churn_table

RESULTS_DIR = Path(__file__).parent / "results"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = [
    ("ibm_telco", DATA / "ibm_telco_churn.csv", "Churn", "customerID"),
    ("maven_telecom", DATA / "maven_telecom_churn.csv", "Customer Status", "Customer ID"),
]


def baseline() -> Pipeline:
    """Plain logistic regression on one-hot features, no calibration."""
    pre = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                make_column_selector(dtype_include="number"),
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                make_column_selector(dtype_exclude="number"),
            ),
        ]
    )
    return make_pipeline(pre, LogisticRegression(C=1.0, max_iter=5000))


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "pr_auc": round(float(average_precision_score(y, p)), 4),
        "brier": round(float(brier_score_loss(y, p)), 4),
        "ece": round(expected_calibration_error(y, p), 4),
    }


def out_of_fold(
    make: Any, X: pd.DataFrame, y: np.ndarray, folds: int, seed: int
) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    proba = np.zeros(y.size)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        proba[test] = make().fit(X.iloc[train], y[train]).predict_proba(X.iloc[test])[:, 1]
    return proba, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results: dict[str, Any] = {"folds": args.folds, "seed": args.seed, "datasets": {}}
    for name, path, target, id_column in DATASETS:
        if not path.exists():
            print(f"{name}: {path} not found, skipped")
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CximpactWarning)
            X, y = load_churn_table(path, target, None, id_column)
        for warning in caught:
            print(f"{name}: note: {warning.message}")
        ours, ours_s = out_of_fold(
            lambda: CalibratedChurnClassifier(random_state=args.seed), X, y, args.folds, args.seed
        )
        base, base_s = out_of_fold(baseline, X, y, args.folds, args.seed)
        row = {
            "n": int(y.size),
            "churn_rate": round(float(y.mean()), 4),
            "features": int(X.shape[1]),
            "cximpact": scores(y, ours) | {"seconds": round(ours_s, 1)},
            "baseline_logistic_onehot_uncalibrated": scores(y, base)
            | {"seconds": round(base_s, 1)},
        }
        results["datasets"][name] = row
        a, b = row["cximpact"], row["baseline_logistic_onehot_uncalibrated"]
        print(
            f"\n{name}: n={row['n']}, churn rate {row['churn_rate']:.3f}, {row['features']} features, {args.folds}-fold CV"
        )
        print(f"  {'metric':8s} {'cximpact':>9s} {'baseline':>9s} {'diff':>8s} {'ratio':>6s}")
        for metric in ("roc_auc", "pr_auc", "brier", "ece"):
            ratio = a[metric] / b[metric] if b[metric] else float("nan")
            print(
                f"  {metric:8s} {a[metric]:9.4f} {b[metric]:9.4f} {a[metric] - b[metric]:+8.4f} {ratio:6.2f}"
            )
        print(f"  seconds  {a['seconds']:9.1f} {b['seconds']:9.1f}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / "churn.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
