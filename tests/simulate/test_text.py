"""Tests of the simulated customer messages."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import ContractError
from cximpact.signals.keywords import KeywordSignals, load_taxonomy
from cximpact.simulate import text
from cximpact.simulate.text import (
    COMPETITORS,
    HARMFUL_CANDIDATES,
    HARMLESS_CANDIDATES,
    OTHER,
    ROOT_CAUSES,
    render_texts,
)

CHANNELS = np.array(["chat", "email", "call", "ticket"])

EMAIL = re.compile(r"[a-z0-9._]+@[a-z0-9]+\.(?:com|net|org)")
PHONE = re.compile(r"(?:\+1 )?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b")
CARD = re.compile(r"\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
IBAN = re.compile(r"\b(?:gb|de)\d{2}(?: ?[a-z0-9]{4}){3,4}(?: ?[a-z0-9]{1,4})?\b")


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def normalise(value: str) -> str:
    return " ".join(re.sub(r"[.,!?;]", " ", value.lower()).split())


def render(
    n: int,
    seed: int = 0,
    *,
    topic: str | None = None,
    second: float = 0.0,
    competitor: float = 0.0,
    escalation: float = 0.0,
    churn: float = 0.0,
    pii: float = 0.0,
) -> tuple[list[str], dict[str, np.ndarray]]:
    plan = np.random.default_rng(seed + 1000)
    inputs = {
        "topic": np.full(n, topic) if topic else plan.choice(np.array(ROOT_CAUSES), n),
        "second_topic": np.where(
            plan.random(n) < second, plan.choice(np.array(ROOT_CAUSES), n), ""
        ),
        "competitor": plan.random(n) < competitor,
        "escalation": plan.random(n) < escalation,
        "churn_language": plan.random(n) < churn,
        "pii": plan.random(n) < pii,
        "channel": plan.choice(CHANNELS, n),
    }
    texts = render_texts(**inputs, rng=np.random.default_rng(seed))
    return texts, inputs


def test_constants_match_the_shared_topics() -> None:
    assert set(ROOT_CAUSES) == set(load_taxonomy().topic_ids)
    assert set(HARMFUL_CANDIDATES) == set(load_taxonomy().harmful_topics)
    assert set(HARMLESS_CANDIDATES) == {"address_update", "plan_question", "payment_method_update"}
    assert set(COMPETITORS) <= {c.name for c in load_taxonomy().competitors}


def test_one_string_per_row() -> None:
    texts, _ = render(500, second=0.3, competitor=0.2, escalation=0.2, churn=0.2, pii=0.2)
    assert len(texts) == 500
    assert all(isinstance(t, str) and len(t) > 10 for t in texts)
    assert not any("{" in t or "}" in t for t in texts)  # every slot filled


def test_deterministic_for_a_given_generator_state() -> None:
    first, _ = render(300, seed=5, second=0.3, competitor=0.3, pii=0.3)
    again, _ = render(300, seed=5, second=0.3, competitor=0.3, pii=0.3)
    other, _ = render(300, seed=6, second=0.3, competitor=0.3, pii=0.3)
    assert first == again
    assert first != other


def test_takes_exactly_one_draw_from_the_callers_generator() -> None:
    rng = np.random.default_rng(11)
    render_texts(
        np.array(["billing_error"] * 50),
        np.array([""] * 50),
        np.ones(50, dtype=bool),
        np.ones(50, dtype=bool),
        np.ones(50, dtype=bool),
        np.ones(50, dtype=bool),
        np.array(["chat"] * 50),
        rng,
    )
    reference = np.random.default_rng(11)
    reference.integers(0, 2**63 - 1)
    assert rng.random() == reference.random()


def test_pii_present_exactly_when_flagged() -> None:
    texts, inputs = render(2000, pii=0.5)
    for t, flagged in zip(texts, inputs["pii"], strict=True):
        low = t.lower()
        ibans = [i for i in IBAN.findall(low) if iban_ok(i)]
        cards = [c for c in CARD.findall(IBAN.sub(" ", low)) if luhn_ok(c)]
        found = bool(EMAIL.search(low) or PHONE.search(low) or cards or SSN.search(low) or ibans)
        assert found is bool(flagged), t


def test_pii_covers_every_kind_and_is_valid() -> None:
    texts, _ = render(3000, pii=1.0)
    joined = "\n".join(texts).lower()
    ibans = IBAN.findall(joined)
    cards = CARD.findall(IBAN.sub(" ", joined))
    assert EMAIL.search(joined) and PHONE.search(joined) and SSN.search(joined)
    assert cards and all(luhn_ok(c) for c in cards)
    assert ibans and all(iban_ok(i) for i in ibans)
    assert all(not s.startswith(("000", "666", "9")) for s in SSN.findall(joined))


def test_competitor_mentioned_when_flagged() -> None:
    texts, inputs = render(2000, competitor=0.5)
    found = KeywordSignals().fit().transform(pd.Series(texts))["competitors"] != ""
    flagged = inputs["competitor"]
    assert found[flagged].mean() > 0.97  # a rare typo may break a name
    assert not found[~flagged].any()
    forms = {f.lower() for f in ("tmobile", "t mobile", "att", "AT and T", "VZW", "Comcast")}
    joined = "\n".join(texts).lower()
    assert sum(form in joined for form in forms) >= 4  # varied written forms


def test_escalation_and_churn_sentences_present_when_flagged() -> None:
    texts, inputs = render(3000, escalation=0.4, churn=0.4, competitor=0.3)
    escalation_openers = {normalise(s.split("{")[0])[:20] for s in text._ESCALATION}
    churn_openers = {
        normalise(s.split("{")[0])[:20]
        for s in (*text._CHURN, *text._CHURN_WITH_COMPETITOR)
        if normalise(s.split("{")[0])
    } | {"is getting my business"}
    for flags, openers in (
        (inputs["escalation"], escalation_openers),
        (inputs["churn_language"], churn_openers),
    ):
        hits = np.array([any(o in normalise(t) for o in openers) for t in texts])
        assert hits[flags].mean() > 0.95
        assert hits[~flags].mean() < 0.02


def test_negated_decoys_only_on_unflagged_rows() -> None:
    texts, inputs = render(4000, churn=0.5)
    decoys = {normalise(s)[:25] for s in text._CHURN_DECOY}
    has_decoy = np.array([any(d in normalise(t) for d in decoys) for t in texts])
    churn = inputs["churn_language"]
    assert not has_decoy[churn].any()
    assert 0.05 < has_decoy[~churn].mean() < 0.15


def test_second_topic_is_mentioned() -> None:
    texts, inputs = render(1000, second=1.0)
    prefixes = tuple(normalise(p) for p in text._SECOND_PREFIX)
    differs = inputs["second_topic"] != inputs["topic"]
    mentioned = np.array([any(f" {p} " in f" {normalise(t)} " for p in prefixes) for t in texts])
    assert mentioned[differs].mean() > 0.97


def test_channel_styles() -> None:
    texts, inputs = render(1000)
    channel = inputs["channel"]
    emails = [t for t, c in zip(texts, channel, strict=True) if c == "email"]
    calls = [t for t, c in zip(texts, channel, strict=True) if c == "call"]
    chats = [t for t, c in zip(texts, channel, strict=True) if c == "chat"]
    assert all(t.startswith("Subject: ") for t in emails)
    assert all(t.lower().startswith("agent: ") and "\ncustomer: " in t.lower() for t in calls)
    assert not any("Subject:" in t or "agent:" in t.lower() for t in chats)
    assert any(t == t.lower() for t in chats) and any(t != t.lower() for t in chats)


@pytest.mark.parametrize("topic", [*ROOT_CAUSES, OTHER])
def test_many_distinct_phrasings_per_topic(topic: str) -> None:
    assert len(text._CORE[topic]) >= 15
    texts, _ = render(400, topic=topic)
    assert len(set(texts)) >= 390
    openings = {normalise(t)[:40] for t in texts}
    assert len(openings) >= 60


def test_a_few_texts_get_one_typo(monkeypatch: pytest.MonkeyPatch) -> None:
    texts, _ = render(4000)
    monkeypatch.setattr(text, "TYPO_RATE", 0.0)
    clean, _ = render(4000)
    changed = [(a, b) for a, b in zip(texts, clean, strict=True) if a != b]
    assert 0.02 < len(changed) / len(texts) < 0.06
    for typo, original in changed:
        typo_words, original_words = typo.split(" "), original.split(" ")
        assert len(typo_words) == len(original_words)
        diff = [(x, y) for x, y in zip(typo_words, original_words, strict=True) if x != y]
        assert len(diff) == 1
        bad, good = diff[0]
        assert len(bad) == len(good) - 1 or sorted(bad) == sorted(good)  # drop or swap


def test_keyword_classifier_is_good_but_not_perfect() -> None:
    texts, inputs = render(6000, competitor=0.15, escalation=0.1, churn=0.15, pii=0.2)
    predicted = KeywordSignals().fit().transform(pd.Series(texts))["root_cause"].to_numpy()
    accuracy = float(np.mean(predicted == inputs["topic"]))
    assert 0.72 <= accuracy <= 0.92, accuracy


def test_unknown_topic_raises() -> None:
    with pytest.raises(ContractError, match="unknown topic"):
        render_texts(
            np.array(["billing_eror"]),
            np.array([""]),
            np.array([False]),
            np.array([False]),
            np.array([False]),
            np.array([False]),
            np.array(["chat"]),
            np.random.default_rng(0),
        )


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ContractError, match="length 2"):
        render_texts(
            np.array(["billing_error", "long_wait"]),
            np.array([""]),
            np.array([False, False]),
            np.array([False, False]),
            np.array([False, False]),
            np.array([False, False]),
            np.array(["chat", "email"]),
            np.random.default_rng(0),
        )


def test_missing_second_topic_and_unknown_channel_are_tolerated() -> None:
    texts = render_texts(
        np.array(["billing_error", "long_wait"]),
        np.array([None, float("nan")], dtype=object),
        np.array([False, False]),
        np.array([False, False]),
        np.array([False, False]),
        np.array([False, False]),
        np.array(["fax", "PHONE"]),
        np.random.default_rng(0),
    )
    assert len(texts) == 2
    assert texts[1].lower().startswith("agent: ")
