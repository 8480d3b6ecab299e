"""Tests of the sentiment signal: rules (:mod:`cximpact.signals.sentiment`) and learned mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.signals.evaluate import evaluate_sentiment
from cximpact.signals.keywords import KeywordSignals, load_taxonomy
from cximpact.signals.learned_sentiment import LearnedSentiment
from cximpact.signals.sentiment import LexiconSentiment, sentiment_labels

AIRLINE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "twitter_us_airline_sentiment.csv"
)

# Customer-service messages a plain lexicon gets wrong; hand-written for these tests.
SERVICE_CASES = [
    ("I've been on hold for two hours and still no refund.", "negative"),
    ("Nobody answered my emails for a week.", "negative"),
    ("My parcel is lost and the tracking hasn't moved since Monday.", "negative"),
    ("Please help, I was charged twice this month.", "negative"),
    ("The order was cancelled without any explanation.", "negative"),
    ("Still waiting for the engineer, third day now.", "negative"),
    ("Thanks for nothing.", "negative"),
    ("Can you tell me what time the store opens?", "neutral"),
    ("How do I add a second line to my plan?", "neutral"),
    ("Please update my address to 12 Oak Street.", "neutral"),
    ("Is there a student discount?", "neutral"),
    ("What is included in the premium plan?", "neutral"),
    ("Thank you so much, the agent sorted it in minutes!", "positive"),
    ("Great service today, really appreciate the quick fix.", "positive"),
    ("Kudos to Maria, she was brilliant.", "positive"),
    ("Love the new app, much easier to use.", "positive"),
    ("Thanks, that worked :)", "positive"),
]


@pytest.fixture(scope="module")
def scorer() -> LexiconSentiment:
    return LexiconSentiment().fit()


def score(scorer: LexiconSentiment, *texts: str) -> pd.DataFrame:
    return scorer.transform(pd.Series(list(texts)))


# -- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "label"), SERVICE_CASES)
def test_customer_service_cases(scorer: LexiconSentiment, text: str, label: str) -> None:
    assert score(scorer, text).loc[0, "sentiment_label"] == label


def test_beats_vader_on_service_cases(scorer: LexiconSentiment) -> None:
    """VADER reads "please help" as praise and misses waiting and lost parcels."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    texts = [t for t, _ in SERVICE_CASES]
    truth = [label for _, label in SERVICE_CASES]
    analyzer = SentimentIntensityAnalyzer()
    vader = np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
    vader_f1 = f1_score(truth, sentiment_labels(vader, -0.05, 0.05), average="macro")
    ours_f1 = f1_score(truth, score(scorer, *texts)["sentiment_label"], average="macro")
    assert ours_f1 >= vader_f1 + 0.2


def test_negation_flips_and_never_so_stays(scorer: LexiconSentiment) -> None:
    out = score(
        scorer,
        "I am happy with it.",
        "I am not happy with it.",
        "It was not bad at all.",
        "I have never been so disappointed.",
    )["sentiment"]
    assert out.iloc[0] > 0 > out.iloc[1]
    assert out.iloc[2] > 0
    assert out.iloc[3] < 0


def test_intensity_grows_with_boosters_caps_and_exclamations(scorer: LexiconSentiment) -> None:
    good = score(scorer, "good", "very good", "very good!!!", "VERY good!!!")["sentiment"]
    assert 0 < good.iloc[0] < good.iloc[1] < good.iloc[2] < good.iloc[3] < 1
    bad = score(scorer, "bad", "extremely bad")["sentiment"]
    assert 0 > bad.iloc[0] > bad.iloc[1] > -1


def test_mixed_text_is_intense_but_balanced(scorer: LexiconSentiment) -> None:
    out = score(
        scorer,
        "The agent was wonderful but the wait was horrible.",
        "My address is 12 Oak Street.",
    )
    assert out.loc[0, "sentiment_intensity"] > 0.5
    assert abs(out.loc[0, "sentiment"]) < out.loc[0, "sentiment_intensity"]
    assert out.loc[1, "sentiment_intensity"] == 0 and out.loc[1, "sentiment"] == 0


def test_but_weighs_the_second_half(scorer: LexiconSentiment) -> None:
    out = score(scorer, "Good price but awful service.", "Awful service but good price.")
    assert out.loc[0, "sentiment"] < 0 < out.loc[1, "sentiment"]


def test_emoji_count(scorer: LexiconSentiment) -> None:
    out = score(scorer, "my flight \U0001f621", "my flight \U0001f60d", "my flight")
    assert out.loc[0, "sentiment"] < 0 < out.loc[1, "sentiment"]
    assert out.loc[2, "sentiment"] == 0


def test_requests_are_pulled_to_neutral(scorer: LexiconSentiment) -> None:
    out = score(scorer, "Can you help me with a nice upgrade?", "a nice upgrade")["sentiment"]
    assert 0 <= out.iloc[0] < out.iloc[1]


def test_output_contract(scorer: LexiconSentiment) -> None:
    texts = pd.Series(
        ["Great!", None, "", "awful awful awful!!!", "caf\u00e9 \u2014 ok"], index=[5, 6, 7, 8, 9]
    )
    out = scorer.transform(texts)
    assert list(out.columns) == ["sentiment", "sentiment_label", "sentiment_intensity"]
    assert out.index.equals(texts.index)
    assert out["sentiment"].between(-1, 1).all()
    assert out["sentiment_intensity"].between(0, 1).all()
    assert set(out["sentiment_label"]) <= {"negative", "neutral", "positive"}
    assert out.loc[6, "sentiment"] == 0 and out.loc[7, "sentiment_label"] == "neutral"
    assert list(scorer.predict(texts)) == list(out["sentiment_label"])


