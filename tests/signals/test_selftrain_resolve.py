"""Tests for :meth:`SelfTrainedTopics.resolve`: keyword ties and second topics, checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cximpact.signals.keywords import KeywordSignals
from cximpact.signals.selftrain import SelfTrainedTopics

_DELIVERY = [
    "my parcel is late and the courier never came",
    "the delivery is two weeks late, where is my parcel",
    "courier lost my parcel, the delivery never arrived",
    "still waiting for the delivery, the courier is late",
    "parcel tracking says late delivery again",
]
_PLAN = [
    "can i upgrade my plan to unlimited data",
    "what does the unlimited plan include, i want an upgrade",
    "please compare the plan options before my upgrade",
    "is there a cheaper plan with more data allowance",
    "i want to downgrade my plan and keep my data allowance",
]


def _training() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for _ in range(8):
        for text in _DELIVERY:
            texts.append(f"{text} {rng.choice(['thanks', 'please help', 'hello'])}")
            labels.append("late_delivery")
        for text in _PLAN:
            texts.append(f"{text} {rng.choice(['thanks', 'please help', 'hello'])}")
            labels.append("plan_question")
    return pd.Series(texts), pd.Series(labels)


@pytest.fixture(scope="module")
def model() -> SelfTrainedTopics:
    texts, labels = _training()
    return SelfTrainedTopics().fit(texts, labels, pd.Series([""] * len(texts)))


def _resolve(
    model: SelfTrainedTopics, text: str, first: str, second: str, tied: bool
) -> tuple[str, float, str]:
    topics, confidence, secondary = model.resolve(
        pd.Series([text]), pd.Series([first]), pd.Series([second]), pd.Series([tied])
    )
    return str(topics.iat[0]), float(confidence.iat[0]), str(secondary.iat[0])


def test_a_tie_goes_to_the_topic_the_text_is_about(model: SelfTrainedTopics) -> None:
    # list order put late_delivery first; the text is about the plan
    topic, confidence, second = _resolve(
        model,
        "what does the unlimited plan package include, can i upgrade",
        "late_delivery",
        "plan_question",
        True,
    )
    assert topic == "plan_question"
    assert 0.25 <= confidence <= 0.5
    assert second == ""  # the stray 'package' is not a second topic either


def test_without_a_tie_the_keyword_answer_stands(model: SelfTrainedTopics) -> None:
    topic, confidence, _ = _resolve(
        model,
        "what does the unlimited plan package include, can i upgrade",
        "late_delivery",
        "plan_question",
        False,
    )
    assert topic == "late_delivery"
    assert np.isnan(confidence)


def test_a_real_second_topic_is_kept_and_a_stray_one_dropped(model: SelfTrainedTopics) -> None:
    mixed = "the courier lost my parcel and the delivery is late. also can i upgrade my plan"
    assert _resolve(model, mixed, "late_delivery", "plan_question", False)[2] == "plan_question"
    stray = "the courier lost my parcel, the delivery is late, tracking says late again"
    assert _resolve(model, stray, "late_delivery", "plan_question", False)[2] == ""


def test_topics_the_model_does_not_know_are_left_alone(model: SelfTrainedTopics) -> None:
    topic, _, second = _resolve(model, "my card was charged twice", "billing_error", "fees", True)
    assert (topic, second) == ("billing_error", "fees")


def test_keyword_ties_are_reported_only_when_asked() -> None:
    rules = KeywordSignals().fit()
    texts = pd.Series(["what's included in the fibre package?", "my parcel never arrived"])
    plain = rules.transform(texts)
    assert "root_cause_tied" not in plain.columns
    tied = rules.transform(texts, ties=True)["root_cause_tied"].tolist()
    assert tied == [True, False]


def test_topic_texts_blank_the_reaction_not_the_problem() -> None:
    rules = KeywordSignals().fit()
    text = rules.topic_texts(pd.Series(["My parcel never arrived. I'm switching to Verizon!"]))
    assert "parcel never arrived" in text.iat[0]
    assert "verizon" not in text.iat[0]
    assert "switching" not in text.iat[0]


def test_transform_gives_the_same_topic_texts_without_normalising_twice() -> None:
    rules = KeywordSignals().fit()
    texts = pd.Series(["My parcel never arrived. I'm switching to Verizon!", "Cancel it, now."])
    column = rules.transform(texts, topic_texts=True)["topic_text"]
    assert column.tolist() == rules.topic_texts(texts).tolist()
    assert "topic_text" not in rules.transform(texts).columns
