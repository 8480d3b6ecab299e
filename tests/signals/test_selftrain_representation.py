"""Tests for the ``representation`` option of ``self_train_topics``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import ConfigError
from cximpact.signals.keywords import KeywordSignals
from cximpact.signals.selftrain import self_train_topics
from cximpact.simulate.enterprise import SimulationConfig, simulate


@pytest.fixture(scope="module")
def detected() -> tuple[pd.Series, pd.DataFrame, np.ndarray]:
    interactions = simulate(SimulationConfig(customers=300, seed=1)).interactions
    texts = interactions["text"].fillna("").astype(str).reset_index(drop=True)
    return texts, KeywordSignals().fit().transform(texts), interactions["_topic"].to_numpy()


@pytest.mark.parametrize("representation", ["tfidf", "static"])
def test_both_representations_fill_keyword_gaps(
    detected: tuple[pd.Series, pd.DataFrame, np.ndarray], representation: str
) -> None:
    texts, rules, truth = detected
    topics, confidence = self_train_topics(
        texts,
        rules["root_cause"],
        rules["secondary_root_cause"],
        min_examples=5,
        representation=representation,
    )
    filled = (rules["root_cause"] == "other") & (topics != "other")
    assert filled.any()
    assert (confidence[filled] >= 0.5).all()
    assert confidence[~filled].isna().all()
    # texts the rules answered keep their keyword topic
    answered = rules["root_cause"] != "other"
    assert (topics[answered] == rules["root_cause"][answered]).all()
    assert np.mean(topics.to_numpy() == truth) >= np.mean(rules["root_cause"] == truth) - 0.05


def test_unknown_representation_raises(
    detected: tuple[pd.Series, pd.DataFrame, np.ndarray],
) -> None:
    texts, rules, _ = detected
    with pytest.raises(ConfigError, match="representation"):
        self_train_topics(
            texts,
            rules["root_cause"],
            rules["secondary_root_cause"],
            min_examples=5,
            representation="bert",
        )
