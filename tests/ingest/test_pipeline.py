"""Ingestion invariants: counts balance, idempotent by id, bad files write nothing, no PII."""

import gzip
from pathlib import Path

import pandas as pd
import pytest

from cximpact.errors import CximpactError, FileFormatError
from cximpact.ingest.pipeline import ingest_file
from cximpact.settings import load_settings
from cximpact.simulate import SimulationConfig, simulate, write_enterprise
from cximpact.store.analytics import AnalyticsStore


@pytest.fixture()
def exports(tmp_path: Path) -> dict[str, Path]:
    return write_enterprise(
        simulate(SimulationConfig(customers=300, days=60, seed=3)), tmp_path / "data"
    )


@pytest.fixture()
def store(tmp_path: Path):
    with AnalyticsStore(tmp_path / "a.duckdb") as s:
        yield s


SETTINGS = load_settings()


def test_counts_balance_and_second_ingest_adds_nothing(
    store: AnalyticsStore, exports, tmp_path: Path
) -> None:
    ingest_file(store, "customers", exports["customers"], SETTINGS)
    frame = pd.read_csv(exports["interactions"], dtype=str, keep_default_na=False)
    frame.loc[3, "id"] = ""
    frame.loc[5, "timestamp"] = "not a date"
    frame.loc[7, "customer_id"] = "C9999999"
    frame.loc[9, "text"] = ""
    frame = pd.concat([frame, frame.iloc[[10]]])  # duplicate id
    path = tmp_path / "interactions.csv"
    frame.to_csv(path, index=False)
    first = ingest_file(store, "interactions", path, SETTINGS)
    assert first.rows_read == len(frame) == first.accepted + first.quarantined
    assert first.by_rule == {
        "missing_id": 1,
        "unparsable_date": 1,
        "unknown_customer": 1,
        "empty_text": 1,
        "duplicate_id": 1,
    }
    assert store.count("interactions") == first.inserted == first.accepted
    second = ingest_file(store, "interactions", path, SETTINGS)
    assert second.inserted == 0 and second.rows_read == second.accepted + second.quarantined
    assert store.count("interactions") == first.accepted
    assert store.count("quarantine") == first.quarantined
    rows = store.read("quarantine")
    assert set(rows["fix_hint"].str.len() > 10) == {True}


def test_files_that_are_not_what_they_claim_write_nothing(
    store: AnalyticsStore, exports, tmp_path: Path
) -> None:
    ingest_file(store, "customers", exports["customers"], SETTINGS)
    text = exports["interactions"].read_text()
    bad = {
        "binary.csv": b"\x00\x01\x02PK\x03\x04" * 200,
        "semicolon.csv": text.replace(",", ";").encode(),
        "truncated.csv": text[: len(text) // 2 + 7].encode(),
        "truncated.jsonl": b'{"id": "1", "customer_id": "C0000001"}\n{"id": "2", "cust',
        "truncated.csv.gz": gzip.compress(text.encode())[:200],
    }
    for name, content in bad.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CximpactError) as info:
            ingest_file(store, "interactions", path, SETTINGS)
        assert str(info.value), name
        assert store.count("interactions") == 0 and store.count("quarantine") == 0, name
    with pytest.raises(FileFormatError, match="delimit"):
        ingest_file(store, "interactions", tmp_path / "semicolon.csv", SETTINGS)


def test_no_planted_pii_reaches_any_stored_table(
    store: AnalyticsStore, exports, tmp_path: Path
) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pii_corpus import PII_TYPES, make_corpus

    ingest_file(store, "customers", exports["customers"], SETTINGS)
    corpus = make_corpus(300, seed=11, pii_rate=0.9)
    frame = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(len(corpus))],
            "customer_id": ["C0000001"] * 200
            + ["UNKNOWN"] * (len(corpus) - 200),  # some quarantined
            "timestamp": "2026-01-05T10:00:00Z",
            "channel": "email",
            "text": [text for text, _ in corpus],
            "agent": [text[:40] for text, _ in corpus],
        }
    )
    frame.to_csv(tmp_path / "pii.csv", index=False)
    report = ingest_file(store, "interactions", tmp_path / "pii.csv", SETTINGS)
    assert report.quarantined == len(corpus) - 200
    planted = [v for _, values in corpus for kind, v in values if kind in PII_TYPES]
    assert len(planted) > 200
    stored = "\n".join(
        "\n".join(map(str, store.read(table).to_numpy().ravel()))
        for table in ("interactions", "quarantine")
    )
    leaked = [v for v in planted if v in stored]
    assert not leaked, leaked[:5]


