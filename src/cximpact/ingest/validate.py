"""Row-level validation against a contract, vectorised over the whole batch.

Every row either passes (and comes back typed) or goes to quarantine with the first rule it
breaks and a hint to fix it, so ``rows_read == accepted + quarantined`` holds by construction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cximpact.errors import ContractError
from cximpact.ingest.contracts import Contract, FieldSpec

__all__ = ["FIX_HINTS", "RULES", "ValidationResult", "check_columns", "validate_rows"]

#: Rules in the order they are checked; a row is quarantined for the first one it breaks.
RULES: tuple[str, ...] = (
    "missing_id",
    "oversize_field",
    "missing_required",
    "empty_text",
    "unparsable_date",
    "implausible_date",
    "wrong_type",
    "out_of_range",
    "duplicate_id",
    "unknown_customer",
)
FIX_HINTS: dict[str, str] = {
    "missing_id": "give every row a non-empty id (or map the id column with --map)",
    "oversize_field": "the value is longer than allowed (CXIMPACT_MAX_TEXT_CHARS / "
    "CXIMPACT_MAX_FIELD_CHARS); check for a broken quote or raise the limit",
    "missing_required": "fill the required field, or map the right source column with --map",
    "empty_text": "the interaction has no text; export the body or transcript, "
    "not only the subject",
    "unparsable_date": "use ISO 8601 dates such as 2024-03-15 or 2024-03-15T10:30:00Z "
    "(US month/day/year and day.month.year are read too; day/month/year is ambiguous)",
    "implausible_date": "the date is before 1900 or in the future; check the export's clock or "
    "a placeholder such as 9999-12-31",
    "wrong_type": "the value is not of the declared type (finite number, integer or true/false)",
    "out_of_range": "the amount or count cannot be negative here; fix the sign or leave it empty",
    "duplicate_id": "the id appears earlier in the same file; keep one row per id",
    "unknown_customer": "ingest the customers file first, or fix the customer id",
}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_SOURCE_ROW = "_source_row"


@dataclass(frozen=True)
class ValidationResult:
    """Accepted rows (typed, contract columns) and quarantined rows (rule, hint, raw row)."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame


def check_columns(frame: pd.DataFrame, contract: Contract, source: str) -> None:
    """Raise :class:`ContractError` when a required column is missing from the file."""
    missing = [name for name in contract.required if name not in frame.columns]
    if missing:
        found = list(map(str, frame.columns))[:12]
        raise ContractError(
            f"column(s) {missing} missing in {source} ({contract.kind}); found {found}; "
            "rename them or pass a mapping file with --map (built-in: --map zendesk, "
            "--map salesforce)"
        )


#: Formats tried, in order, after ISO 8601; each is unambiguous within the list.
_DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)
_EARLIEST = pd.Timestamp("1900-01-01")


def _parse_datetime(values: pd.Series) -> pd.Series:
    """ISO 8601 first, then a fixed list of formats; never guesses (no "now", no day-first)."""
    text = values.str.strip()
    digits = text.str.contains(r"\d", regex=True)  # words such as "now" or "today" are not dates
    parsed = pd.to_datetime(text.where(digits), errors="coerce", utc=True, format="ISO8601")
    for fmt in _DATE_FORMATS:
        retry = parsed.isna() & digits
        if not retry.any():
            break
        parsed.loc[retry] = pd.to_datetime(text[retry], errors="coerce", utc=True, format=fmt)
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None)


