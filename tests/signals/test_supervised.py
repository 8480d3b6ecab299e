"""Tests for :class:`cximpact.signals.supervised.SupervisedTopicClassifier`."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from tests.signals.topic_corpus import OUT_OF_SCOPE, TOPICS, split_rows

from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.signals.supervised import SupervisedTopicClassifier


def _split() -> tuple[list[str], list[str], list[str], list[str]]:
    """Training (first four phrasings) and held-out (last two) texts, with openers."""
    train, test = split_rows(TOPICS, 4)
    return [t for t, _ in train], [y for _, y in train], [t for t, _ in test], [y for _, y in test]


@pytest.fixture(scope="module")
def fitted() -> SupervisedTopicClassifier:
    train_x, train_y, _, _ = _split()
    return SupervisedTopicClassifier().fit(train_x, train_y)


def test_params_are_stored_as_given_and_cloned() -> None:
    model = SupervisedTopicClassifier(threshold=0.7, C=3.0, other_label="oos")
    assert model.get_params() == {"threshold": 0.7, "C": 3.0, "other_label": "oos"}
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "classes_")


def test_invalid_params_are_rejected_in_fit_not_init() -> None:
    model = SupervisedTopicClassifier(threshold=1.5)  # no error yet
    with pytest.raises(ConfigError, match="threshold"):
        model.fit(["a b", "c d"], ["x", "y"])
    with pytest.raises(ConfigError, match="C must be positive"):
        SupervisedTopicClassifier(C=0.0).fit(["a b", "c d"], ["x", "y"])


def test_not_fitted_raises_cximpact_error() -> None:
    model = SupervisedTopicClassifier()
    with pytest.raises(NotFittedError, match="fit"):
        model.predict(["hello"])
    with pytest.raises(NotFittedError):
        model.predict_proba(["hello"])


def test_fit_returns_self_and_sets_sorted_classes() -> None:
    train_x, train_y, _, _ = _split()
    model = SupervisedTopicClassifier()
    assert model.fit(train_x, train_y) is model
    assert list(model.classes_) == sorted(TOPICS)


def test_predict_proba_shape_and_rows_sum_to_one(fitted: SupervisedTopicClassifier) -> None:
    proba = fitted.predict_proba(["my card is late", "refund me", ""])
    assert proba.shape == (3, len(TOPICS))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert fitted.predict_proba([]).shape == (0, len(TOPICS))


def test_held_out_phrasings_are_classified(fitted: SupervisedTopicClassifier) -> None:
    _, _, test_x, test_y = _split()
    top = fitted.classes_[fitted.predict_proba(test_x).argmax(axis=1)]
    assert np.mean(top == np.array(test_y, dtype=object)) >= 0.9


def test_typos_are_caught_by_character_ngrams(fitted: SupervisedTopicClassifier) -> None:
    model = clone(fitted).set_params(threshold=0.0)
    train_x, train_y, _, _ = _split()
    model.fit(train_x, train_y)
    assert list(model.predict(["i forgott my pasword", "plz refnd the paymnt"])) == [
        "password_reset",
        "refund",
    ]


def test_threshold_controls_other_label() -> None:
    train_x, train_y, _, _ = _split()
    never = SupervisedTopicClassifier(threshold=0.0).fit(train_x, train_y)
    always = SupervisedTopicClassifier(threshold=1.0, other_label="oos").fit(train_x, train_y)
    texts = [*train_x[:5], *OUT_OF_SCOPE]
    assert "other" not in set(never.predict(texts))
    assert set(always.predict(texts)) == {"oos"}


def test_out_of_scope_texts_are_less_confident(fitted: SupervisedTopicClassifier) -> None:
    _, _, test_x, _ = _split()
    in_scope = fitted.predict_proba(test_x).max(axis=1)
    out = fitted.predict_proba(list(OUT_OF_SCOPE)).max(axis=1)
    assert out.mean() < in_scope.mean()
    assert np.mean(fitted.predict(list(OUT_OF_SCOPE)) == "other") >= 0.5


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], ["x"], "differ in length"),
        ([], [], "no training texts"),
        (["a", "b", "c"], ["x", "x", "x"], "at least two topics"),
        (["a", "b"], ["x", ""], "missing"),
        (["a", "b"], ["x", None], "missing"),
        ("a single string", ["x"], "single string"),
    ],
)
def test_bad_training_data_raises_contract_error(
    texts: list[str], labels: list[str | None], message: str
) -> None:
    with pytest.raises(ContractError, match=message):
        SupervisedTopicClassifier().fit(texts, labels)