def test_jsonl_and_parquet_readers_feed_the_same_contract(
    store: AnalyticsStore, exports, tmp_path: Path
) -> None:
    ingest_file(store, "customers", exports["customers"], SETTINGS)
    frame = pd.read_csv(exports["interactions"], dtype=str, keep_default_na=False).head(50)
    frame.to_parquet(tmp_path / "i.parquet")
    frame.iloc[25:].to_json(tmp_path / "i.jsonl", orient="records", lines=True)
    a = ingest_file(store, "interactions", tmp_path / "i.parquet", SETTINGS)
    b = ingest_file(store, "interactions", tmp_path / "i.jsonl", SETTINGS)
    assert a.inserted == 50 and b.inserted == 0 and b.accepted == 25


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


CUSTOMER = {
    "id": "c1",
    "start_date": "2020-01-01",
    "segment": "consumer",
    "products": "1",
    "monthly_revenue": "50",
}


def test_corrected_export_updates_rows_and_identical_rows_change_nothing(
    store: AnalyticsStore, tmp_path: Path
) -> None:
    first = ingest_file(store, "customers", _write(tmp_path / "a.csv", [CUSTOMER]), SETTINGS)
    again = ingest_file(store, "customers", _write(tmp_path / "b.csv", [CUSTOMER]), SETTINGS)
    fixed = ingest_file(
        store,
        "customers",
        _write(tmp_path / "c.csv", [CUSTOMER | {"segment": "premium"}]),
        SETTINGS,
    )
    assert (first.inserted, again.inserted, again.updated) == (1, 0, 0)
    assert (fixed.inserted, fixed.updated) == (0, 1)
    stored = store.read("customers")
    assert len(stored) == 1 and stored.loc[0, "segment"] == "premium"


def test_identifiers_that_are_personal_data_are_pseudonymised_consistently(
    store: AnalyticsStore, tmp_path: Path
) -> None:
    email = "john.doe@example.com"
    ingest_file(
        store, "customers", _write(tmp_path / "c.csv", [CUSTOMER | {"id": email}]), SETTINGS
    )
    interaction = {
        "id": "i1",
        "customer_id": email,
        "timestamp": "2026-01-01T00:00:00Z",
        "channel": "chat",
        "text": "hello",
    }
    report = ingest_file(store, "interactions", _write(tmp_path / "i.csv", [interaction]), SETTINGS)
    assert report.accepted == 1, report.by_rule  # the reference still matches
    customer_id = store.read("customers").loc[0, "id"]
    assert customer_id.startswith("pii:") and email not in customer_id
    assert store.read("interactions").loc[0, "customer_id"] == customer_id


def test_pseudonymise_value_by_value_equals_the_column_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cximpact.ingest import pipeline

    ids = pd.Series(
        [
            "C00123",
            "john.doe@example.com",
            None,
            "",
            "+44 20 7946 0958",
            "555-867-5309",
            "4111 1111 1111 1111",
            "bench-r1000-17",
            "123-45-6789",
            "john.doe@example.com",
            "GB82 WEST 1234 5698 7654 32",
            "order 2026-01-01",
        ],
        dtype=object,
    )
    few = pipeline.pseudonymise(ids, "US")
    monkeypatch.setattr(pipeline, "_FEW_IDS", 0)  # the column path (redact_series)
    whole = pipeline.pseudonymise(ids, "US")
    pd.testing.assert_series_equal(few, whole)
    assert few.iloc[1].startswith("pii:") and few.iloc[1] == few.iloc[9]
    assert few.iloc[0] == "C00123" and few.iloc[7] == "bench-r1000-17"


def test_quarantine_keeps_only_contract_columns_and_dedupes_reexports(
    store: AnalyticsStore, tmp_path: Path
) -> None:
    bad = CUSTOMER | {"products": "many", "home_address": "12 Secret Lane", "dob": "1970-01-01"}
    path = _write(tmp_path / "q.csv", [CUSTOMER | {"id": "c2"}, bad])
    ingest_file(store, "customers", path, SETTINGS)
    path.write_text(path.read_text() + "\n")  # same rows, different bytes
    ingest_file(store, "customers", path, SETTINGS)
    rows = store.read("quarantine")
    assert len(rows) == 1 and rows.loc[0, "rule"] == "wrong_type"
    assert "Secret Lane" not in rows.loc[0, "raw"] and "dob" not in rows.loc[0, "raw"]
