"""Tests of the keyword signals: taxonomy loading, root causes, flags, competitors, sentiment."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.signals.keywords import (
    OTHER,
    SIGNAL_COLUMNS,
    KeywordSignals,
    Taxonomy,
    keyword_regex,
    load_taxonomy,
)

TOPICS = (
    "billing_error",
    "unexpected_fee",
    "network_outage",
    "slow_refund",
    "late_delivery",
    "app_login",
    "product_defect",
    "long_wait",
    "address_update",
    "plan_question",
    "payment_method_update",
)

MINIMAL_YAML = """
topics:
  refunds:
    harmful_candidate: true
    description: Refund problems.
    keywords: [refund*, money back]
  parcels:
    harmful_candidate: false
    description: Parcel questions.
    keywords: [parcel*]
competitors:
  - name: Acme Telecom
    aliases: [acme]
escalation:
  phrases: [manager]
churn:
  phrases: [cancel*]
negators: [not, "don't"]
negation_scope_words: [want, to]
sentiment:
  positive: [good]
  negative: [bad]
"""


@pytest.fixture(scope="module")
def signals() -> KeywordSignals:
    return KeywordSignals().fit()


def run(signals: KeywordSignals, *texts: str) -> pd.DataFrame:
    return signals.transform(pd.Series(list(texts)))


# -- taxonomy ---------------------------------------------------------------------------------


def test_builtin_taxonomy_has_exactly_the_shared_topics() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.topic_ids == TOPICS
    assert set(taxonomy.harmful_topics) == set(TOPICS[:8])
    assert all(topic.description and topic.keywords for topic in taxonomy.topics.values())


def test_builtin_taxonomy_has_competitors_escalation_churn_and_negators() -> None:
    taxonomy = load_taxonomy()
    names = {c.name for c in taxonomy.competitors}
    assert {"Verizon", "T-Mobile", "AT&T", "Comcast Xfinity"} <= names
    for phrase in ("manager", "supervisor*", "ombudsman", "fcc", "lawyer*", "legal action"):
        assert phrase in taxonomy.escalation.phrases
    for phrase in ("cancel*", "close my account", "switch* providers", "leaving", "port my number"):
        assert phrase in taxonomy.churn.phrases
    assert "switch* to" in taxonomy.churn.competitor_lead_ins  # "switch to wifi" is no churn
    for negator in ("not", "don't", "do not", "never", "no intention", "no plans to", "won't"):
        assert negator in taxonomy.negators


def test_load_taxonomy_reads_a_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(MINIMAL_YAML, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert isinstance(taxonomy, Taxonomy)
    out = KeywordSignals(taxonomy).fit().transform(pd.Series(["Where is my REFUND?", "hello"]))
    assert out["root_cause"].tolist() == ["refunds", OTHER]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("topics: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        (MINIMAL_YAML.replace("  refunds:", "  other:"), "reserved"),
        (MINIMAL_YAML.replace("  refunds:", "  Refunds Team:"), "snake_case"),
        (MINIMAL_YAML.replace("    keywords: [parcel*]", "    keywords: []"), "topics.parcels"),
        (MINIMAL_YAML.replace('negators: [not, "don\'t"]', "negators: [not, no]"), "booleans"),
        (MINIMAL_YAML.replace("    keywords: [parcel*]", "    keywords: ['*']"), "any word"),
        (MINIMAL_YAML.replace("churn:", "colour: blue\nchurn:"), "colour"),
        (MINIMAL_YAML + "negators: [never]\n", "appears twice"),
        (MINIMAL_YAML.replace("escalation:\n  phrases: [manager]\n", ""), "escalation"),
    ],
)
def test_load_taxonomy_rejects_bad_files_with_a_clear_message(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_taxonomy(path)


def test_load_taxonomy_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_taxonomy(tmp_path / "nope.yaml")


def test_load_taxonomy_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_taxonomy(path)


@pytest.mark.parametrize(
    ("keyword", "matches", "misses"),
    [
        ("refund*", ["refund", "refunds", "refunded"], ["prefund"]),
        ("fee", ["fee", "a fee."], ["coffee", "feed"]),
        ("don't", ["don't", "dont"], ["do not"]),
        ("log-in", ["login", "log in", "log-in"], ["logging"]),
        ("at&t", ["at&t", "with at&t."], ["chat&talk"]),
        ("switch* to the * plan", ["switching to the unlimited plan"], ["switch to the plan"]),
        ("unauthori*ed charge*", ["unauthorized charges", "unauthorised charge"], []),
    ],
)
def test_keyword_regex_syntax(keyword: str, matches: list[str], misses: list[str]) -> None:
    pattern = re.compile(keyword_regex(keyword))
    assert all(pattern.search(text) for text in matches)
    assert not any(pattern.search(text) for text in misses)


# -- root causes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("I was charged twice for the same month.", "billing_error"),
        ("You overcharged me $40 on my last invoice.", "billing_error"),
        ("I got dubble charged on the 3rd", "billing_error"),  # typo
        ("What is this $12 admin fee? Nobody told me about it.", "unexpected_fee"),
        ("There's a surchage on my statement that was never disclosed", "unexpected_fee"),  # typo
        ("My internet has been down since Monday.", "network_outage"),
        ("Is there an outtage in my area? no signal at all", "network_outage"),  # typo
        ("Calls keep dropping and the wifi keeps cutting out.", "network_outage"),
        ("Still waiting for my refund, it's been three weeks.", "slow_refund"),
        ("When will I get my reimbursment?", "slow_refund"),  # typo
        ("I want my money back for the return I sent in March.", "slow_refund"),
        ("My package hasn't arrived and tracking hasn't moved.", "late_delivery"),
        ("the delivry is 5 days late", "late_delivery"),  # typo
        ("Where's my order? It was supposed to be here Friday.", "late_delivery"),
        ("I can't log in, it says my pasword is wrong.", "app_login"),  # typo
        ("I'm locked out and the verification code never arrives by text.", "app_login"),
        ("The blender I bought stopped working after two days.", "product_defect"),
        ("Screen arrived cracked, it's defective, I want a replacement.", "product_defect"),
        ("I was on hold for 45 minutes and nobody answered.", "long_wait"),
        ("I've been waiting for an agent for over an hour.", "long_wait"),
        ("I've moved and need to update my adress.", "address_update"),  # typo
        ("Please change my billing address, we're relocating to Denver.", "address_update"),
        ("Can I upgrade to a plan with unlimited data?", "plan_question"),
        ("Does my plan include international roaming?", "plan_question"),
        ("My card expired, I need to update the card on file.", "payment_method_update"),
        ("Can I set up autopay by direct debit?", "payment_method_update"),
    ],
)
def test_root_cause_examples(signals: KeywordSignals, text: str, topic: str) -> None:
    out = run(signals, text)
    assert out.loc[0, "root_cause"] == topic
    assert 0 < out.loc[0, "root_cause_confidence"] <= 1


@pytest.mark.parametrize(
    "text",
    [
        "What are your opening hours on Sunday?",
        "Just wanted to say the new store looks lovely.",
        "",
        "Coffee and feedback.",  # no "fee" inside words
    ],
)
def test_out_of_scope_text_is_other(signals: KeywordSignals, text: str) -> None:
    out = run(signals, text)
    assert out.loc[0, "root_cause"] == OTHER
    assert out.loc[0, "root_cause_confidence"] == 0
    assert out.loc[0, "secondary_root_cause"] == ""


def test_mixed_text_has_a_secondary_root_cause(signals: KeywordSignals) -> None:
    out = run(
        signals,
        "My internet has been down for days, no signal at all. Also I was charged twice.",
    )
    assert out.loc[0, "root_cause"] == "network_outage"
    assert out.loc[0, "secondary_root_cause"] == "billing_error"
    single = run(signals, "My internet has been down for days, no signal at all.")
    assert single.loc[0, "secondary_root_cause"] == ""
    assert out.loc[0, "root_cause_confidence"] < single.loc[0, "root_cause_confidence"]


def test_confidence_grows_with_evidence(signals: KeywordSignals) -> None:
    out = run(signals, "refund please", "refund please, my refund, the refund, money back")
    assert out.loc[0, "root_cause"] == out.loc[1, "root_cause"] == "slow_refund"
    assert out.loc[0, "root_cause_confidence"] < out.loc[1, "root_cause_confidence"] < 1


# -- escalation and churn ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I want to cancel", True),
        ("I do not want to cancel", False),
        ("I don't want to cancel, just fix it", False),
        ("I'm not leaving yet but this is bad", False),
        ("I have no plans to switch to another provider", False),
        ("I won't be switching to another provider", False),
        ("I'm done, cancel everything.", True),
        ("I'm switching providers next week.", True),
        ("Please close my account.", True),
        ("I'm going to port my number out.", True),
        ("Cancel my order please, it's too late.", False),  # order, not relationship
        ("I was hit with a cancellation fee", False),
        ("I don't want to cancel my order, cancel my account", True),
        ("I'm not happy. I want to cancel", True),  # negation does not cross sentences
        ("I'm not satisfied so I'm switching to Verizon", True),  # "satisfied" breaks the scope
        ("Can I switch to autopay?", False),
    ],
)
def test_churn_language_with_negation(signals: KeywordSignals, text: str, expected: bool) -> None:
    assert bool(run(signals, text).loc[0, "churn_language"]) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Let me talk to your manager.", True),
        ("I'll file a complaint with the FCC.", True),
        ("My lawyer will hear about this, I'm taking legal action", True),
        ("I'm writing to the ombudsman.", True),
        ("I don't want to talk to a manager, just fix it.", False),
        ("No need to get a supervisor involved.", False),
        ("My account manager set this up.", False),
        ("What is the Regulatory Recovery line on my bill?", False),
        ("I spoke with Sue yesterday.", False),
    ],
)
def test_escalation_with_negation(signals: KeywordSignals, text: str, expected: bool) -> None:
    assert bool(run(signals, text).loc[0, "escalation"]) is expected


# -- competitors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Verizon offered me a better deal", "Verizon"),
        ("tmobile is cheaper", "T-Mobile"),
        ("t mobile is cheaper", "T-Mobile"),
        ("T-Mobile is cheaper", "T-Mobile"),
        ("I might go back to ATT", "AT&T"),
        ("AT&T never had this problem", "AT&T"),
        ("Xfinity has a promo", "Comcast Xfinity"),
        ("your attitude is terrible", ""),
        ("I'm attaching the attachment", ""),
        ("I had to chase you for a week", ""),
        ("verizon and at&t are both cheaper", "Verizon,AT&T"),
        ("Verizon, verizon wireless, VZW", "Verizon"),
    ],
)
def test_competitor_aliases_and_word_boundaries(
    signals: KeywordSignals, text: str, expected: str
) -> None:
    assert run(signals, text).loc[0, "competitors"] == expected


# -- sentiment --------------------------------------------------------------------------------


def test_sentiment_sign_and_labels(signals: KeywordSignals) -> None:
    out = run(
        signals,
        "The agent was helpful and the fix was quick, great service.",
        "This is terrible, the worst service ever.",
        "My address is 12 Oak Street.",
        "I am not happy with this.",
        "It was not bad at all.",
    )
    assert out["sentiment"].iloc[0] > 0 and out["sentiment_label"].iloc[0] == "positive"
    assert out["sentiment"].iloc[1] < 0 and out["sentiment_label"].iloc[1] == "negative"
    assert out["sentiment"].iloc[2] == 0 and out["sentiment_label"].iloc[2] == "neutral"
    assert out["sentiment"].iloc[3] < 0  # negation flips "happy"
    assert out["sentiment"].iloc[4] > 0  # negation flips "bad"


def test_sentiment_intensity_ordering(signals: KeywordSignals) -> None:
    good = run(signals, "good", "very good", "extremely good!!!", "VERY GOOD!!!")["sentiment"]
    bad = run(signals, "bad", "very bad", "extremely bad!!!", "VERY BAD!!!")["sentiment"]
    assert 0 < good.iloc[0] < good.iloc[1] < good.iloc[2] <= good.iloc[3] < 1
    assert 0 > bad.iloc[0] > bad.iloc[1] > bad.iloc[2] >= bad.iloc[3] > -1
    assert run(signals, "terrible")["sentiment"].iloc[0] < bad.iloc[0]  # strong word


def test_never_so_disappointed_stays_negative(signals: KeywordSignals) -> None:
    assert run(signals, "I have never been so disappointed")["sentiment"].iloc[0] < 0


# -- contract ---------------------------------------------------------------------------------


def test_output_contract(signals: KeywordSignals) -> None:
    texts = pd.Series(
        ["I was charged twice!", None, "Verizon is cheaper, I want to cancel"],
        index=pd.Index([10, 20, 30], name="interaction_id"),
    )
    out = signals.transform(texts)
    assert tuple(out.columns) == SIGNAL_COLUMNS
    assert out.index.equals(texts.index)
    assert out["escalation"].dtype == bool and out["churn_language"].dtype == bool
    assert out["root_cause_confidence"].between(0, 1).all()
    assert out["sentiment"].between(-1, 1).all()
    assert out.loc[20, "root_cause"] == OTHER
    assert out.loc[30, "competitors"] == "Verizon"
    assert out["sentiment_label"].isin(["negative", "neutral", "positive"]).all()


def test_empty_series(signals: KeywordSignals) -> None:
    out = signals.transform(pd.Series([], dtype="str"))
    assert tuple(out.columns) == SIGNAL_COLUMNS
    assert len(out) == 0


def test_unicode_apostrophes_and_non_ascii(signals: KeywordSignals) -> None:
    out = run(signals, "I don\u2019t want to cancel \u2014 caf\u00e9 refund \U0001f620")
    assert not out.loc[0, "churn_language"]
    assert out.loc[0, "root_cause"] == "slow_refund"


def test_transform_before_fit_raises() -> None:
    with pytest.raises(NotFittedError):
        KeywordSignals().transform(pd.Series(["hi"]))


def test_transform_needs_a_series(signals: KeywordSignals) -> None:
    with pytest.raises(ContractError, match="pandas Series"):
        signals.transform(["not", "a", "series"])  # type: ignore[arg-type]


def test_fit_compiles_patterns_and_returns_self() -> None:
    signals = KeywordSignals()
    assert signals.fit() is signals
    assert set(signals.topic_patterns_) == set(TOPICS)
    assert "AT&T" in signals.competitor_patterns_
