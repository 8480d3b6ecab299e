"""Validation rules: each bad row goes to quarantine with its rule and a fix hint."""

import pandas as pd
import pytest

from cximpact.errors import ContractError
from cximpact.ingest.contracts import CONTRACTS, get_contract
from cximpact.ingest.validate import FIX_HINTS, RULES, check_columns, validate_rows


def _frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).fillna("")
    frame.index = range(1, len(frame) + 1)
    return frame


GOOD = {
    "id": "i1",
    "customer_id": "c1",
    "timestamp": "2026-01-02T10:00:00Z",
    "channel": "chat",
    "text": "hello",
}


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"id": ""}, "missing_id"),
        ({"text": "x" * 101}, "oversize_field"),
        ({"channel": ""}, "missing_required"),
        ({"text": "   "}, "empty_text"),
        ({"timestamp": "yesterday-ish"}, "unparsable_date"),
        ({"handling_cost": "twelve"}, "wrong_type"),
        ({"resolved": "maybe"}, "wrong_type"),
        ({"customer_id": "nobody"}, "unknown_customer"),
        ({"handling_cost": "inf"}, "wrong_type"),
        ({"handling_cost": "1e400"}, "wrong_type"),
        ({"handling_cost": "-3"}, "out_of_range"),
        ({"timestamp": "9999-12-31"}, "implausible_date"),
        ({"timestamp": "1850-01-01"}, "implausible_date"),
        ({"timestamp": "now"}, "unparsable_date"),
        ({"timestamp": "13/01/2024"}, "unparsable_date"),  # day-first is ambiguous: refused
    ],
)
def test_each_rule_quarantines_with_hint(change: dict[str, str], rule: str) -> None:
    frame = _frame([GOOD | {"id": "ok"}, GOOD | change])
    result = validate_rows(
        frame,
        get_contract("interactions"),
        known_customers={"c1"},
        max_text_chars=100,
        max_field_chars=50,
    )
    assert len(result.accepted) == 1 and len(result.quarantined) == 1
    row = result.quarantined.iloc[0]
    assert row["rule"] == rule and row["fix_hint"] == FIX_HINTS[rule] and row["row_number"] == 2


def test_duplicate_id_keeps_first_and_counts_balance() -> None:
    frame = _frame([GOOD, GOOD | {"text": "again"}, GOOD | {"id": "i2"}])
    result = validate_rows(
        frame,
        get_contract("interactions"),
        known_customers={"c1"},
        max_text_chars=100,
        max_field_chars=50,
    )
    assert list(result.accepted["id"]) == ["i1", "i2"]
    assert list(result.quarantined["rule"]) == ["duplicate_id"]
    assert len(result.accepted) + len(result.quarantined) == len(frame)


def test_types_are_parsed() -> None:
    frame = _frame(
        [GOOD | {"handling_cost": "4.5", "resolved": "Yes", "timestamp": "03/05/2026 10:00"}]
    )
    acc = validate_rows(
        frame,
        get_contract("interactions"),
        known_customers={"c1"},
        max_text_chars=100,
        max_field_chars=50,
    ).accepted
    assert acc.loc[0, "handling_cost"] == 4.5 and bool(acc.loc[0, "resolved"]) is True
    assert acc.loc[0, "timestamp"] == pd.Timestamp("2026-03-05 10:00")


def test_missing_required_column_is_a_contract_error_naming_the_fix() -> None:
    with pytest.raises(ContractError, match=r"customer_id.*--map"):
        check_columns(pd.DataFrame({"id": ["x"]}), CONTRACTS["interactions"], "x.csv")


def test_rules_all_have_hints() -> None:
    assert set(RULES) == set(FIX_HINTS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-05T10:00:00Z", "2026-03-05 10:00"),
        ("2026-03-05T10:00:00+02:00", "2026-03-05 08:00"),
        ("03/05/2026 10:00", "2026-03-05 10:00"),
        ("05/01/2024", "2024-05-01"),
        ("15.03.2024", "2024-03-15"),
        ("2024/03/15", "2024-03-15"),
    ],
)
def test_date_formats_are_read_one_way(raw: str, expected: str) -> None:
    frame = _frame([GOOD | {"timestamp": raw}])
    acc = validate_rows(
        frame,
        get_contract("interactions"),
        known_customers={"c1"},
        max_text_chars=100,
        max_field_chars=50,
    ).accepted
    assert acc.loc[0, "timestamp"] == pd.Timestamp(expected)


def test_negative_lifetime_value_is_out_of_range() -> None:
    frame = _frame([{"customer_id": "c1", "ltv": "-8000"}, {"customer_id": "c2", "ltv": "10"}])
    result = validate_rows(
        frame,
        get_contract("finance"),
        known_customers={"c1", "c2"},
        max_text_chars=100,
        max_field_chars=50,
    )
    assert list(result.quarantined["rule"]) == ["out_of_range"]
