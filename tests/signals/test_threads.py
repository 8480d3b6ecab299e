"""Tests for thread topics: a missed contact borrows the topic of its customer's nearby contacts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import ContractError
from cximpact.signals.repeat import thread_topics
from cximpact.signals.selftrain import SelfTrainedTopics, Threads


def _frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["customer_id", "timestamp", "root_cause", "secondary_root_cause"]
    ).assign(timestamp=lambda f: pd.to_datetime(f["timestamp"]))


def test_a_missed_contact_borrows_the_nearest_confident_topic_of_the_same_customer() -> None:
    frame = _frame(
        [
            ("c1", "2024-01-01", "network_outage", ""),
            ("c1", "2024-01-10", "other", ""),  # 9 days after: borrows
            ("c2", "2024-01-10", "other", ""),  # another customer's topic is not borrowed
            ("c1", "2024-03-01", "other", ""),  # 60 days after: too far
            ("c3", "2024-01-20", "other", ""),
            ("c3", "2024-01-25", "late_delivery", ""),  # the one after counts too
        ]
    )
    assert thread_topics(frame, days=14).tolist() == [
        "",
        "network_outage",
        "",
        "",
        "late_delivery",
        "",
    ]


def test_disagreeing_neighbours_and_two_topic_contacts_give_nothing() -> None:
    frame = _frame(
        [
            ("c1", "2024-01-01", "network_outage", ""),
            ("c1", "2024-01-05", "other", ""),  # before and after disagree
            ("c1", "2024-01-09", "late_delivery", ""),
            ("c2", "2024-01-01", "network_outage", "late_delivery"),  # not confident
            ("c2", "2024-01-02", "other", ""),
        ]
    )
    assert thread_topics(frame, days=14).tolist() == ["", "", "", "", ""]


def test_row_order_and_index_do_not_matter() -> None:
    frame = _frame(
        [
            ("c1", "2024-01-10", "other", ""),
            ("c2", "2024-02-01", "slow_refund", ""),
            ("c1", "2024-01-01", "network_outage", ""),
            ("c2", "2024-02-03", "other", ""),
        ]
    ).set_index(pd.Index([40, 10, 30, 20]))
    out = thread_topics(frame, days=14)
    assert out.index.tolist() == [40, 10, 30, 20]
    assert out.tolist() == ["network_outage", "", "", "slow_refund"]


def test_missing_secondary_column_is_a_contract_error() -> None:
    frame = _frame([("c1", "2024-01-01", "other", "")]).drop(columns="secondary_root_cause")
    with pytest.raises(ContractError, match="secondary_root_cause"):
        thread_topics(frame, days=14)


def test_thread_labels_teach_the_classifier_phrasings_the_keywords_never_match() -> None:
    rng = np.random.default_rng(0)
    outage = ["my internet is down", "the network outage again", "no signal and internet down"]
    outage_missed = "the line goes dead every time it rains"
    delivery = ["my parcel is late", "the courier lost my parcel", "late delivery of my parcel"]
    delivery_missed = "nobody has brought the box i ordered"
    texts, labels, customers, days = [], [], [], []
    for i in range(60):
        confident, missed, topic = (
            (outage, outage_missed, "network_outage")
            if i % 2
            else (delivery, delivery_missed, "late_delivery")
        )
        # each customer: one contact the keywords read, one they miss, a week apart
        texts += [f"{rng.choice(confident)} {rng.choice(['hello', 'thanks'])}", missed]
        labels += [topic, "other"]
        customers += [f"c{i}", f"c{i}"]
        days += [0, 7]
    frame = pd.Series(texts)
    topics, secondary = pd.Series(labels), pd.Series([""] * len(texts))
    stamps = (pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")).to_numpy()
    plain = SelfTrainedTopics().fit(frame, topics, secondary)
    threaded = SelfTrainedTopics().fit(
        frame, topics, secondary, Threads(np.array(customers), stamps, 14)
    )
    query = pd.Series([outage_missed, delivery_missed])
    unknown = pd.Series(["other", "other"])
    assert threaded.fill(query, unknown)[0].tolist() == ["network_outage", "late_delivery"]
    assert plain.fill(query, unknown)[0].tolist() != ["network_outage", "late_delivery"]
