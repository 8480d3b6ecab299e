"""Tests of repeat-contact marking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import ConfigError, ContractError
from cximpact.signals.repeat import mark_repeat_contacts


def frame(rows: list[tuple[str, str, str]], index: list[object] | None = None) -> pd.DataFrame:
    customer, timestamp, cause = zip(*rows, strict=True)
    return pd.DataFrame(
        {"customer_id": customer, "timestamp": pd.to_datetime(timestamp), "root_cause": cause},
        index=index,
    )


def test_window_is_inclusive() -> None:
    contacts = frame(
        [
            ("c1", "2024-01-01", "billing_error"),
            ("c1", "2024-01-15", "billing_error"),  # 14 days later: repeat
            ("c1", "2024-01-30", "billing_error"),  # 15 days later: not a repeat
        ]
    )
    assert mark_repeat_contacts(contacts, days=14).tolist() == [False, True, False]
    assert mark_repeat_contacts(contacts, days=15).tolist() == [False, True, True]


def test_window_counts_time_of_day() -> None:
    contacts = frame(
        [("c1", "2024-01-01 09:00", "late_delivery"), ("c1", "2024-01-08 09:01", "late_delivery")]
    )
    assert mark_repeat_contacts(contacts, days=7).tolist() == [False, False]
    assert mark_repeat_contacts(contacts, days=8).tolist() == [False, True]


def test_needs_same_customer_and_same_root_cause() -> None:
    contacts = frame(
        [
            ("c1", "2024-01-01", "billing_error"),
            ("c2", "2024-01-02", "billing_error"),  # other customer
            ("c1", "2024-01-03", "network_outage"),  # other root cause
            ("c1", "2024-01-04", "billing_error"),  # repeat of the first row
        ]
    )
    assert mark_repeat_contacts(contacts, days=14).tolist() == [False, False, False, True]


def test_other_and_missing_root_causes_are_never_repeats() -> None:
    contacts = frame(
        [
            ("c1", "2024-01-01", "other"),
            ("c1", "2024-01-02", "other"),
            ("c1", "2024-01-03", ""),
            ("c1", "2024-01-04", ""),
        ]
    )
    assert not mark_repeat_contacts(contacts, days=14).any()


def test_unsorted_input_keeps_index_and_order() -> None:
    contacts = frame(
        [
            ("c1", "2024-01-10", "app_login"),
            ("c1", "2024-01-01", "app_login"),
            ("c1", "2024-03-01", "app_login"),
            ("c1", "2024-01-05", "app_login"),
        ],
        index=["d", "a", "z", "b"],
    )
    result = mark_repeat_contacts(contacts, days=7)
    assert result.index.equals(contacts.index)
    assert result.name == "repeat_contact"
    assert result.dtype == bool
    assert result.to_dict() == {"d": True, "a": False, "z": False, "b": True}


def test_same_instant_later_row_is_the_repeat() -> None:
    contacts = frame([("c1", "2024-01-01", "long_wait"), ("c1", "2024-01-01", "long_wait")])
    assert mark_repeat_contacts(contacts, days=1).tolist() == [False, True]


def test_missing_customer_or_timestamp_is_not_a_repeat() -> None:
    contacts = pd.DataFrame(
        {
            "customer_id": ["c1", None, "c1", "c1"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-03"]),
            "root_cause": ["slow_refund"] * 4,
        }
    )
    assert mark_repeat_contacts(contacts, days=14).tolist() == [False, False, False, True]


def test_timezone_aware_timestamps() -> None:
    contacts = frame(
        [("c1", "2024-01-01 23:00", "billing_error"), ("c1", "2024-01-03 00:00", "billing_error")]
    )
    contacts["timestamp"] = contacts["timestamp"].dt.tz_localize("America/New_York")
    assert mark_repeat_contacts(contacts, days=2).tolist() == [False, True]


def test_empty_frame() -> None:
    empty = pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype="str"),
            "timestamp": pd.Series([], dtype="datetime64[ns]"),
            "root_cause": pd.Series([], dtype="str"),
        }
    )
    assert len(mark_repeat_contacts(empty, days=14)) == 0


def test_matches_a_brute_force_reference() -> None:
    rng = np.random.default_rng(3)
    n = 400
    contacts = pd.DataFrame(
        {
            "customer_id": rng.choice(["a", "b", "c", "d"], n),
            "timestamp": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 90 * 24, n), unit="h"),
            "root_cause": rng.choice(["billing_error", "long_wait", "other"], n),
        }
    )
    days = 10
    expected = []
    for i, row in contacts.iterrows():
        earlier = contacts[
            (contacts.customer_id == row.customer_id)
            & (contacts.root_cause == row.root_cause)
            & (contacts.timestamp <= row.timestamp)
            & (contacts.timestamp >= row.timestamp - pd.Timedelta(days=days))
            & ((contacts.timestamp < row.timestamp) | (contacts.index < i))
        ]
        expected.append(row.root_cause != "other" and len(earlier) > 0)
    assert mark_repeat_contacts(contacts, days=days).tolist() == expected


def test_missing_column_raises() -> None:
    contacts = frame([("c1", "2024-01-01", "billing_error")]).drop(columns="root_cause")
    with pytest.raises(ContractError, match="root_cause"):
        mark_repeat_contacts(contacts, days=14)


def test_non_datetime_timestamp_raises() -> None:
    contacts = frame([("c1", "2024-01-01", "billing_error")])
    contacts["timestamp"] = contacts["timestamp"].astype(str)
    with pytest.raises(ContractError, match="datetime64"):
        mark_repeat_contacts(contacts, days=14)


@pytest.mark.parametrize("days", [0, -3, 1.5, True])
def test_bad_window_raises(days: object) -> None:
    contacts = frame([("c1", "2024-01-01", "billing_error")])
    with pytest.raises(ConfigError, match="days"):
        mark_repeat_contacts(contacts, days=days)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(12))
def test_repeat_contact_flags_equal_the_frame_marking(seed: int) -> None:
    """The array variant marks what the frame function marks: missing customers, causes and
    timestamps, ``other`` and empty causes, contacts exactly at the window's edge, several at
    one instant, either timestamp unit and either string dtype."""
    from cximpact.signals.repeat import repeat_contact_flags

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 200))
    days = int(rng.integers(1, 15))
    customer = rng.choice(np.array(["c1", "c2", "c3", None], dtype=object), n)
    cause = rng.choice(np.array(["billing", "outage", "other", "", None], dtype=object), n)
    # whole days and half days apart: many gaps of exactly the window, and ties
    offsets = pd.to_timedelta(rng.integers(0, 4 * days, n) * 12, unit="h")
    stamps = pd.Series(pd.Timestamp("2024-01-01") + offsets)
    stamps[rng.random(n) < 0.05] = pd.NaT
    dtype = "str" if seed % 2 else object
    contacts = pd.DataFrame(
        {
            "customer_id": pd.Series(customer, dtype=dtype),
            "timestamp": stamps.astype("datetime64[ns]" if seed % 3 else "datetime64[us]"),
            "root_cause": pd.Series(cause, dtype=dtype),
        }
    )
    expected = mark_repeat_contacts(contacts, days=days).to_numpy()
    got = repeat_contact_flags(
        contacts["customer_id"].to_numpy(),
        contacts["timestamp"].to_numpy(),
        contacts["root_cause"].to_numpy(),
        days,
    )
    np.testing.assert_array_equal(got, expected)


def test_repeat_contact_flags_check_their_inputs() -> None:
    from cximpact.signals.repeat import repeat_contact_flags

    one = np.array(["c1"], dtype=object)
    stamps = np.array(["2024-01-01"], dtype="datetime64[us]")
    with pytest.raises(ConfigError):
        repeat_contact_flags(one, stamps, one, 0)
    with pytest.raises(ContractError):
        repeat_contact_flags(one, np.array([1]), one, 14)
