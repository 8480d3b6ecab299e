"""Guardrails: consent, suppression, do-not-contact, caps, quiet hours, no issue, holdout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cximpact.actions.guardrails import (
    apply_guardrails,
    holdout_flags,
    idempotency_key,
    quiet_until,
)
from cximpact.actions.policies import PolicySet, QuietHours

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)  # noon UTC, a Monday


def _rules(**extra: object) -> PolicySet:
    return PolicySet.model_validate(
        {
            "budget": 1000,
            "quiet_hours": None,
            "channels": {"email": {"type": "recording"}, "hook": {"type": "recording"}},
            "policies": [
                {"name": "p", "action": "a", "channel": "email", "cost": 1, "effectiveness": 0.1}
            ],
            **extra,
        }
    )


def _targets(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "customer_id": c,
                "case_id": 1,
                "issue": i,
                "policy": "p",
                "channel": ch,
                "contact_method": m,
            }
            for c, i, ch, m in rows
        ]
    )


def _contacts(rows: list[tuple[str, str, str, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["customer_id", "email", "timezone", "consent", "do_not_contact"]
    )


EMPTY_HISTORY = pd.DataFrame(columns=["customer_id", "channel", "created_at"])


def test_each_guardrail_drops_with_its_reason() -> None:
    targets = _targets(
        [
            ("ok", "billing_error", "email", "email"),
            ("vague", "other", "email", "email"),
            ("dnc", "billing_error", "email", "email"),
            ("supp", "billing_error", "email", "email"),
            ("by_mail", "billing_error", "email", "email"),
            ("no_consent", "billing_error", "email", "email"),
            ("phone_only", "billing_error", "email", "email"),
            ("unknown", "billing_error", "email", "email"),
        ]
    )
    contacts = _contacts(
        [
            ("ok", "ok@x", "UTC", "email;phone", False),
            ("vague", "v@x", "UTC", "email", False),
            ("dnc", "d@x", "UTC", "email", True),
            ("supp", "s@x", "UTC", "email", False),
            ("by_mail", "blocked@x", "UTC", "email", False),
            ("no_consent", "n@x", "UTC", "", False),
            ("phone_only", "p@x", "UTC", "phone", False),
        ]
    )
    allowed, skipped = apply_guardrails(
        targets, contacts, {"supp", "blocked@x"}, EMPTY_HISTORY, _rules(), NOW
    )
    assert list(allowed["customer_id"]) == ["ok"]
    assert dict(zip(skipped["customer_id"], skipped["reason"], strict=True)) == {
        "vague": "no_issue",
        "dnc": "do_not_contact",
        "supp": "suppressed",
        "by_mail": "suppressed",
        "no_consent": "no_consent",
        "phone_only": "no_consent",
        "unknown": "no_consent",
    }
    relaxed, _ = apply_guardrails(
        targets, contacts, set(), EMPTY_HISTORY, _rules(require_consent=False), NOW
    )
    assert set(relaxed["customer_id"]) == {
        "ok",
        "by_mail",
        "no_consent",
        "phone_only",
        "unknown",
        "supp",
    }


def test_frequency_caps_count_history_and_this_batch() -> None:
    caps = {"frequency_caps": {"window_days": 30, "per_customer": 2, "per_channel": 1}}
    targets = _targets(
        [
            ("a", "billing_error", "email", "email"),
            ("a", "late_delivery", "email", "email"),  # second on email in this batch
            ("a", "late_delivery", "hook", "email"),  # second overall: still allowed (cap 2)
            ("b", "billing_error", "email", "email"),  # emailed 3 days ago
            ("c", "billing_error", "email", "email"),  # emailed 40 days ago: outside the window
        ]
    )
    contacts = _contacts([(c, f"{c}@x", "UTC", "email", False) for c in "abc"])
    history = pd.DataFrame(
        {
            "customer_id": ["b", "c"],
            "channel": ["email", "email"],
            "created_at": [NOW - timedelta(days=3), NOW - timedelta(days=40)],
        }
    )
    allowed, skipped = apply_guardrails(targets, contacts, set(), history, _rules(**caps), NOW)
    assert list(zip(allowed["customer_id"], allowed["channel"], strict=True)) == [
        ("a", "email"),
        ("a", "hook"),
        ("c", "email"),
    ]
    assert list(skipped["reason"]) == ["frequency_cap", "frequency_cap"]


def test_quiet_hours_schedule_in_the_customers_time_zone() -> None:
    quiet = QuietHours(start="21:00", end="08:00")
    # noon UTC is 21:00 in Tokyo (quiet until 08:00 local = 23:00 UTC) and 08:00 in New York
    assert quiet_until(NOW, "Asia/Tokyo", quiet) == datetime(2026, 5, 4, 23, 0, tzinfo=UTC)
    assert quiet_until(NOW, "America/New_York", quiet) == NOW
    early = datetime(2026, 5, 4, 5, 30, tzinfo=UTC)  # 05:30 UTC: quiet, ends 08:00 the same day
    assert quiet_until(early, "UTC", quiet) == datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    assert quiet_until(early, "Not/AZone", quiet) == datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    daytime = QuietHours(start="12:00", end="13:00")
    assert quiet_until(NOW, "UTC", daytime) == datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
    assert quiet_until(NOW, "UTC", None) == NOW


def test_guardrails_set_not_before_from_quiet_hours() -> None:
    targets = _targets(
        [("tokyo", "billing_error", "email", "email"), ("ny", "billing_error", "email", "email")]
    )
    contacts = _contacts(
        [("tokyo", "t@x", "Asia/Tokyo", "email", False), ("ny", "n@x", "", "email", False)]
    )
    rules = _rules(quiet_hours={"start": "21:00", "end": "08:00"})
    allowed, _ = apply_guardrails(
        targets, contacts, set(), EMPTY_HISTORY, rules, NOW, default_timezone="America/New_York"
    )
    when = dict(zip(allowed["customer_id"], allowed["not_before"], strict=True))
    assert when == {"tokyo": datetime(2026, 5, 4, 23, 0, tzinfo=UTC), "ny": NOW}


def test_holdout_is_deterministic_and_near_its_share() -> None:
    customers = [f"C{i}" for i in range(20000)]
    first = holdout_flags(customers, [7] * len(customers), 0.1)
    again = holdout_flags(list(reversed(customers)), [7] * len(customers), 0.1)[::-1]
    assert np.array_equal(first, again)
    assert 0.09 < first.mean() < 0.11
    other_case = holdout_flags(customers, [8] * len(customers), 0.1)
    assert not np.array_equal(first, other_case)  # the case is part of the hash
    assert not holdout_flags(customers[:100], [1] * 100, 0.0).any()


@given(st.integers(min_value=0, max_value=10**6), st.text(min_size=1, max_size=20))
def test_idempotency_key_is_stable_and_distinct(case_id: int, customer: str) -> None:
    key = idempotency_key(case_id, customer, "p")
    assert key == idempotency_key(case_id, customer, "p")
    assert key.startswith("cxa-") and len(key) == 36
    assert key != idempotency_key(case_id + 1, customer, "p")
    assert key != idempotency_key(case_id, customer, "q")


@pytest.mark.parametrize("issue", ["", "other", "Unknown", " none "])
def test_no_contact_without_a_concrete_issue(issue: str) -> None:
    targets = _targets([("a", issue, "email", "email")])
    contacts = _contacts([("a", "a@x", "UTC", "email", False)])
    allowed, skipped = apply_guardrails(targets, contacts, set(), EMPTY_HISTORY, _rules(), NOW)
    assert allowed.empty and list(skipped["reason"]) == ["no_issue"]


def test_held_out_targets_are_checked_but_use_no_cap_room() -> None:
    rules = _rules(frequency_caps={"window_days": 30, "per_customer": 1, "per_channel": 1})
    targets = _targets(
        [("a", "billing_error", "email", "email"), ("a", "late_delivery", "email", "email")]
    ).assign(holdout=[True, False], case_id=[1, 2])
    contacts = _contacts([("a", "a@x", "UTC", "email", False)])
    allowed, skipped = apply_guardrails(targets, contacts, set(), EMPTY_HISTORY, rules, NOW)
    assert list(allowed["holdout"]) == [True, False] and skipped.empty
    treated_first = targets.assign(holdout=[False, True])
    allowed, skipped = apply_guardrails(treated_first, contacts, set(), EMPTY_HISTORY, rules, NOW)
    assert list(allowed["holdout"]) == [False] and list(skipped["reason"]) == ["frequency_cap"]
