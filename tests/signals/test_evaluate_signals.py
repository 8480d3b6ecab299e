"""Tests for :mod:`cximpact.signals.evaluate` (topic and sentiment evaluation)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.signals.topic_corpus import OPENERS, OUT_OF_SCOPE, TOPIC_METRICS, TOPICS, split_rows

from cximpact.errors import ContractError
from cximpact.signals.evaluate import evaluate_sentiment, evaluate_topics, normalise_sentiment
from cximpact.signals.keywords import KeywordSignals, load_taxonomy

_TOPICS = {t: TOPICS[t] for t in ("card_arrival", "refund", "password_reset")}


def _topic_files(tmp_path: Path) -> tuple[Path, Path]:
    """Write train (first three phrasings) / test (last three) CSVs with out-of-scope rows."""
    train, test = split_rows(_TOPICS, 3)
    train += [(text, "oos") for text in OUT_OF_SCOPE[:2]]
    test += [(text, "oos") for text in OUT_OF_SCOPE[2:]]
    train_path, test_path = tmp_path / "train.csv", tmp_path / "test.csv"
    pd.DataFrame(train, columns=["utterance", "intent"]).to_csv(train_path, index=False)
    pd.DataFrame(test, columns=["utterance", "intent"]).to_csv(test_path, index=False)
    return train_path, test_path


def test_evaluate_topics_with_oos_label(tmp_path: Path) -> None:
    train, test = _topic_files(tmp_path)
    result = evaluate_topics(
        train, test, text_column="utterance", label_column="intent", oos_label="oos"
    )
    assert set(result) == TOPIC_METRICS
    assert result["n_train"] == 3 * 3 * len(OPENERS)  # out-of-scope rows are not trained on
    assert result["n_test"] == 3 * 3 * len(OPENERS) + 3
    assert isinstance(result["accuracy"], float)
    assert 0.7 <= result["accuracy"] <= 1.0
    assert isinstance(result["macro_f1"], float)
    assert 0.7 <= result["macro_f1"] <= 1.0
    assert result["oos_precision"] is not None
    assert result["oos_recall"] is not None
    assert 0.0 <= result["oos_precision"] <= 1.0
    assert 0.0 < result["oos_recall"] <= 1.0
    assert isinstance(result["texts_per_second"], float)
    assert result["texts_per_second"] > 0


def test_evaluate_topics_without_oos_label_gives_null_oos_metrics(tmp_path: Path) -> None:
    train, test = _topic_files(tmp_path)
    # Without oos_label the "oos" rows are a topic like any other.
    result = evaluate_topics(train, test, text_column="utterance", label_column="intent")
    assert result["oos_precision"] is None
    assert result["oos_recall"] is None
    assert result["n_train"] == 3 * 3 * len(OPENERS) + 2


def test_evaluate_topics_oos_label_absent_from_test_gives_null(tmp_path: Path) -> None:
    train, test = _topic_files(tmp_path)
    frame = pd.read_csv(test)
    frame[frame["intent"] != "oos"].to_csv(test, index=False)
    result = evaluate_topics(
        train, test, text_column="utterance", label_column="intent", oos_label="oos"
    )
    assert result["oos_precision"] is None
    assert result["oos_recall"] is None


def test_evaluate_topics_perfect_and_wrong_labels_move_accuracy(tmp_path: Path) -> None:
    train, _ = _topic_files(tmp_path)
    good = evaluate_topics(train, train, text_column="utterance", label_column="intent")
    frame = pd.read_csv(train)
    frame["intent"] = frame["intent"].map(
        {"card_arrival": "refund", "refund": "password_reset", "password_reset": "card_arrival"}
    )
    shuffled = tmp_path / "wrong.csv"
    frame.dropna().to_csv(shuffled, index=False)
    bad = evaluate_topics(train, shuffled, text_column="utterance", label_column="intent")
    assert good["accuracy"] == pytest.approx(1.0)
    assert bad["accuracy"] == pytest.approx(0.0)


def test_evaluate_topics_missing_column(tmp_path: Path) -> None:
    train, test = _topic_files(tmp_path)
    with pytest.raises(ContractError, match=r"no column\(s\) 'label'.*utterance"):
        evaluate_topics(train, test, text_column="utterance")


def test_evaluate_topics_header_only_file(tmp_path: Path) -> None:
    train, _ = _topic_files(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("utterance,intent\n")
    with pytest.raises(ContractError, match="no rows"):
        evaluate_topics(train, empty, text_column="utterance", label_column="intent")


def test_evaluate_topics_zero_byte_file(tmp_path: Path) -> None:
    train, _ = _topic_files(tmp_path)
    empty = tmp_path / "zero.csv"
    empty.write_bytes(b"")
    with pytest.raises(ContractError):  # FileFormatError derives from ContractError
        evaluate_topics(empty, train, text_column="utterance", label_column="intent")


def test_evaluate_topics_single_class(tmp_path: Path) -> None:
    train, test = _topic_files(tmp_path)
    frame = pd.read_csv(train)
    frame["intent"] = frame["intent"].where(frame["intent"] == "oos", "refund")
    frame.to_csv(train, index=False)
    with pytest.raises(ContractError, match=r"at least two topics.*Fix"):
        evaluate_topics(
            train, test, text_column="utterance", label_column="intent", oos_label="oos"
        )


_SENTIMENT_ROWS = [
    ("I love this airline, great service and friendly crew", "positive"),
    ("Thank you so much, amazing flight", "positive"),
    ("Excellent support, very happy", "positive"),
    ("Terrible experience, the worst customer service ever", "negative"),
    ("My bag was lost and nobody helped, awful", "negative"),
    ("Flight delayed again, so frustrating and disappointing", "negative"),
    ("What time does the gate open", "neutral"),
    ("Flight 123 departs from terminal 2", "neutral"),
    ("Is there wifi on board", "neutral"),
]


def _sentiment_file(tmp_path: Path, labels: list[str]) -> Path:
    path = tmp_path / "sentiment.csv"
    texts = [text for text, _ in _SENTIMENT_ROWS]
    pd.DataFrame({"tweet": texts, "mood": labels}).to_csv(path, index=False)
    return path


def test_evaluate_sentiment_matches_lexicon(tmp_path: Path) -> None:
    labels = [label for _, label in _SENTIMENT_ROWS]
    path = _sentiment_file(tmp_path, labels)
    result = evaluate_sentiment(path, text_column="tweet", label_column="mood")
    assert set(result) == {"accuracy", "macro_f1", "texts_per_second", "n"}
    assert result["n"] == len(_SENTIMENT_ROWS)
    texts = pd.Series([text for text, _ in _SENTIMENT_ROWS], dtype="str")
    predicted = KeywordSignals(load_taxonomy()).fit().transform(texts)["sentiment_label"]
    expected = sum(p == t for p, t in zip(predicted, labels, strict=True)) / len(labels)
    assert result["accuracy"] == pytest.approx(round(expected, 4))
    assert result["accuracy"] >= 2 / 3  # the lexicon gets clear-cut texts mostly right
    assert 0.0 < result["macro_f1"] <= 1.0


def test_evaluate_sentiment_label_spellings_are_equivalent(tmp_path: Path) -> None:
    canonical = [label for _, label in _SENTIMENT_ROWS]
    base = evaluate_sentiment(
        _sentiment_file(tmp_path, canonical), text_column="tweet", label_column="mood"
    )
    variants = {"positive": ["POS", "1", "Positive"], "negative": ["neg", "-1", "NEGATIVE"]}
    variants["neutral"] = ["Neu", "0", " neutral "]
    counters = dict.fromkeys(variants, 0)
    spelled = []
    for label in canonical:
        spelled.append(variants[label][counters[label]])
        counters[label] += 1
    other = evaluate_sentiment(
        _sentiment_file(tmp_path, spelled), text_column="tweet", label_column="mood"
    )
    assert other["accuracy"] == base["accuracy"]
    assert other["macro_f1"] == base["macro_f1"]


def test_evaluate_sentiment_unknown_labels_are_listed(tmp_path: Path) -> None:
    labels = [label for _, label in _SENTIMENT_ROWS]
    labels[0], labels[4] = "happy-ish", "4"
    path = _sentiment_file(tmp_path, labels)
    with pytest.raises(ContractError, match=r"2 sentiment label.*'happy-ish', '4'.*Fix"):
        evaluate_sentiment(path, text_column="tweet", label_column="mood")


def test_evaluate_sentiment_missing_column(tmp_path: Path) -> None:
    path = _sentiment_file(tmp_path, [label for _, label in _SENTIMENT_ROWS])
    with pytest.raises(ContractError, match=r"'text'.*'tweet'"):
        evaluate_sentiment(path, text_column="text", label_column="mood")


def test_normalise_sentiment_blank_label() -> None:
    with pytest.raises(ContractError, match=r"\(blank\)"):
        normalise_sentiment(pd.Series(["positive", ""]))
    assert list(normalise_sentiment(pd.Series(["+1", "-1.0", "NEU"]))) == [
        "positive",
        "negative",
        "neutral",
    ]