def _parse(field: FieldSpec, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (typed values, mask of non-empty values that failed to parse)."""
    empty = values == ""
    typed: pd.Series
    if field.type in ("datetime", "date"):
        typed = _parse_datetime(values)
        if field.type == "date":
            typed = typed.dt.normalize()
    elif field.type in ("float", "int"):
        typed = pd.to_numeric(values.where(~empty), errors="coerce").astype("float64")
        typed = typed.where(np.isfinite(typed))  # inf and 1e400 are not amounts
        if field.type == "int":
            integral = typed.isna() | (typed == np.floor(typed))
            typed = typed.where(integral)
            typed = typed.astype("Int64")
    elif field.type == "bool":
        lowered = values.str.strip().str.lower()
        typed = pd.Series(pd.NA, index=values.index, dtype="boolean")
        typed[lowered.isin(_TRUE)] = True
        typed[lowered.isin(_FALSE)] = False
    else:
        typed = values.str.strip() if field.type in ("id", "str") else values
        typed = typed.astype(object).where(~empty, None)  # missing is NULL, not ""
        return typed, pd.Series(False, index=values.index)
    failed = typed.isna() & ~empty
    return typed, failed


def validate_rows(
    frame: pd.DataFrame,
    contract: Contract,
    *,
    known_customers: Collection[str] | None,
    max_text_chars: int,
    max_field_chars: int,
    now: pd.Timestamp | None = None,
) -> ValidationResult:
    """Validate ``frame`` (all columns strings, index = source row number).

    Parameters
    ----------
    frame
        Rows as read from the file, every value a string, missing values as ``""``.
    contract
        The contract of the kind being ingested.
    known_customers
        Customer ids the store knows; rows referring to others are quarantined.
        ``None`` skips the check (used for the customers kind itself).
    max_text_chars, max_field_chars
        Longest accepted free text and longest accepted other value.
    now
        Latest plausible timestamp (default: one day after the current time, UTC).
    """
    if now is None:
        now = pd.Timestamp.now("UTC").tz_localize(None) + pd.Timedelta(days=1)
    columns = {f.name: _column(frame, f) for f in contract.fields}
    n = len(frame)
    broken = {rule: np.zeros(n, dtype=bool) for rule in RULES}
    where = {rule: np.full(n, "", dtype=object) for rule in RULES}
    typed: dict[str, pd.Series] = {}

    def mark(rule: str, mask: pd.Series | np.ndarray, column: str) -> None:
        arr = np.asarray(mask, dtype=bool)
        where[rule] = np.where(arr & ~broken[rule], column, where[rule])
        broken[rule] |= arr

    for field in contract.fields:
        values = columns[field.name]
        empty = (values.str.strip() == "").to_numpy()
        limit = max_text_chars if field.type == "text" else max_field_chars
        mark("oversize_field", values.str.len().to_numpy() > limit, field.name)
        if field.name == contract.key:
            mark("missing_id", empty, field.name)
        elif field.type == "text" and field.required:
            mark("empty_text", empty, field.name)
        elif field.required:
            mark("missing_required", empty, field.name)
        parsed, failed = _parse(field, values)
        rule = "unparsable_date" if field.type in ("date", "datetime") else "wrong_type"
        mark(rule, failed, field.name)
        _check_range(field, parsed, now, mark)
        typed[field.name] = parsed

    keys = typed[contract.key]
    earlier_ok = ~np.logical_or.reduce([broken[r] for r in RULES[: RULES.index("duplicate_id")]])
    duplicated = keys.where(earlier_ok).duplicated(keep="first").to_numpy() & earlier_ok
    mark("duplicate_id", duplicated, contract.key)
    if contract.customer_ref is not None and known_customers is not None:
        known = pd.Index(pd.unique(np.asarray(list(known_customers), dtype=object)))
        ref = typed[contract.customer_ref]
        mark(
            "unknown_customer",
            ~ref.isin(known).to_numpy() & (ref != "").to_numpy(),
            contract.customer_ref,
        )

    return _split(frame, contract, typed, broken, where)


def _check_range(
    field: FieldSpec,
    parsed: pd.Series,
    now: pd.Timestamp,
    mark: Callable[[str, pd.Series | np.ndarray, str], None],
) -> None:
    if field.type in ("date", "datetime"):
        mark("implausible_date", ((parsed < _EARLIEST) | (parsed > now)).fillna(False), field.name)
    elif field.minimum is not None:
        mark("out_of_range", (parsed.astype("float64") < field.minimum).fillna(False), field.name)


def _column(frame: pd.DataFrame, field: FieldSpec) -> pd.Series:
    if field.name in frame.columns:
        return frame[field.name].fillna("").astype(str)
    return pd.Series("", index=frame.index, dtype=object)


def _split(
    frame: pd.DataFrame,
    contract: Contract,
    typed: dict[str, pd.Series],
    broken: dict[str, np.ndarray],
    where: dict[str, np.ndarray],
) -> ValidationResult:
    rule = np.full(len(frame), "", dtype=object)
    column = np.full(len(frame), "", dtype=object)
    for name in reversed(RULES):  # the first rule in RULES wins
        rule = np.where(broken[name], name, rule)
        column = np.where(broken[name], where[name], column)
    bad = rule != ""
    accepted = pd.DataFrame({name: typed[name] for name in contract.names})[~bad]
    accepted = accepted.reset_index(drop=True)
    # Keep only the contract's columns: other source columns (names, addresses...) never reach
    # the store, not even in quarantine.
    rows = frame.loc[bad, [name for name in contract.names if name in frame.columns]]
    raw = [json.dumps(r, ensure_ascii=False) for r in rows.to_dict(orient="records")]
    quarantined = pd.DataFrame(
        {
            "row_number": rows.index.to_numpy(dtype="int64"),
            "rule": rule[bad],
            "column": column[bad],
            "fix_hint": [FIX_HINTS[r] for r in rule[bad]],
            "raw": raw,
        }
    )
    return ValidationResult(accepted=accepted, quarantined=quarantined)
