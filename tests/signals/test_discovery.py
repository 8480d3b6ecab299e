"""Tests for :mod:`cximpact.signals.discovery`, :mod:`cximpact.signals.topics` and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from cximpact.cli import app
from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.signals.discovery import TopicDiscovery
from cximpact.signals.fewshot import FewShotTopicClassifier
from cximpact.signals.supervised import SupervisedTopicClassifier
from cximpact.signals.topics import (
    DiscoveryTopicClassifier,
    TopicClassifier,
    make_topic_classifier,
)

_PHRASES = {
    "refund": [
        "where is my refund for order {n}",
        "I still have not received my refund",
        "please refund the {n} dollars you owe me",
        "refund for the returned item is missing",
    ],
    "outage": [
        "internet outage in my street since {n} am",
        "no internet connection at all today",
        "the internet is down again, outage number {n}",
        "broadband outage, nothing loads",
    ],
    "password": [
        "forgot my password, reset link {n} broken",
        "password reset email never arrives",
        "cannot log in, password rejected {n} times",
        "locked out after entering the wrong password",
    ],
}


def _corpus(per_topic: int = 40, seed: int = 0) -> pd.DataFrame:
    """Texts of three topics with a time column; 'password' only in the second half."""
    rng = np.random.default_rng(seed)
    rows = []
    for topic, phrases in _PHRASES.items():
        for i in range(per_topic):
            text = str(rng.choice(phrases)).format(n=int(rng.integers(1, 99)))
            day = 20 + i % 10 if topic == "password" else i % 30
            rows.append({"text": text, "topic": topic, "timestamp": f"2026-01-{day + 1:02d}"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return _corpus()


@pytest.fixture(scope="module")
def fitted(corpus: pd.DataFrame) -> TopicDiscovery:
    return TopicDiscovery(n_topics=3, seed=0).fit(corpus["text"])


def test_clusters_recover_the_planted_topics(fitted: TopicDiscovery, corpus: pd.DataFrame) -> None:
    assert adjusted_rand_score(corpus["topic"], fitted.labels_) > 0.9


def test_topics_are_named_by_distinctive_terms(fitted: TopicDiscovery) -> None:
    report = fitted.report()
    names = " ".join(t.name for t in report.topics)
    for word in ("refund", "password"):
        assert word in names
    assert any("internet" in t.top_terms or "outage" in t.top_terms for t in report.topics)
    assert all(len(t.examples) == 3 for t in report.topics)
    assert [t.size for t in report.topics] == sorted((t.size for t in report.topics), reverse=True)
    assert sum(t.share for t in report.topics) + report.unassigned_share == pytest.approx(1, 1e-3)


def test_every_text_gets_a_topic_and_confidence(
    fitted: TopicDiscovery, corpus: pd.DataFrame
) -> None:
    report = fitted.report()
    assert report.unassigned_share < 0.05
    assert fitted.confidence_.shape == (len(corpus),)
    strict = TopicDiscovery(n_topics=3, min_similarity=0.99).fit(corpus["text"])
    assert strict.report().unassigned_share > 0.5
    assert set(strict.predict_labels(corpus["text"])) >= {"other"}


def test_new_topic_is_flagged_between_windows(fitted: TopicDiscovery, corpus: pd.DataFrame) -> None:
    report = fitted.report(corpus["timestamp"])
    by_name = {t.name: t for t in report.topics}
    password = next(t for name, t in by_name.items() if "password" in name)
    refund = next(t for name, t in by_name.items() if "refund" in name)
    assert password.new and password.growing
    assert password.earlier_share == 0.0 and password.recent_share > 0.3
    assert not refund.new
    assert report.split_time is not None
    with pytest.raises(ContractError, match="timestamps"):
        fitted.report(corpus["timestamp"][:5])


def test_discovery_is_deterministic_given_a_seed(corpus: pd.DataFrame) -> None:
    a = TopicDiscovery(seed=3).fit(corpus["text"]).report().to_dict()
    b = TopicDiscovery(seed=3).fit(corpus["text"]).report().to_dict()
    assert a == b
    assert a["silhouette"] is not None and len(a["topics"]) >= 2


def test_new_texts_are_assigned_to_the_matching_topic(fitted: TopicDiscovery) -> None:
    ids = fitted.predict(["my refund has not arrived", "password reset is broken"])
    report = fitted.report()
    assert "refund" in report.topics[ids[0]].name
    assert "password" in report.topics[ids[1]].name


def test_bad_input_raises(corpus: pd.DataFrame) -> None:
    with pytest.raises(ContractError, match="at least 10"):
        TopicDiscovery().fit(["a", "b"])
    with pytest.raises(ConfigError, match="n_topics"):
        TopicDiscovery(n_topics=1).fit(corpus["text"])
    with pytest.raises(ConfigError, match="growth_factor"):
        TopicDiscovery(growth_factor=1.0).fit(corpus["text"])
    with pytest.raises(NotFittedError):
        TopicDiscovery().predict(["x"])


def test_one_interface_for_the_three_modes(corpus: pd.DataFrame, tmp_path: Path) -> None:
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text(
        "topics:\n"
        + "".join(
            f"  {topic}:\n    description: {topic}\n    examples:\n"
            + "".join(f"      - {p.format(n=1)}\n" for p in phrases)
            for topic, phrases in _PHRASES.items()
        )
    )
    texts, labels = corpus["text"], corpus["topic"]
    models = {
        "supervised": make_topic_classifier("supervised").fit(texts, labels),
        "few-shot": make_topic_classifier("few-shot", taxonomy=taxonomy).fit(texts),
        "discovery": make_topic_classifier("discovery", n_topics=3).fit(texts),
    }
    assert isinstance(models["supervised"], SupervisedTopicClassifier)
    assert isinstance(models["few-shot"], FewShotTopicClassifier)
    assert isinstance(models["discovery"], DiscoveryTopicClassifier)
    for name, model in models.items():
        assert isinstance(model, TopicClassifier), name
        predicted = model.predict(texts)
        proba = model.predict_proba(texts)
        confidence = model.confidence(texts)
        assert predicted.shape == (len(texts),)
        assert proba.shape == (len(texts), len(model.classes_))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        assert ((confidence >= 0) & (confidence <= 1)).all()
        assert adjusted_rand_score(labels, predicted) > 0.8, name
    with pytest.raises(ConfigError, match="unknown topic mode"):
        make_topic_classifier("magic")
    with pytest.raises(ConfigError, match="taxonomy"):
        make_topic_classifier("few-shot")


def test_cli_topics_discover_json(corpus: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "interactions.csv"
    corpus.rename(columns={"text": "body"}).to_csv(path, index=False)
    args = ["topics", "discover", "--data", str(path), "--text-column", "body"]
    result = CliRunner().invoke(app, [*args, "--topics", "3", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["n_texts"] == len(corpus) and len(out["topics"]) == 3
    assert set(out["topics"][0]) >= {"id", "name", "top_terms", "examples", "share", "growth"}
    assert out["unassigned_share"] < 0.05
    assert any(t["new"] for t in out["topics"])
    text = CliRunner().invoke(app, [*args, "--topics", "3"])
    assert text.exit_code == 0 and "NEW" in text.output
    missing = CliRunner().invoke(app, ["topics", "discover", "--data", str(path)])
    assert missing.exit_code != 0
    assert isinstance(missing.exception, ContractError)
