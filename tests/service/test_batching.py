"""Group commit keeps each request's report exact and a resent record idempotent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cximpact.ingest.pipeline import ingest_frame
from cximpact.service.batching import ingest_frames, rounds
from cximpact.service.live import records_frame
from cximpact.settings import load_settings
from cximpact.store.analytics import AnalyticsStore

CUSTOMERS = [
    {
        "id": f"c{i}",
        "start_date": "2020-01-01",
        "segment": "smb",
        "products": 1,
        "monthly_revenue": 9,
    }
    for i in range(3)
]


def _interaction(i: int, customer: str = "c0", text: str = "charged twice") -> dict[str, object]:
    return {
        "id": f"i{i}",
        "customer_id": customer,
        "timestamp": "2024-01-02T10:00:00Z",
        "channel": "chat",
        "text": text,
    }


def _store() -> AnalyticsStore:
    store = AnalyticsStore(":memory:")
    ingest_frame(
        store, "customers", records_frame(CUSTOMERS), load_settings(), source="t", file_sha256=""
    )
    return store


def test_each_request_gets_its_own_report() -> None:
    settings = load_settings()
    store = _store()
    first = records_frame([_interaction(1), _interaction(2, customer="nobody")])
    second = records_frame([_interaction(3, text="mail me at a@b.example"), _interaction(4)])
    result = ingest_frames(store, "interactions", [first, second], settings, source="api")
    one, two = result.reports
    assert (one.rows_read, one.accepted, one.quarantined, one.inserted) == (2, 1, 1, 1)
    assert one.by_rule == {"unknown_customer": 1}
    assert (two.rows_read, two.accepted, two.quarantined, two.inserted) == (2, 2, 0, 2)
    assert sorted(result.changed["id"]) == ["i1", "i3", "i4"]
    assert "a@b.example" not in " ".join(result.changed["text"])


def test_resent_and_corrected_records() -> None:
    settings = load_settings()
    store = _store()
    frame = records_frame([_interaction(1), _interaction(2)])
    ingest_frames(store, "interactions", [frame], settings, source="api")
    again = ingest_frames(store, "interactions", [frame], settings, source="api")
    assert again.reports[0].inserted == 0 and again.reports[0].updated == 0
    assert again.changed.empty
    fixed = records_frame([_interaction(1, text="charged three times")])
    corrected = ingest_frames(store, "interactions", [fixed], settings, source="api")
    assert corrected.reports[0].updated == 1 and list(corrected.changed["id"]) == ["i1"]
    assert store.count("interactions") == 2


def test_requests_sharing_keys_go_to_separate_rounds() -> None:
    frames = [
        pd.DataFrame({"id": ["i1", "i2"]}),
        pd.DataFrame({"id": ["i3"]}),
        pd.DataFrame({"id": ["i2"]}),
        pd.DataFrame({"id": ["i2", "i9"]}),
    ]
    assert rounds(frames, "interactions", "US") == [[0, 1], [2], [3]]


def test_the_group_write_stores_what_the_cli_write_stores() -> None:
    """write_group (only the batch's rows) leaves the tables as write_batch (whole table) does."""
    settings = load_settings()
    steps = [
        [_interaction(1), _interaction(2, customer="nobody"), _interaction(3)],
        [_interaction(1), _interaction(2, customer="nobody")],  # a resend, quarantine again
        [_interaction(1, text="charged three times"), _interaction(4, customer="c1")],
    ]
    grouped, cli = _store(), _store()
    for records in steps:
        ingest_frames(grouped, "interactions", [records_frame(records)], settings, source="api")
        ingest_frame(
            cli, "interactions", records_frame(records), settings, source="api", file_sha256=""
        )

    def table(store: AnalyticsStore, name: str, drop: list[str]) -> pd.DataFrame:
        frame = store.con.execute(f"SELECT * FROM {name}").df().drop(columns=drop)
        return frame.sort_values(list(frame.columns)).reset_index(drop=True)

    pd.testing.assert_frame_equal(
        table(grouped, "interactions", ["_ingested_at"]),
        table(cli, "interactions", ["_ingested_at"]),
    )
    pd.testing.assert_frame_equal(
        table(grouped, "quarantine", ["quarantined_at"]),
        table(cli, "quarantine", ["quarantined_at"]),
    )
    assert grouped.count("interactions") == 3 and grouped.count("quarantine") == 1


def test_stored_keys_give_what_the_table_comparison_gives() -> None:
    """The writer's set of stored keys: new, repeated and corrected rows as the SQL finds them."""
    from cximpact.service.batching import prepare_frames, write_group

    settings = load_settings()
    stored = _store(), _store()
    keys: set[str] = set()
    posts = [
        [_interaction(1), _interaction(2)],
        [_interaction(1), _interaction(3)],  # a repeat and a new one
        [_interaction(2, text="charged three times"), _interaction(4)],  # a correction
        [_interaction(2, text="charged three times")],  # the correction again
    ]
    for records in posts:
        frame = records_frame(records)
        with_set = prepare_frames(
            stored[0], "interactions", [frame], settings, source="api", stored_keys=keys
        )
        scanned = prepare_frames(stored[1], "interactions", [frame], settings, source="api")
        assert (with_set.new, with_set.differs) == (scanned.new, scanned.differs)
        assert with_set.result.reports == scanned.result.reports
        pd.testing.assert_frame_equal(with_set.result.changed, scanned.result.changed)
        write_group(stored[0], with_set)
        write_group(stored[1], scanned)
        keys |= with_set.new
    assert keys == {"i1", "i2", "i3", "i4"}
    assert [s.count("interactions") for s in stored] == [4, 4]


def test_the_writer_rebuilds_stored_keys_after_a_restart(tmp_path: Path) -> None:
    from cximpact.service.live import Ingestor
    from cximpact.store.state import StateStore

    settings = load_settings(db=tmp_path / "x.duckdb")
    with AnalyticsStore(settings.db) as store:
        ingest_frame(
            store, "customers", records_frame(CUSTOMERS), settings, source="t", file_sha256=""
        )
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    first = Ingestor(settings, state)
    first.start(refit=False)
    frame = records_frame([_interaction(1), _interaction(2)])
    assert first.ingest("interactions", frame, source="api", actor="t").report.inserted == 2
    first.stop()
    again = Ingestor(settings, state)
    again.start(refit=False)
    try:
        repeat = again.ingest("interactions", frame, source="api", actor="t").report
        assert (repeat.inserted, repeat.updated) == (0, 0)
        assert again._keys["interactions"] == {"i1", "i2"}
    finally:
        again.stop()
