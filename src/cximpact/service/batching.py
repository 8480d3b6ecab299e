"""Group commit: the records of many requests validated, redacted and written as one batch.

The steps are those of :func:`cximpact.ingest.pipeline.ingest_frame` (the CLI's path): the
contract's columns, pseudonymised identifiers, row validation with quarantine, PII redaction,
one transactional upsert. What this adds is bookkeeping: each request gets its own report
(``rows_read == accepted + quarantined``), and the stored rows that are new or changed come
back for live scoring. Requests whose keys overlap go to separate rounds, so a record sent
twice in one group is an idempotent repeat, exactly as if the requests had come one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cximpact.ingest.contracts import Contract, get_contract
from cximpact.ingest.pipeline import IngestReport, _redact_fields, pseudonymise
from cximpact.ingest.redact import redact_series
from cximpact.ingest.validate import check_columns, validate_rows
from cximpact.settings import Settings
from cximpact.store.analytics import AnalyticsStore

__all__ = ["GroupResult", "ingest_frames", "rounds"]


@dataclass(frozen=True)
class GroupResult:
    """Per-request reports, and the stored rows the group inserted or changed."""

    reports: list[IngestReport]
    changed: pd.DataFrame


def _keys(frame: pd.DataFrame, contract: Contract, region: str) -> pd.Series:
    if contract.key not in frame.columns:
        return pd.Series([], dtype=object)
    return pseudonymise(frame[contract.key], region).astype(str)


def rounds(frames: list[pd.DataFrame], kind: str, region: str) -> list[list[int]]:
    """Split requests into rounds whose keys do not overlap (greedy, in arrival order).

    Parameters
    ----------
    frames : list of DataFrame
        One frame per request.
    kind : str
        The kind they hold.
    region : str
        Phone region of the pseudonymisation.

    Returns
    -------
    list of list of int
        Indexes into ``frames``; every request appears once.
    """
    contract = get_contract(kind)
    out: list[tuple[set[str], list[int]]] = []
    for i, frame in enumerate(frames):
        keys = set(_keys(frame, contract, region))
        for seen, members in out:
            if not keys & seen:
                seen |= keys
                members.append(i)
                break
        else:
            out.append((keys, [i]))
    return [members for _, members in out]


def _stored(store: AnalyticsStore, kind: str, key: str, ids: list[str]) -> pd.DataFrame:
    if not ids:
        return pd.DataFrame()
    frame = store.con.execute(
        f'SELECT * FROM {kind} WHERE "{key}" IN (SELECT unnest(?))', [ids]
    ).df()
    return frame.drop(columns=["_source", "_ingested_at"], errors="ignore")


def _changed_keys(before: pd.DataFrame, after: pd.DataFrame, key: str) -> set[str]:
    """Keys stored now that were absent before, or whose stored values changed."""
    if after.empty:
        return set()
    if before.empty:
        return set(after[key].astype(str))
    old = before.set_index(key).astype(str)
    new = after.set_index(key).astype(str)
    fresh = set(new.index.difference(old.index).astype(str))
    common = new.index.intersection(old.index)
    a, b = new.loc[common], old.loc[common, new.columns]
    same = (a == b) | (a.isna() & b.isna())  # missing equals missing (pandas 3 strings keep NaN)
    differs = ~same.all(axis=1)
    return fresh | set(differs[differs].index.astype(str))


def ingest_frames(
    store: AnalyticsStore,
    kind: str,
    frames: list[pd.DataFrame],
    settings: Settings,
    *,
    source: str,
) -> GroupResult:
    """Validate, redact and write several requests' frames of ``kind`` in one transaction.

    Parameters
    ----------
    store : AnalyticsStore
        The single writer.
    kind : str
        One of the contract kinds.
    frames : list of DataFrame
        One frame per request (values as strings); their keys must not overlap
        (see :func:`rounds`), and each must have the contract's required columns.
    settings : Settings
        Limits and the PII region.
    source : str
        Recorded as the rows' ``_source``.

    Returns
    -------
    GroupResult
        One report per frame, in order, and the new or changed stored rows.
    """
    contract = get_contract(kind)
    region = settings.phone_region
    for frame in frames:
        check_columns(frame, contract, source)
    merged = pd.concat(frames, ignore_index=True).astype(object)
    for spec in contract.fields:  # before validation, so references match pseudonymised keys
        if spec.type == "id" and spec.name in merged.columns:
            merged[spec.name] = pseudonymise(merged[spec.name], region)
    keys = merged[contract.key].astype(str)
    ids = [str(v) for v in pd.unique(keys)]
    before = _stored(store, kind, contract.key, ids)
    known = store.known_keys("customers") if contract.customer_ref else None
    result = validate_rows(
        merged,
        contract,
        known_customers=known,
        max_text_chars=settings.max_text_chars,
        max_field_chars=settings.max_field_chars,
    )
    accepted = _redact_fields(result.accepted, contract, region)
    quarantined = result.quarantined
    if len(quarantined):
        quarantined["raw"] = redact_series(quarantined["raw"], region=region)
    store.write_batch(kind, accepted, quarantined, source=source, file_sha256="")
    after = _stored(store, kind, contract.key, ids)
    changed = _changed_keys(before, after, contract.key)
    reports = _reports(
        kind, source, frames, keys, quarantined, set(before.get(contract.key, [])), changed
    )
    rows = after[after[contract.key].astype(str).isin(changed)] if len(after) else after
    return GroupResult(reports, rows.reset_index(drop=True))


def _reports(
    kind: str,
    source: str,
    frames: list[pd.DataFrame],
    keys: pd.Series,
    quarantined: pd.DataFrame,
    existed: set[Any],
    changed: set[str],
) -> list[IngestReport]:
    bounds = np.cumsum([0, *[len(f) for f in frames]])
    bad_rows = (
        quarantined["row_number"].to_numpy(dtype="int64")
        if len(quarantined)
        else np.array([], dtype="int64")
    )
    bad_rules = quarantined["rule"].to_numpy() if len(quarantined) else np.array([], dtype=object)
    ok = np.ones(len(keys), dtype=bool)
    ok[bad_rows] = False
    existed_str = {str(k) for k in existed}
    out = []
    for i in range(len(frames)):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        mine = (bad_rows >= lo) & (bad_rows < hi)
        accepted_keys = keys.iloc[lo:hi][ok[lo:hi]]
        inserted = int((~accepted_keys.isin(existed_str) & accepted_keys.isin(changed)).sum())
        updated = int((accepted_keys.isin(existed_str) & accepted_keys.isin(changed)).sum())
        rules, counts = np.unique(bad_rules[mine].astype(str), return_counts=True)
        out.append(
            IngestReport(
                kind=kind,
                source=source,
                rows_read=hi - lo,
                accepted=int(ok[lo:hi].sum()),
                quarantined=int(mine.sum()),
                inserted=inserted,
                updated=updated,
                by_rule={str(r): int(c) for r, c in zip(rules, counts, strict=True)},
            )
        )
    return out