def test_empty_series(scorer: LexiconSentiment) -> None:
    out = scorer.transform(pd.Series([], dtype=object))
    assert len(out) == 0 and "sentiment_intensity" in out


def test_errors() -> None:
    with pytest.raises(NotFittedError, match="fit"):
        LexiconSentiment().transform(pd.Series(["hi"]))
    with pytest.raises(ContractError, match="pandas Series"):
        LexiconSentiment().fit().transform(["hi"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="thresholds"):
        LexiconSentiment(negative_threshold=0.5, positive_threshold=0.1).fit()


def test_thresholds_are_parameters() -> None:
    loose = LexiconSentiment(positive_threshold=0.01).fit()
    strict = LexiconSentiment(positive_threshold=0.99).fit()
    text = pd.Series(["it was ok, fine I guess, good"])
    assert loose.transform(text).loc[0, "sentiment_label"] == "positive"
    assert strict.transform(text).loc[0, "sentiment_label"] == "neutral"


def test_taxonomy_lists_drive_the_rules(tmp_path: Path) -> None:
    base = load_taxonomy()
    sentiment = base.sentiment.model_copy(
        update={"complaint": ("boop",), "neutral": ("lovely",), "praise": ("zing",)}
    )
    custom = base.model_copy(update={"sentiment": sentiment})
    out = LexiconSentiment(custom).fit().transform(pd.Series(["boop", "lovely", "zing"]))
    assert out.loc[0, "sentiment"] < 0
    assert out.loc[1, "sentiment"] == 0  # VADER's "lovely" neutralised
    assert out.loc[2, "sentiment"] > 0


def test_keyword_signals_use_the_same_scorer(scorer: LexiconSentiment) -> None:
    texts = pd.Series([t for t, _ in SERVICE_CASES])
    ours = scorer.transform(texts)
    signals = KeywordSignals().fit().transform(texts)
    np.testing.assert_allclose(signals["sentiment"], ours["sentiment"])
    np.testing.assert_allclose(signals["sentiment_intensity"], ours["sentiment_intensity"])
    assert list(signals["sentiment_label"]) == list(ours["sentiment_label"])


@pytest.mark.skipif(not AIRLINE.exists(), reason="../shared airline tweets not available")
def test_airline_held_out_beats_vader_by_a_tenth(scorer: LexiconSentiment) -> None:
    """Held-out 70 % of the airline tweets (split of benchmarks/bench_sentiment.py)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    frame = pd.read_csv(AIRLINE, usecols=["text", "airline_sentiment"], dtype=str)
    order = np.random.default_rng(20261129).permutation(len(frame))
    held = frame.iloc[order[int(0.3 * len(frame)) :]]
    truth = held["airline_sentiment"].to_numpy()
    ours = scorer.predict(pd.Series(held["text"].to_numpy(dtype=object)))
    analyzer = SentimentIntensityAnalyzer()
    vader = np.array([analyzer.polarity_scores(t)["compound"] for t in held["text"]])
    vader_f1 = f1_score(truth, sentiment_labels(vader, -0.05, 0.05), average="macro")
    assert f1_score(truth, ours, average="macro") >= vader_f1 + 0.10


# -- learned mode -----------------------------------------------------------------------------


def _labelled(n_copies: int = 6) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for copy in range(n_copies):
        for text, label in SERVICE_CASES:
            texts.append(f"{text} #{copy}")
            labels.append(label)
    return texts, labels


def test_learned_fits_and_predicts() -> None:
    texts, labels = _labelled()
    model = LearnedSentiment().fit(texts, labels)
    assert set(model.classes_) == {"negative", "neutral", "positive"}
    assert float(np.mean(model.predict(texts) == np.array(labels))) > 0.9
    out = model.transform(pd.Series(["still no refund after hours on hold"], index=[3]))
    assert out.loc[3, "sentiment_label"] == "negative"
    assert -1 <= out.loc[3, "sentiment"] < 0 <= out.loc[3, "sentiment_intensity"] <= 1
    assert len(model.transform(pd.Series([], dtype=object))) == 0


def test_learned_errors() -> None:
    with pytest.raises(NotFittedError):
        LearnedSentiment().predict(["x"])
    with pytest.raises(ContractError, match="two sentiment labels"):
        LearnedSentiment().fit(["a", "b"], ["positive", "positive"])
    with pytest.raises(ContractError, match="must be"):
        LearnedSentiment().fit(["a", "b"], ["positive", "happy"])
    with pytest.raises(ContractError, match="labels"):
        LearnedSentiment().fit(["a", "b"], ["positive"])


def test_evaluate_sentiment_with_train(tmp_path: Path) -> None:
    texts, labels = _labelled()
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    pd.DataFrame({"msg": texts, "y": labels}).to_csv(train, index=False)
    pd.DataFrame({"msg": [t for t, _ in SERVICE_CASES], "y": [y for _, y in SERVICE_CASES]}).to_csv(
        test, index=False
    )
    learned = evaluate_sentiment(test, text_column="msg", label_column="y", train=train)
    assert set(learned) == {"accuracy", "macro_f1", "texts_per_second", "n", "n_train"}
    assert learned["n_train"] == len(texts) and learned["n"] == len(SERVICE_CASES)
    assert learned["accuracy"] > 0.8
    rules = evaluate_sentiment(test, text_column="msg", label_column="y")
    assert "n_train" not in rules and rules["accuracy"] == 1.0
