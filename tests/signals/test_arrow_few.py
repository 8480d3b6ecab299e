"""The few-texts regex path (Python's re) finds what pyarrow's RE2 finds, pattern by pattern."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cximpact.signals._arrow import (
    FEW,
    contains_match,
    contains_match_few,
    first_match_few,
    replace_matches,
    replace_matches_few,
)
from cximpact.signals.keywords import KeywordSignals, _normalise, load_taxonomy
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


def _patterns() -> list[re.Pattern[str]]:
    model = KeywordSignals(load_taxonomy()).fit()
    found = [
        model.escalation_pattern_,
        model.escalation_negated_pattern_,
        model.churn_pattern_,
        model.churn_negated_pattern_,
        model.competitor_any_pattern_,
        *model.competitor_patterns_.values(),
    ]
    found += [p for p in (model.escalation_exclusion_pattern_, model.churn_exclusion_pattern_) if p]
    return found


def _chunks(text: pd.Series) -> list[pd.Series]:
    return [text.iloc[i : i + FEW] for i in range(0, len(text), FEW)]


@pytest.mark.parametrize("index", range(len(_patterns())))
def test_few_texts_match_as_pyarrow_does(lower: pd.Series, index: int) -> None:
    pattern = _patterns()[index]
    assert len(lower) > 3 * FEW
    for chunk in _chunks(lower):
        expected = replace_matches(chunk, pattern.pattern, " ")
        got = replace_matches_few(chunk, pattern, " ")
        assert got.tolist() == expected.tolist()
        assert got.index.equals(chunk.index)
        np.testing.assert_array_equal(
            contains_match_few(chunk, pattern), contains_match(chunk, pattern.pattern)
        )
        # more than FEW texts: pyarrow's extract, so the two paths are compared here
        np.testing.assert_array_equal(
            first_match_few(chunk, pattern),
            first_match_few(pd.concat([chunk] * 2), pattern)[: len(chunk)],
        )


def test_some_texts_raise_each_flag(lower: pd.Series) -> None:
    """The comparison above is not vacuous: the patterns do match and get replaced."""
    model = KeywordSignals(load_taxonomy()).fit()
    for pattern in (model.escalation_negated_pattern_, model.churn_negated_pattern_):
        assert contains_match(lower, pattern.pattern).sum() > 5
    found = [first_match_few(chunk, model.churn_pattern_) for chunk in _chunks(lower)]
    assert sum(int((f != "").sum()) for f in found) > 5


def test_missing_texts_are_empty() -> None:
    pattern = re.compile(r"\bcancel\w*")
    text = pd.Series(["cancel it", None, "nothing"], dtype="string[pyarrow]")
    assert replace_matches_few(text, pattern, " ").tolist() == ["  it", "", "nothing"]
    assert contains_match_few(text, pattern).tolist() == [True, False, False]
    assert first_match_few(text, pattern).tolist() == ["cancel", "", ""]
