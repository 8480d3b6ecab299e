"""Ingest one file: read, map, validate, redact PII, then write in one transaction."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cximpact.errors import ConfigError
from cximpact.ingest.contracts import Contract, get_contract
from cximpact.ingest.mapping import ColumnMapping, apply_mapping, load_mapping
from cximpact.ingest.readers import read_records
from cximpact.ingest.redact import redact_series, redact_text
from cximpact.ingest.validate import check_columns, validate_rows
from cximpact.settings import Settings
from cximpact.store.analytics import AnalyticsStore

__all__ = ["IngestReport", "file_sha256", "ingest_file", "ingest_frame", "pseudonymise"]


@dataclass(frozen=True)
class IngestReport:
    """What happened to a file: ``rows_read == accepted + quarantined`` always.

    ``inserted`` counts accepted rows with a new key, ``updated`` stored rows that the file
    changed (a corrected export wins); the rest were already stored as they are.
    """

    kind: str
    source: str
    rows_read: int
    accepted: int
    quarantined: int
    inserted: int
    updated: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (recorded with what was ingested from it)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest_file(
    store: AnalyticsStore,
    kind: str,
    path: Path,
    settings: Settings,
    *,
    mapping: str | Path | ColumnMapping | None = None,
    delimiter: str | None = None,
    fmt: str | None = None,
) -> IngestReport:
    """Ingest ``path`` as records of ``kind`` into ``store``.

    Parameters
    ----------
    store
        The analytics store (the single writer).
    kind
        One of :data:`cximpact.ingest.contracts.KINDS`.
    path
        CSV, TSV, Parquet or JSONL file (optionally gzip-compressed).
    settings
        Limits and the PII region.
    mapping
        A built-in mapping name (``zendesk``, ``salesforce``), a mapping file, or a mapping.
    delimiter
        CSV delimiter when it is not a comma.
    fmt
        File format when the extension misleads (``csv``, ``tsv``, ``parquet``, ``jsonl``...).
    """
    contract = get_contract(kind)
    column_map = load_mapping(mapping) if isinstance(mapping, str | Path) else mapping
    if column_map is not None and column_map.kind != kind:
        raise ConfigError(
            f"mapping {mapping!s} is for {column_map.kind}, not {kind}; "
            f"ingest it as `cximpact ingest {column_map.kind} ...` or pick another --map"
        )
    frame = read_records(
        path, fmt=fmt, delimiter=delimiter or (column_map.delimiter if column_map else None)
    )
    if column_map is not None:
        frame = apply_mapping(frame, column_map)
    check_columns(frame, contract, str(path))
    return ingest_frame(
        store, kind, frame, settings, source=str(path), file_sha256=file_sha256(path)
    )


def pseudonymise(values: pd.Series, region: str) -> pd.Series:
    """Replace identifiers that are personal data (an email as customer id...) by a stable hash.

    The same identifier always maps to the same ``pii:<16 hex>`` value, so joins across files
    still work while the address itself is never stored.
    """
    text = values.fillna("").astype(str)
    if len(text) <= _FEW_IDS:  # value by value, remembered: customer ids recur across batches
        found = [_is_personal(value, region) for value in text.tolist()]
        personal = pd.Series(found, index=text.index, dtype=bool)
    else:
        personal = redact_series(text, region=region) != text
    if not personal.any():
        return values
    hashed = ["pii:" + hashlib.sha256(v.encode("utf-8")).hexdigest()[:16] for v in text[personal]]
    out = values.copy()
    out[personal] = hashed
    return out


_FEW_IDS = 4096
"""Identifier columns up to this long are checked value by value through :func:`_is_personal`."""


@functools.lru_cache(maxsize=1 << 16)
def _is_personal(value: str, region: str) -> bool:
    """Whether an identifier holds personal data: redacting it changes it (as
    ``redact_series``, which redacts each value on its own)."""
    return redact_text(value, region=region) != value


def _redact_fields(accepted: pd.DataFrame, contract: Contract, region: str) -> pd.DataFrame:
    """Redact PII from free text and labels."""
    if accepted.empty:
        return accepted
    for spec in contract.fields:
        column = accepted[spec.name]
        if spec.type in ("text", "str"):
            clean = redact_series(column.fillna("").astype(str), region=region)
            accepted[spec.name] = clean.where(column.notna())
    return accepted


def ingest_frame(
    store: AnalyticsStore,
    kind: str,
    frame: pd.DataFrame,
    settings: Settings,
    *,
    source: str,
    file_sha256: str,
) -> IngestReport:
    """Validate, redact and write an already-read frame (all values strings)."""
    contract = get_contract(kind)
    check_columns(frame, contract, source)
    frame = frame.copy()
    for spec in contract.fields:  # before validation, so references match pseudonymised keys
        if spec.type == "id" and spec.name in frame.columns:
            frame[spec.name] = pseudonymise(frame[spec.name], settings.phone_region)
    known = store.known_keys("customers") if contract.customer_ref else None
    result = validate_rows(
        frame,
        contract,
        known_customers=known,
        max_text_chars=settings.max_text_chars,
        max_field_chars=settings.max_field_chars,
    )
    accepted = _redact_fields(result.accepted, contract, settings.phone_region)
    quarantined = result.quarantined
    if len(quarantined):
        quarantined["raw"] = redact_series(quarantined["raw"], region=settings.phone_region)
    inserted, updated, _ = store.write_batch(
        kind, accepted, quarantined, source=source, file_sha256=file_sha256
    )
    by_rule = (
        {str(k): int(v) for k, v in quarantined["rule"].value_counts().items()}
        if len(quarantined)
        else {}
    )
    return IngestReport(
        kind=kind,
        source=source,
        rows_read=len(frame),
        accepted=len(accepted),
        quarantined=len(quarantined),
        inserted=inserted,
        updated=updated,
        by_rule=by_rule,
    )
