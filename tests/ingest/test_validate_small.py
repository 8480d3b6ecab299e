"""The small-frame validation path gives exactly what the frame path gives."""

import random

import pandas as pd
import pytest

from cximpact.ingest import validate
from cximpact.ingest.contracts import CONTRACTS, get_contract
from cximpact.ingest.validate import validate_rows

_NOW = pd.Timestamp("2026-06-01")
#: Values chosen to break each rule, sit on its edge, or look alike after stripping.
_ODD = [
    None,
    "",
    " ",
    "\u3000",
    "\x1c",
    "\u00a0x\u2029",
    "\u200b",  # not whitespace for Python nor Arrow
    "x" * 41,
    "x" * 40,
    " c1 ",
    "c1",
    "c2",
    "i1",
    " i1",
    "i1\t",
    "nobody",
    "2026-01-02T10:00:00Z",
    "2026-01-02 10:00:00+02:00",
    "03/05/2026 10:00",
    "13/01/2024",
    "31.12.2025",
    "now",
    "9999-12-31",
    "1850-01-01",
    "2026-05-31T23:00:00",
    "1_000",
    " 5 ",
    "nan",
    "inf",
    "-0",
    "-3",
    "1e400",
    "4.5",
    "3.0",
    "2.5",
    "١٢",
    "Yes",
    " t ",
    "FALSE",
    "maybe",
    "0",
    "1",
    "hello @ example.com",
    "\u00e9t\u00e9",
]
_GOOD = {
    "id": "i0",
    "customer_id": "c1",
    "timestamp": "2026-01-02T10:00:00Z",
    "channel": "chat",
    "text": "hello",
    "start_date": "2024-01-01",
    "segment": "smb",
    "products": "2",
    "monthly_revenue": "10",
}


def _rows(kind: str, seed: int, n: int) -> pd.DataFrame:
    rng = random.Random(seed)
    names = get_contract(kind).names
    rows = []
    for i in range(n):
        row: dict[str, str | None] = {
            name: _GOOD.get(name, "") if name != "id" else f"i{i}" for name in names
        }
        for name in rng.sample(names, rng.randint(0, min(3, len(names)))):
            row[name] = rng.choice(_ODD)
        rows.append(row | {"extra": rng.choice(_ODD)})
    frame = pd.DataFrame(rows, dtype=object)
    dropped = rng.sample(names[1:], 1)
    if seed % 3 == 0:
        frame = frame.drop(columns=dropped)  # a column the request did not send
    frame.index = pd.RangeIndex(7, 7 + n)  # source row numbers, not positions
    return frame


def _both(frame: pd.DataFrame, kind: str, known: object, monkeypatch: pytest.MonkeyPatch):
    def run() -> validate.ValidationResult:
        return validate_rows(
            frame.copy(),
            get_contract(kind),
            known_customers=known,  # type: ignore[arg-type]
            max_text_chars=40,
            max_field_chars=40,
            now=_NOW,
        )

    small = run()
    with monkeypatch.context() as patch:
        patch.setattr(validate, "SMALL_ROWS", -1)
        full = run()
    return small, full


@pytest.mark.parametrize("kind", list(CONTRACTS))
@pytest.mark.parametrize("seed", range(12))
def test_small_path_equals_frame_path(
    kind: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _rows(kind, seed, 1 + seed * 7)
    known = pd.Index(["c1", "c2", "i1"], dtype=object) if seed % 2 else {"c1", " c2"}
    called = []
    original = validate._validate_small

    def spy(*args: object, **kwargs: object) -> validate.ValidationResult:
        called.append(True)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(validate, "_validate_small", spy)
    small, full = _both(frame, kind, known, monkeypatch)
    assert called == [True]  # the small path ran once, the frame path once
    pd.testing.assert_frame_equal(small.accepted, full.accepted, check_exact=True)
    pd.testing.assert_frame_equal(small.quarantined, full.quarantined, check_exact=True)
    assert list(small.accepted.dtypes) == list(full.accepted.dtypes)
    assert small.accepted.index.equals(full.accepted.index)
    assert len(small.accepted) + len(small.quarantined) == len(frame)


def test_small_path_breaks_rules_on_odd_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above sees every rule (it would prove little on clean rows)."""
    rules = set()
    for seed in range(12):
        small, _ = _both(_rows("interactions", seed, 60), "interactions", {"c1"}, monkeypatch)
        rules |= set(small.quarantined["rule"])
    assert rules == set(validate.RULES)


def test_values_other_than_strings_take_the_frame_path(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pd.DataFrame([_GOOD | {"handling_cost": 4.5}], dtype=object)
    monkeypatch.setattr(validate, "_validate_small", None)  # would fail if called
    result = validate_rows(
        frame,
        get_contract("interactions"),
        known_customers={"c1"},
        max_text_chars=40,
        max_field_chars=40,
    )
    assert result.accepted["handling_cost"].tolist() == [4.5]
