"""The few-texts regex path (RE2 compiled once, text by text) finds what pyarrow's vectorised
RE2 finds, pattern by pattern, for every pattern the built-in taxonomy generates."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cximpact.signals import _arrow
from cximpact.signals._arrow import (
    FEW,
    contains_match,
    count_matches,
    first_match,
    replace_matches,
)
from cximpact.signals.keywords import KeywordSignals, _normalise, load_taxonomy
from cximpact.signals.sentiment import _NEGATIVE_EMOJI, _POSITIVE_EMOJI
from cximpact.simulate import SimulationConfig, simulate

HANDMADE = [
    "I do NOT want to cancel, but I'll switch to Verizon!!",
    "no intention of leaving to t-mobile, I want a manager",
    "cancel my order please; get me your supervisor now",
    "Not going to escalate. won't be switching to another provider or cancel",
    "I'm not going to cancel my account or switch to at&t, just want my refund",
    "never cancelling... actually I will cancel and go to comcast",
    "",
    "speak to a manager speak to a manager speak to a manager",
    "caf\u00e9 \u2014 great \U0001f600 \U0001f621 service?! \u201cquoted\u201d",
]


@pytest.fixture(scope="module")
def lower() -> pd.Series:
    """Normalised lower-case texts: simulated ones, handmade flag look-alikes, the flags' own
    phrases with a negator before them."""
    model = KeywordSignals(load_taxonomy()).fit()
    taxonomy = model.taxonomy or load_taxonomy()
    texts = simulate(SimulationConfig(customers=1500, days=60, seed=3)).interactions["text"]
    phrases = [*taxonomy.escalation.phrases, *taxonomy.churn.phrases]
    negated = [f"i do not {p.replace('*', 'x')} at all" for p in phrases]
    raw = pd.Series([*texts.astype(str), *HANDMADE, *negated, *phrases], dtype=object)
    return _normalise(raw)[1]


def _patterns() -> list[str]:
    """Every pattern the keyword signals run, as sources."""
    model = KeywordSignals(load_taxonomy()).fit()
    found = [
        model.escalation_pattern_,
        model.escalation_negated_pattern_,
        model.churn_pattern_,
        model.churn_negated_pattern_,
        model.competitor_any_pattern_,
        *model.competitor_patterns_.values(),
        *(p for p in model.topic_phrase_patterns_.values() if p is not None),
        *(p for p in model.topic_word_patterns_.values() if p is not None),
    ]
    found += [p for p in (model.escalation_exclusion_pattern_, model.churn_exclusion_pattern_) if p]
    found += [model.phrase_span_pattern_] if model.phrase_span_pattern_ is not None else []
    sentiment = model.sentiment_
    cues = [cue for cue, _ in sentiment.cue_patterns_]
    cues += [p for p in (sentiment.request_pattern_, sentiment.complaint_pattern_) if p]
    return [p.pattern for p in found] + cues + [_POSITIVE_EMOJI, _NEGATIVE_EMOJI, "!", r"\?"]


def _chunks(text: pd.Series) -> list[pd.Series]:
    return [text.iloc[i : i + FEW] for i in range(0, len(text), FEW)]


def _both(monkeypatch: pytest.MonkeyPatch, text: pd.Series, pattern: str) -> list[tuple[Any, ...]]:
    """Every function's answer through RE2 compiled once, then through pyarrow."""
    answers = []
    for few, long in ((len(text), 0), (0, 0)):  # every pattern compiled once; then none
        with monkeypatch.context() as engine:
            engine.setattr(_arrow, "FEW", few)
            engine.setattr(_arrow, "LONG", long)
            answers.append(
                (
                    replace_matches(text, pattern, " "),
                    contains_match(text, pattern),
                    count_matches(text, pattern),
                    first_match(text, pattern),
                )
            )
    return answers


@pytest.mark.parametrize("index", range(len(_patterns())))
def test_few_texts_match_as_pyarrow_does(
    lower: pd.Series, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pattern = _patterns()[index]
    assert len(lower) > 3 * FEW
    for chunk in _chunks(lower):
        few, many = _both(monkeypatch, chunk, pattern)
        assert few[0].tolist() == many[0].tolist()
        assert few[0].index.equals(chunk.index) and many[0].index.equals(chunk.index)
        for got, expected in zip(few[1:], many[1:], strict=True):
            np.testing.assert_array_equal(got, expected)


def test_some_texts_raise_each_flag(lower: pd.Series) -> None:
    """The comparison above is not vacuous: the patterns do match and get replaced."""
    model = KeywordSignals(load_taxonomy()).fit()
    for pattern in (model.escalation_negated_pattern_, model.churn_negated_pattern_):
        assert contains_match(lower, pattern).sum() > 5
    found = [first_match(chunk, model.churn_pattern_) for chunk in _chunks(lower)]
    assert sum(int((f != "").sum()) for f in found) > 5
    billing = model.topic_word_patterns_["billing_error"]
    assert billing is not None
    assert sum(int(count_matches(c, billing).sum()) for c in _chunks(lower)) > 5


def test_missing_texts_are_empty() -> None:
    pattern = re.compile(r"\bcancel\w*")
    text = pd.Series(["cancel it", None, "nothing"], dtype="string[pyarrow]")
    assert replace_matches(text, pattern, " ").tolist() == ["  it", "", "nothing"]
    assert contains_match(text, pattern).tolist() == [True, False, False]
    assert count_matches(text, pattern).tolist() == [1.0, 0.0, 0.0]
    assert first_match(text, pattern).tolist() == ["cancel", "", ""]


def test_a_replacement_with_group_references_is_refused() -> None:
    with pytest.raises(ValueError, match="literal"):
        replace_matches(pd.Series(["a"]), "a", r"\1")


@pytest.mark.parametrize("pattern", [_POSITIVE_EMOJI, _NEGATIVE_EMOJI, "!", r"\?", r"\bcaf\w*"])
def test_raw_unicode_texts_match_as_pyarrow_does(
    pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = pd.Series(HANDMADE * 3 + ["\U0001f600\U0001f600 \U0001f621!!", None], dtype="str")
    few, many = _both(monkeypatch, raw, pattern)
    assert few[0].tolist() == many[0].tolist()
    for got, expected in zip(few[1:], many[1:], strict=True):
        np.testing.assert_array_equal(got, expected)
    assert pattern == r"\?" or few[2].sum() > 0


def test_few_texts_of_a_long_pattern_take_the_compiled_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Which engine runs (the equality above holds either way, so check the choice itself)."""
    long_pattern = "(?:" + "|".join(f"word{i}" for i in range(60)) + ")"
    assert len(long_pattern) >= _arrow.LONG
    calls: list[str] = []
    monkeypatch.setattr(
        _arrow, "compiled", lambda source: calls.append(source) or re.compile(source)
    )
    text = pd.Series(["word7 and word59", "none"])
    assert count_matches(text, long_pattern).tolist() == [2.0, 0.0]
    assert count_matches(text, "word7").tolist() == [1.0, 0.0]  # short: pyarrow
    assert count_matches(pd.concat([text] * FEW), long_pattern).sum() == 2 * FEW  # many
    assert calls == [long_pattern]
