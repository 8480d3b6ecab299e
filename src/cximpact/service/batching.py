"""Group commit: the records of many requests validated, redacted and written as one batch.

The steps are those of :func:`cximpact.ingest.pipeline.ingest_frame` (the CLI's path): the
contract's columns, pseudonymised identifiers, row validation with quarantine, PII redaction,
one transactional upsert. What this adds is bookkeeping: each request gets its own report
(``rows_read == accepted + quarantined``), and the rows that are new or changed come back for
live scoring. The work is split in two so the live path can score while the store writes:
:func:`prepare_frames` validates, redacts and compares the rows with the store (the same
comparison the upsert makes, so nothing is read back after writing), and :func:`write_group`
writes them in one transaction. Requests whose keys overlap go to separate rounds, so a record sent
twice in one group is an idempotent repeat, exactly as if the requests had come one by one.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from cximpact.errors import StoreError
from cximpact.ingest.contracts import Contract, get_contract
from cximpact.ingest.pipeline import IngestReport, _redact_fields, pseudonymise
from cximpact.ingest.redact import redact_series
from cximpact.ingest.validate import check_columns, validate_rows
from cximpact.service._rows import isin
from cximpact.settings import Settings
from cximpact.store.analytics import AnalyticsStore

__all__ = [
    "CleanedGroup",
    "GroupResult",
    "PreparedGroup",
    "clean_frames",
    "finish_group",
    "ingest_frames",
    "prepare_frames",
    "rounds",
    "write_group",
]


@dataclass(frozen=True)
class GroupResult:
    """Per-request reports, and the stored rows the group inserted or changed."""

    reports: list[IngestReport]
    changed: pd.DataFrame


def _keys(frame: pd.DataFrame, contract: Contract) -> set[str]:
    """A request's keys as sent, stripped (before pseudonymisation, which is deterministic:
    equal keys stay equal, so overlapping raw keys are the only overlaps it can produce)."""
    if contract.key not in frame.columns:
        return set()
    return set(frame[contract.key].fillna("").astype(str).str.strip())


def rounds(frames: list[pd.DataFrame], kind: str, region: str) -> list[list[int]]:
    """Split requests into rounds whose keys do not overlap (greedy, in arrival order).

    Parameters
    ----------
    frames : list of DataFrame
        One frame per request.
    kind : str
        The kind they hold.
    region : str
        Phone region of the pseudonymisation (unused: keys are compared as sent, which can
        only split more, never less, than comparing them pseudonymised).

    Returns
    -------
    list of list of int
        Indexes into ``frames``; every request appears once.
    """
    contract = get_contract(kind)
    if len(frames) <= 1:
        return [list(range(len(frames)))] if frames else []
    out: list[tuple[set[str], list[int]]] = []
    for i, frame in enumerate(frames):
        keys = _keys(frame, contract)
        for seen, members in out:
            if not keys & seen:
                seen |= keys
                members.append(i)
                break
        else:
            out.append((keys, [i]))
    return [members for _, members in out]


def _diff(
    store: AnalyticsStore,
    kind: str,
    accepted: pd.DataFrame,
    stored_keys: AbstractSet[str] | None = None,
) -> tuple[set[str], set[str]]:
    """Keys of ``accepted`` that the store lacks, and keys stored with other values.

    The same comparison as :meth:`AnalyticsStore.write_batch` makes (a row whose contract
    columns equal the stored ones is an idempotent repeat), made before the write, so what the
    write will change is known without reading it back. With ``stored_keys`` (every key the
    store holds for ``kind``), a key outside it is new without asking the store, and only the
    rows of keys inside it are compared with their stored rows: O(batch), not a scan of the
    table per batch.
    """
    if accepted.empty:
        return set(), set()
    contract = get_contract(kind)
    key = contract.key
    new: set[str] = set()
    if stored_keys is not None:
        keys = accepted[key].astype(str).tolist()
        new = {k for k in keys if k not in stored_keys}
        if len(new) == len(set(keys)):
            return new, set()
        accepted = accepted[[k not in new for k in keys]]
    cols = ", ".join(f'"{name}"' for name in contract.names)
    cursor = store.con.cursor()
    try:
        cursor.register("_incoming", accepted[list(contract.names)])
        rows = cursor.execute(
            f'SELECT true, "{key}" FROM _incoming '
            f'WHERE "{key}" NOT IN (SELECT "{key}" FROM {kind}) UNION ALL '
            f'SELECT false, "{key}" FROM (SELECT {cols} FROM _incoming '
            f'WHERE "{key}" IN (SELECT "{key}" FROM {kind}) EXCEPT SELECT {cols} FROM {kind} '
            f'WHERE "{key}" IN (SELECT "{key}" FROM _incoming))'  # only the batch's stored rows
        ).fetchall()
    finally:
        cursor.close()
    new |= {str(k) for is_new, k in rows if is_new}
    return new, {str(k) for is_new, k in rows if not is_new}


@dataclass(frozen=True)
class PreparedGroup:
    """A group validated, redacted and compared with the store, not yet written.

    ``result`` is what the group will have done once :func:`write_group` wrote it: each
    request's report and the accepted rows that are new or changed (typed as stored).
    """

    kind: str
    source: str
    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    result: GroupResult
    new: frozenset[str] = frozenset()
    """Accepted keys the store lacks."""
    differs: frozenset[str] = frozenset()
    """Accepted keys stored with other values."""


@dataclass(frozen=True)
class CleanedGroup:
    """A group's frames validated and redacted, before the store is consulted.

    The part of :func:`prepare_frames` that needs no store (pseudonymised keys, row
    validation with quarantine, PII redaction): pure, so the live path runs it on its worker
    process (:mod:`cximpact.service._worker`); :func:`finish_group` does the rest.
    """

    kind: str
    source: str
    sizes: tuple[int, ...]
    """Rows of each request, in order."""
    keys: pd.Series
    """Every row's key after pseudonymisation, requests concatenated."""
    accepted: pd.DataFrame
    quarantined: pd.DataFrame


