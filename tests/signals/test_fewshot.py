"""Tests for :mod:`cximpact.signals.fewshot` and the few-shot mode of ``evaluate topics``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.base import clone
from tests.signals.topic_corpus import TOPIC_METRICS

from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.signals.evaluate import evaluate_topics
from cximpact.signals.fewshot import FewShotTopicClassifier, load_fewshot_taxonomy
from cximpact.signals.keywords import load_taxonomy

TAXONOMY = {
    "version": 1,
    "topics": {
        "refund": {
            "description": "The customer wants their money back.",
            "examples": [
                "where is my refund",
                "I want my money back",
                "please reimburse the payment",
                "the refund has not reached my account",
            ],
        },
        "card_delivery": {
            "description": "A new card that has not arrived.",
            "examples": [
                "my new card has not arrived",
                "when will my card be delivered",
                "the card never showed up in the post",
            ],
        },
        "password": {
            "description": "Cannot log in, forgotten or reset password.",
            "examples": [
                "I forgot my password",
                "the password reset link does not work",
                "I am locked out of my account",
            ],
        },
    },
}
HELD_OUT = [
    ("still waiting to be paid back for the return", "refund"),
    ("the money for my cancelled order never came back", "refund"),
    ("the card you mailed me is not here yet", "card_delivery"),
    ("how long does it take for the card to arrive", "card_delivery"),
    ("can't sign in, I need a new password", "password"),
    ("reset my login please, the password is not accepted", "password"),
]
OUT_OF_SCOPE = ["what is the weather in paris", "tell me a joke about cats", "best pizza recipe"]


@pytest.fixture(scope="module")
def fitted() -> FewShotTopicClassifier:
    return FewShotTopicClassifier(TAXONOMY, threshold=0.0).fit()


def test_held_out_paraphrases_get_their_topic(fitted: FewShotTopicClassifier) -> None:
    texts, truth = zip(*HELD_OUT, strict=True)
    assert list(fitted.predict(list(texts))) == list(truth)


def test_proba_rows_sum_to_one_and_confidence_is_top_score(
    fitted: FewShotTopicClassifier,
) -> None:
    texts = [t for t, _ in HELD_OUT]
    proba = fitted.predict_proba(texts)
    assert proba.shape == (len(texts), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(fitted.classes_) == ["card_delivery", "password", "refund"]
    np.testing.assert_allclose(
        fitted.confidence(texts), np.clip(fitted.decision_function(texts).max(axis=1), 0, 1)
    )


def test_out_of_scope_texts_score_lower(fitted: FewShotTopicClassifier) -> None:
    inside = fitted.confidence([t for t, _ in HELD_OUT])
    outside = fitted.confidence(OUT_OF_SCOPE)
    assert outside.mean() < inside.mean()


def test_threshold_from_labels_sends_out_of_scope_to_other() -> None:
    texts = [t for t, _ in HELD_OUT] + OUT_OF_SCOPE
    labels = [y for _, y in HELD_OUT] + ["oos"] * len(OUT_OF_SCOPE)
    model = FewShotTopicClassifier(TAXONOMY, other_label="none").fit(texts, labels)
    predicted = model.predict(texts)
    right = np.mean(predicted == np.where(np.array(labels) == "oos", "none", labels))
    top1_right = np.mean(model.classes_[model.decision_function(texts).argmax(1)] == labels)
    assert model.threshold_ > 0.0
    assert right > top1_right  # the calibrated threshold beats never answering "none"


def test_threshold_from_taxonomy_alone_is_in_range() -> None:
    model = FewShotTopicClassifier(TAXONOMY).fit()
    assert 0.0 < model.threshold_ < 1.0
    always = FewShotTopicClassifier(TAXONOMY, threshold=1.0, other_label="oos").fit()
    assert set(always.predict([*OUT_OF_SCOPE, "where is my refund?"])) == {"oos"}


def test_yaml_file_and_mapping_load_the_same(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(TAXONOMY))
    assert load_fewshot_taxonomy(path) == load_fewshot_taxonomy(TAXONOMY)
    a = FewShotTopicClassifier(path, threshold=0.0).fit().predict(OUT_OF_SCOPE)
    b = clone(FewShotTopicClassifier(TAXONOMY, threshold=0.0)).fit().predict(OUT_OF_SCOPE)
    assert list(a) == list(b)


@pytest.mark.parametrize(
    ("taxonomy", "message"),
    [
        ({"topics": {}}, "expected a mapping"),
        ({"topics": {"a": {"examples": ["x"]}}}, "at least two topics"),
        ({"topics": {"a": {"examples": []}, "b": {"examples": ["y"]}}}, "at least 1 example"),
        ({"topics": {"a": "text", "b": {"examples": ["y"]}}}, "expected description"),
        ({"topics": {"a": {"examples": "x"}, "b": {"examples": ["y"]}}}, "list of phrases"),
    ],
)
def test_invalid_taxonomies_raise_config_error(taxonomy: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FewShotTopicClassifier(taxonomy).fit()


def test_missing_or_broken_file_and_params_raise(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_fewshot_taxonomy(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("topics: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_fewshot_taxonomy(broken)
    with pytest.raises(ConfigError, match="needs a taxonomy"):
        FewShotTopicClassifier().fit()
    with pytest.raises(ConfigError, match="threshold"):
        FewShotTopicClassifier(TAXONOMY, threshold=2.0).fit()
    with pytest.raises(NotFittedError):
        FewShotTopicClassifier(TAXONOMY).predict(["x"])
    with pytest.raises(ContractError, match="same length"):
        FewShotTopicClassifier(TAXONOMY).fit(["a", "b"], ["refund"])


def test_shipped_example_taxonomy_covers_the_builtin_topics() -> None:
    path = Path(str(resources.files("cximpact.signals") / "data" / "fewshot_taxonomy.yaml"))
    topics = load_fewshot_taxonomy(path)
    assert set(topics) == set(load_taxonomy().topic_ids)
    assert all(3 <= len(t.examples) <= 10 and t.description for t in topics.values())


def test_evaluate_topics_few_shot_mode(tmp_path: Path) -> None:
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text(yaml.safe_dump(TAXONOMY))
    rows = [*HELD_OUT, *((t, "oos") for t in OUT_OF_SCOPE)]
    frame = pd.DataFrame(rows, columns=["text", "label"])
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.to_csv(tmp_path / "test.csv", index=False)
    result = evaluate_topics(
        tmp_path / "train.csv",
        tmp_path / "test.csv",
        oos_label="oos",
        mode="few-shot",
        taxonomy=taxonomy,
    )
    assert set(result) >= TOPIC_METRICS
    assert result["accuracy"] == 1.0
    assert result["n_test"] == len(rows)
    with pytest.raises(ConfigError, match="taxonomy"):
        evaluate_topics(tmp_path / "train.csv", tmp_path / "test.csv", mode="few-shot")
    with pytest.raises(ConfigError, match="unknown mode"):
        evaluate_topics(tmp_path / "train.csv", tmp_path / "test.csv", mode="magic")
