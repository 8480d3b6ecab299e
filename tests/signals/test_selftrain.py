"""Tests for :class:`cximpact.signals.selftrain.SelfTrainedTopics`, the fit / fill split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import NotFittedError
from cximpact.signals.keywords import KeywordSignals
from cximpact.signals.selftrain import SelfTrainedTopics, self_train_topics
from cximpact.simulate.enterprise import SimulationConfig, simulate


@pytest.fixture(scope="module")
def detected() -> tuple[pd.Series, pd.DataFrame]:
    interactions = simulate(SimulationConfig(customers=400, seed=2)).interactions
    texts = interactions["text"].fillna("").astype(str).reset_index(drop=True)
    return texts, KeywordSignals().fit().transform(texts)


def test_fit_then_fill_equals_self_train_topics(detected: tuple[pd.Series, pd.DataFrame]) -> None:
    texts, rules = detected
    expected, expected_conf = self_train_topics(
        texts, rules["root_cause"], rules["secondary_root_cause"], min_examples=5
    )
    model = SelfTrainedTopics(min_examples=5).fit(
        texts, rules["root_cause"], rules["secondary_root_cause"]
    )
    topics, confidence = model.fill(texts, rules["root_cause"])
    assert (topics == expected).all()
    assert (expected != rules["root_cause"]).any()  # the model did fill something
    np.testing.assert_allclose(confidence.to_numpy(), expected_conf.to_numpy())


def test_fill_is_row_by_row(detected: tuple[pd.Series, pd.DataFrame]) -> None:
    """Filling a slice gives the slice of filling everything: batches can be filled apart."""
    texts, rules = detected
    model = SelfTrainedTopics(min_examples=5).fit(
        texts, rules["root_cause"], rules["secondary_root_cause"]
    )
    whole, _ = model.fill(texts, rules["root_cause"])
    part = slice(37, 211)
    sliced, _ = model.fill(texts.iloc[part], rules["root_cause"].iloc[part])
    assert (sliced.to_numpy() == whole.iloc[part].to_numpy()).all()


def test_too_few_topics_fills_nothing(detected: tuple[pd.Series, pd.DataFrame]) -> None:
    texts, rules = detected
    model = SelfTrainedTopics(min_examples=10**6).fit(
        texts, rules["root_cause"], rules["secondary_root_cause"]
    )
    topics, confidence = model.fill(texts, rules["root_cause"])
    assert model.classifier_ is None
    assert (topics == rules["root_cause"]).all()
    assert confidence.isna().all()


def test_fill_before_fit_raises(detected: tuple[pd.Series, pd.DataFrame]) -> None:
    texts, rules = detected
    with pytest.raises(NotFittedError, match="fit"):
        SelfTrainedTopics().fill(texts, rules["root_cause"])


def test_resolve_is_row_by_row() -> None:
    """Resolving a slice with a model fitted on everything gives the slice of resolving all."""
    interactions = simulate(SimulationConfig(customers=400, seed=3)).interactions
    texts = interactions["text"].fillna("").astype(str).reset_index(drop=True)
    rules = KeywordSignals().fit()
    detected = rules.transform(texts, ties=True)
    topic_texts = rules.topic_texts(texts)
    args = (detected["root_cause"], detected["secondary_root_cause"], detected["root_cause_tied"])
    model = SelfTrainedTopics(min_examples=5)
    whole = model.fit_resolve(topic_texts, *args)
    part = slice(11, 263)
    sliced = model.resolve(topic_texts.iloc[part], *(a.iloc[part] for a in args))
    topics, confidence, secondary = sliced
    np.testing.assert_array_equal(topics.to_numpy(), whole[0].iloc[part].to_numpy())
    np.testing.assert_array_equal(secondary.to_numpy(), whole[2].iloc[part].to_numpy())
    np.testing.assert_allclose(confidence.to_numpy(), whole[1].iloc[part].to_numpy(), rtol=1e-12)