def clean_frames(
    kind: str,
    frames: list[pd.DataFrame],
    settings: Settings,
    *,
    source: str,
    known_customers: pd.Index | pd.Series | None,
) -> CleanedGroup:
    """Validate and redact several requests' frames of ``kind`` (no store needed).

    Parameters are those of :func:`prepare_frames`; ``known_customers`` is required for kinds
    that refer to customers (``None`` skips the reference check).
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
    result = validate_rows(
        merged,
        contract,
        known_customers=known_customers if contract.customer_ref else None,
        max_text_chars=settings.max_text_chars,
        max_field_chars=settings.max_field_chars,
    )
    accepted = _redact_fields(result.accepted, contract, region)
    quarantined = result.quarantined
    if len(quarantined):
        quarantined["raw"] = redact_series(quarantined["raw"], region=region)
    sizes = tuple(len(frame) for frame in frames)
    return CleanedGroup(kind, source, sizes, keys, accepted, quarantined)


def finish_group(
    store: AnalyticsStore, cleaned: CleanedGroup, *, stored_keys: AbstractSet[str] | None = None
) -> PreparedGroup:
    """Compare a cleaned group with the store: what the write will insert or change, and
    each request's report (see :func:`prepare_frames`)."""
    kind, accepted = cleaned.kind, cleaned.accepted
    key = get_contract(kind).key
    new, differs = _diff(store, kind, accepted, stored_keys)
    changed = new | differs
    existed = set(accepted[key].astype(str)) - new if len(accepted) else set()
    reports = _reports(
        kind, cleaned.source, cleaned.sizes, cleaned.keys, cleaned.quarantined, existed, changed
    )
    rows = accepted[isin(accepted[key].astype(str), changed)] if changed else accepted[:0]
    return PreparedGroup(
        kind,
        cleaned.source,
        accepted,
        cleaned.quarantined,
        GroupResult(reports, rows.reset_index(drop=True)),
        frozenset(new),
        frozenset(differs),
    )


def prepare_frames(
    store: AnalyticsStore,
    kind: str,
    frames: list[pd.DataFrame],
    settings: Settings,
    *,
    source: str,
    known_customers: pd.Index | pd.Series | None = None,
    stored_keys: AbstractSet[str] | None = None,
) -> PreparedGroup:
    """Validate, redact and compare several requests' frames of ``kind`` with the store.

    :func:`clean_frames`, then :func:`finish_group`.

    Parameters
    ----------
    store : AnalyticsStore
        The single writer (read here, written by :func:`write_group`).
    kind : str
        One of the contract kinds.
    frames : list of DataFrame
        One frame per request (values as strings); their keys must not overlap
        (see :func:`rounds`), and each must have the contract's required columns.
    settings : Settings
        Limits and the PII region.
    source : str
        Recorded as the rows' ``_source``.
    known_customers : pandas.Index or pandas.Series, optional
        Customer ids the store holds (read from the store when not given).
    stored_keys : set of str, optional
        Every key the store holds for ``kind`` (the service's writer keeps it); rows with
        other keys are new without a look at the table (see :func:`_diff`).

    Returns
    -------
    PreparedGroup
        What to write, and the reports and changed rows the write will produce.
    """
    known = known_customers
    if get_contract(kind).customer_ref and known is None:
        known = store.known_keys("customers")
    cleaned = clean_frames(kind, frames, settings, source=source, known_customers=known)
    return finish_group(store, cleaned, stored_keys=stored_keys)


