"""Tests of the escalation, churn and competitor detectors on a hand-labelled corpus."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.signals.detector_corpus import CORPUS, HOLDOUT, Example, examples

from cximpact.signals.compute import compute_signals
from cximpact.signals.keywords import KeywordSignals, Taxonomy, load_taxonomy
from cximpact.simulate import SimulationConfig, simulate


@pytest.fixture(scope="module")
def signals() -> KeywordSignals:
    return KeywordSignals().fit()


def run(signals: KeywordSignals, *texts: str) -> pd.DataFrame:
    return signals.transform(pd.Series(list(texts)))


def _prf(truth: list[bool], predicted: list[bool]) -> tuple[float, float, float]:
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _naive(rows: list[Example], taxonomy: Taxonomy) -> tuple[list[bool], list[bool]]:
    """Substring baseline: the same phrases without boundaries, negation or exclusions."""

    def plain(phrases: tuple[str, ...]) -> list[str]:
        return [p.replace("*", "").strip() for p in phrases]

    escalation, churn = plain(taxonomy.escalation.phrases), plain(taxonomy.churn.phrases)
    low = [r.text.lower() for r in rows]
    return [any(p in t for p in escalation) for t in low], [any(p in t for p in churn) for t in low]


# -- the corpus itself ----------------------------------------------------------------------


def test_corpus_is_large_varied_and_balanced() -> None:
    rows = examples()
    assert len(rows) >= 200 and len(examples("holdout")) >= 50
    assert len({r.text for r in rows}) == len(rows)
    for flag in ("escalation", "churn"):
        positives = sum(getattr(r, flag) for r in rows)
        assert 40 <= positives <= len(rows) - 100  # many hard negatives besides
    assert sum(bool(r.competitors) for r in rows) >= 30
    assert not {t for t, _ in CORPUS} & {t for t, _ in HOLDOUT}


# -- accuracy on the corpus ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "attribute", "min_precision", "min_recall"),
    [("escalation", "escalation", 0.95, 0.97), ("churn_language", "churn", 0.97, 0.97)],
)
def test_flags_on_corpus(
    signals: KeywordSignals, column: str, attribute: str, min_precision: float, min_recall: float
) -> None:
    rows = examples()
    out = run(signals, *(r.text for r in rows))
    precision, recall, _ = _prf([getattr(r, attribute) for r in rows], list(out[column]))
    assert precision >= min_precision
    assert recall >= min_recall


def test_competitors_on_corpus(signals: KeywordSignals) -> None:
    rows = examples()
    out = run(signals, *(r.text for r in rows))
    wrong = [
        (r.text, r.competitors, found)
        for r, found in zip(rows, out["competitors"], strict=True)
        if r.competitors != found
    ]
    assert len(wrong) <= 2, wrong


@pytest.mark.parametrize("part", ["corpus", "holdout"])
def test_beats_naive_substrings(signals: KeywordSignals, part: str) -> None:
    rows = examples(part)
    out = run(signals, *(r.text for r in rows))
    naive_escalation, naive_churn = _naive(rows, load_taxonomy())
    for attribute, ours, naive in (
        ("escalation", list(out["escalation"]), naive_escalation),
        ("churn", list(out["churn_language"]), naive_churn),
    ):
        truth = [getattr(r, attribute) for r in rows]
        assert _prf(truth, ours)[2] > _prf(truth, naive)[2], attribute


# -- hard cases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escalation", "churn"),
    [
        ("I do not want to cancel, just fix it.", False, False),
        ("I want to cancel my order.", False, False),
        ("I'm not leaving, relax.", False, False),
        ("My account manager promised a discount.", False, False),
        ("I never asked for a supervisor.", False, False),
        ("Can I switch to wifi calling?", False, False),
        ("Cancelled flights aside, all good.", False, False),
        ("Cancel my service today.", False, True),
        ("I'm switching to Verizon.", False, True),
        ("Get me a supervisor.", True, False),
        ("I'm filing a complaint with the FCC and cancelling.", True, True),
    ],
)
def test_hard_cases(signals: KeywordSignals, text: str, escalation: bool, churn: bool) -> None:
    out = run(signals, text)
    assert bool(out.loc[0, "escalation"]) is escalation
    assert bool(out.loc[0, "churn_language"]) is churn


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My son Atticus set it up.", ""),
        ("I want to purchase a phone.", ""),
        ("The whole spectrum of problems.", ""),
        ("I play cricket on Sundays.", ""),
        ("Verizion is cheaper.", "Verizon"),
        ("T-Mo and at and t both offered more.", "T-Mobile,AT&T"),
        ("I'm switching to spectrum.", "Spectrum"),
    ],
)
def test_competitor_boundaries_and_misspellings(
    signals: KeywordSignals, text: str, expected: str
) -> None:
    assert run(signals, text).loc[0, "competitors"] == expected


# -- what matched -----------------------------------------------------------------------------


def test_phrase_columns_show_what_matched(signals: KeywordSignals) -> None:
    out = run(
        signals,
        "Put me through to a SUPERVISOR now.",
        "I don't want to cancel, but I am switching to T-Mobile next week.",
        "I'm not leaving. Where is my refund?",
    )
    assert out.loc[0, "escalation_phrase"] == "supervisor"
    assert out.loc[0, "churn_phrase"] == ""
    assert out.loc[1, "churn_phrase"] == "switching to t-mobile"
    assert out.loc[2, "churn_phrase"] == "" and out.loc[2, "escalation_phrase"] == ""


def test_phrase_columns_agree_with_flags(signals: KeywordSignals) -> None:
    rows = examples()
    out = run(signals, *(r.text for r in rows))
    for flag, phrase in (("escalation", "escalation_phrase"), ("churn_language", "churn_phrase")):
        assert ((out[phrase] != "") == out[flag]).all()
        for text, found in zip(rows, out[phrase], strict=True):
            assert found.lower() in " ".join(text.text.lower().split())


def test_lead_ins_follow_a_custom_competitor_list() -> None:
    base = load_taxonomy()
    custom = base.model_copy(
        update={
            "competitors": (
                base.competitors[0].model_copy(update={"name": "Zorp", "aliases": ("zorp",)}),
            )
        }
    )
    out = (
        KeywordSignals(custom)
        .fit()
        .transform(pd.Series(["switching to zorp", "switching to verizon"]))
    )
    assert list(out["churn_language"]) == [True, False]
    assert out.loc[0, "competitors"] == "Zorp"


def test_compute_signals_carries_the_new_columns() -> None:
    interactions = simulate(SimulationConfig(customers=150, days=60, seed=3)).interactions
    frame = compute_signals(interactions, self_train=False)
    for column in ("sentiment_intensity", "escalation_phrase", "churn_phrase"):
        assert column in frame
    assert ((frame["escalation_phrase"] != "") == frame["escalation"]).all()
    assert ((frame["churn_phrase"] != "") == frame["churn_language"]).all()
    assert frame["sentiment_intensity"].between(0, 1).all()
