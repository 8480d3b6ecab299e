"""Benchmark the supervised topic classifier and the lexicon sentiment on public data.

Run from the repository root::

    .venv/bin/python benchmarks/bench_topics.py

Datasets (skipped when absent):

* ``../shared/data/banking77/{train,test}.csv`` -- BANKING77, 77 banking intents (columns
  ``text``, ``category``), official train/test split, no out-of-scope rows;
* ``../shared/data/twitter_us_airline_sentiment.csv`` -- airline tweets labelled
  ``negative`` / ``neutral`` / ``positive`` (column ``airline_sentiment``).

Topics, all measured in the same run on the same split:

* ``cximpact`` -- :class:`cximpact.signals.supervised.SupervisedTopicClassifier` (defaults),
  reported twice from one fit: with its default ``threshold=0.5`` (texts below it answer
  "other", an error here since BANKING77 has no out-of-scope rows) and as top-1 (``threshold=0``);
* ``baseline`` -- plain TF-IDF word unigrams + ``LogisticRegression`` (scikit-learn defaults).

Sentiment: :func:`cximpact.signals.evaluate.evaluate_sentiment` (keyword lexicon, nothing
learned) against the majority-class baseline (always the most frequent label).

Metrics: accuracy, macro F1 (over the true classes), texts per second of prediction alone,
fit seconds. Results go to ``benchmarks/results/topics.json``.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline

from cximpact.signals.evaluate import evaluate_sentiment
from cximpact.signals.supervised import SupervisedTopicClassifier

RESULTS_DIR = Path(__file__).parent / "results"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BANKING = DATA / "banking77"
AIRLINE = DATA / "twitter_us_airline_sentiment.csv"


def scores(truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> dict[str, float]:
    """Accuracy and macro F1 over the true classes, rounded to 4 places."""
    classes = sorted(set(truth))
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=classes, average="macro", zero_division=0)), 4
        ),
    }


def bench_topics() -> dict[str, Any] | None:
    """Our classifier vs. TF-IDF unigram logistic regression on BANKING77."""
    train_path, test_path = BANKING / "train.csv", BANKING / "test.csv"
    if not (train_path.exists() and test_path.exists()):
        print(f"banking77: {BANKING} not found, skipped")
        return None
    train = pd.read_csv(train_path, dtype=str, keep_default_na=False)
    test = pd.read_csv(test_path, dtype=str, keep_default_na=False)
    truth = test["category"].to_numpy(dtype=object)
    out: dict[str, Any] = {
        "n_train": len(train),
        "n_test": len(test),
        "classes": int(train["category"].nunique()),
    }

    ours = SupervisedTopicClassifier()
    started = time.perf_counter()
    ours.fit(train["text"], train["category"])
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    predicted = ours.predict(test["text"])
    predict_s = time.perf_counter() - started
    proba = ours.predict_proba(test["text"])
    top1 = ours.classes_[proba.argmax(axis=1)]
    out["cximpact_threshold_0.5"] = {
        **scores(truth, predicted),
        "other_share": round(float(np.mean(predicted == ours.other_label)), 4),
        "texts_per_second": round(len(test) / predict_s, 1),
        "fit_seconds": round(fit_s, 1),
    }
    out["cximpact_top1"] = scores(truth, top1)

    baseline = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    started = time.perf_counter()
    baseline.fit(train["text"], train["category"])
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    predicted = baseline.predict(test["text"])
    predict_s = time.perf_counter() - started
    out["baseline_tfidf_unigram_logreg"] = {
        **scores(truth, np.asarray(predicted, dtype=object)),
        "texts_per_second": round(len(test) / predict_s, 1),
        "fit_seconds": round(fit_s, 1),
    }
    print(f"banking77: {len(train)} train / {len(test)} test, {out['classes']} intents")
    print(f"  {'model':32s} {'accuracy':>8s} {'macro_f1':>8s} {'texts/s':>9s} {'fit s':>6s}")
    for name in ("cximpact_threshold_0.5", "cximpact_top1", "baseline_tfidf_unigram_logreg"):
        row = out[name]
        tps = f"{row['texts_per_second']:9.0f}" if "texts_per_second" in row else f"{'':9s}"
        fit = f"{row['fit_seconds']:6.1f}" if "fit_seconds" in row else f"{'':6s}"
        print(f"  {name:32s} {row['accuracy']:8.4f} {row['macro_f1']:8.4f} {tps} {fit}")
    print(
        f"  ('other' answers at threshold 0.5: {out['cximpact_threshold_0.5']['other_share']:.1%})"
    )
    return out


def bench_sentiment() -> dict[str, Any] | None:
    """Lexicon sentiment vs. the majority class on the airline tweets."""
    if not AIRLINE.exists():
        print(f"airline sentiment: {AIRLINE} not found, skipped")
        return None
    lexicon = evaluate_sentiment(AIRLINE, text_column="text", label_column="airline_sentiment")
    labels = pd.read_csv(AIRLINE, dtype=str, keep_default_na=False)["airline_sentiment"]
    truth = labels.str.strip().str.lower().to_numpy(dtype=object)
    majority = str(labels.str.strip().str.lower().mode().iloc[0])
    base = scores(truth, np.full(truth.size, majority, dtype=object))
    out = {
        "n": lexicon["n"],
        "label_shares": {
            str(k): round(float(v), 4) for k, v in labels.value_counts(normalize=True).items()
        },
        "cximpact_lexicon": lexicon,
        f"baseline_majority_{majority}": base,
    }
    print(f"\nairline sentiment: {lexicon['n']} tweets")
    print(f"  {'model':32s} {'accuracy':>8s} {'macro_f1':>8s} {'texts/s':>9s}")
    print(
        f"  {'cximpact_lexicon':32s} {lexicon['accuracy']:8.4f} {lexicon['macro_f1']:8.4f} "
        f"{lexicon['texts_per_second']:9.0f}"
    )
    print(
        f"  {'baseline_majority_' + majority:32s} {base['accuracy']:8.4f} {base['macro_f1']:8.4f}"
    )
    return out


def main() -> None:
    """Run both benchmarks and write ``benchmarks/results/topics.json``."""
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "banking77": bench_topics(),
        "airline_sentiment": bench_sentiment(),
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / "topics.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