def write_group(store: AnalyticsStore, prepared: PreparedGroup) -> None:
    """Write a prepared group in one transaction: what :meth:`AnalyticsStore.write_batch`
    writes, touching only the group's rows.

    ``write_batch`` finds the changed rows by comparing the batch with the whole table
    (O(table) per write); :func:`prepare_frames` already compared it with the stored rows of
    its keys, and the writer is the only one, so here the changed keys are replaced and the
    new ones inserted (O(batch)); quarantine rows already recorded are skipped as there.
    Rows and quarantine carry the same bookkeeping columns (``_source``, ``_ingested_at``;
    ``kind``, ``source``, ``file_sha256``, ``quarantined_at``).

    Raises
    ------
    StoreError
        The transaction failed; nothing was written.
    """
    contract = get_contract(prepared.kind)
    key, kind = contract.key, prepared.kind
    now = pd.Timestamp.now("UTC").tz_localize(None)
    written = prepared.new | prepared.differs
    rows = prepared.accepted
    if written and len(rows):
        rows = rows[isin(rows[key].astype(str), written)]
    batch = rows.assign(_source=prepared.source, _ingested_at=now)
    bad = prepared.quarantined.assign(
        kind=kind, source=prepared.source, file_sha256="", quarantined_at=now
    )
    if not written and bad.empty:
        return  # an idempotent repeat: nothing to write
    con = store.con
    try:
        con.begin()
        if written:
            con.register("_batch", batch)
            if prepared.differs:
                con.execute(
                    f'DELETE FROM {kind} WHERE "{key}" IN (SELECT unnest(?))',
                    [sorted(prepared.differs)],
                ).fetchall()
            con.execute(f"INSERT INTO {kind} BY NAME SELECT * FROM _batch").fetchall()
        if len(bad):
            con.register("_bad", bad)
            con.execute(
                "INSERT INTO quarantine BY NAME SELECT * FROM _bad b WHERE NOT EXISTS ("
                "SELECT 1 FROM quarantine q WHERE q.kind = b.kind AND q.rule = b.rule "
                "AND q.raw = b.raw)"
            ).fetchall()
        con.commit()
    except duckdb.Error as exc:
        con.rollback()
        raise StoreError(
            f"writing {kind} to {store.path} failed, nothing was written: {exc}"
        ) from exc
    finally:
        con.unregister("_batch")
        con.unregister("_bad")


def ingest_frames(
    store: AnalyticsStore,
    kind: str,
    frames: list[pd.DataFrame],
    settings: Settings,
    *,
    source: str,
) -> GroupResult:
    """Validate, redact and write several requests' frames of ``kind`` in one transaction.

    :func:`prepare_frames` then :func:`write_group`; see there for the parameters.

    Returns
    -------
    GroupResult
        One report per frame, in order, and the new or changed stored rows.
    """
    prepared = prepare_frames(store, kind, frames, settings, source=source)
    write_group(store, prepared)
    return prepared.result


def _reports(
    kind: str,
    source: str,
    sizes: tuple[int, ...],
    keys: pd.Series,
    quarantined: pd.DataFrame,
    existed: set[str],
    changed: set[str],
) -> list[IngestReport]:
    bounds = np.cumsum([0, *sizes])
    bad_rows = (
        quarantined["row_number"].to_numpy(dtype="int64")
        if len(quarantined)
        else np.array([], dtype="int64")
    )
    bad_rules = quarantined["rule"].to_numpy() if len(quarantined) else np.array([], dtype=object)
    ok = np.ones(len(keys), dtype=bool)
    ok[bad_rows] = False
    was = isin(keys, existed)  # once for the group, sliced per request
    new = isin(keys, changed)
    out = []
    for i in range(len(sizes)):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        mine = (bad_rows >= lo) & (bad_rows < hi)
        took = ok[lo:hi] & new[lo:hi]  # accepted and written
        inserted = int((took & ~was[lo:hi]).sum())
        updated = int((took & was[lo:hi]).sum())
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
