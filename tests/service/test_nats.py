"""Interactions from the real NATS JetStream on 127.0.0.1:4222: queue group, at least once,
idempotent (a redelivered message changes nothing)."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest

from cximpact.errors import ContractError
from cximpact.service.consumer import consume, parse_message

from .conftest import TEST_SETTINGS, ingestor_on_copy

NATS_URL = "nats://127.0.0.1:4222"


def _nats_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=1).close()
        return True
    except OSError:
        return False


def test_message_shapes() -> None:
    one = {"id": "a"}
    assert parse_message(json.dumps(one).encode()) == [one]
    assert parse_message(json.dumps([one, one]).encode()) == [one, one]
    assert parse_message(json.dumps({"records": [one]}).encode()) == [one]
    for bad in (b"not json", b"[]", b"[1, 2]", b"\xff"):
        with pytest.raises(ContractError):
            parse_message(bad)


@pytest.mark.nats
@pytest.mark.skipif(not _nats_up(), reason="NATS JetStream is not running on 127.0.0.1:4222")
def test_consumers_ingest_each_message_once_and_redelivery_changes_nothing(
    enterprise_dir: Path, tmp_path: Path
) -> None:
    import nats

    ingestor, tokens = ingestor_on_copy(enterprise_dir, tmp_path, **TEST_SETTINGS)
    ingestor.start(refit=True)
    customers = list(ingestor.view.risk["customer_id"][:20])
    subject = f"cximpact.test.{uuid.uuid4().hex[:8]}"
    stream = f"CXTEST_{uuid.uuid4().hex[:8]}"
    records = [
        {
            "id": f"nats-{i}",
            "customer_id": customers[i % len(customers)],
            "timestamp": "2026-04-28T10:00:00Z",
            "channel": "chat",
            "text": "I was charged twice on my bill, call 415-555-0199",
        }
        for i in range(30)
    ]

    async def scenario() -> dict[str, Any]:
        client = await nats.connect(NATS_URL)
        js = client.jetstream()
        await js.add_stream(name=stream, subjects=[subject])
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(
            consume(
                ingestor.submit,
                NATS_URL,
                subject,
                queue="q" + stream,
                workers=3,
                stop=stop,
                ready=ready,
            )
        )
        await asyncio.wait_for(ready.wait(), 10)
        for record in records:
            await js.publish(subject, json.dumps(record).encode())
        await js.publish(subject, b"not json")  # terminated, never retried, nothing stored
        counts: dict[str, Any] = {}
        for _ in range(100):
            await asyncio.sleep(0.1)
            with ingestor.reader() as cursor:
                stored = cursor.execute(
                    "SELECT count(*) FROM interactions WHERE id LIKE 'nats-%'"
                ).fetchall()[0][0]
            if stored == len(records):
                break
        await asyncio.sleep(0.5)
        counts["first"] = stored
        counts["version"] = ingestor.view.version
        counts["live"] = ingestor.view.live_interactions
        for record in records[:10]:  # a producer retry: the same messages again
            await js.publish(subject, json.dumps(record).encode())
        await asyncio.sleep(1.5)
        with ingestor.reader() as cursor:
            counts["again"] = cursor.execute(
                "SELECT count(*) FROM interactions WHERE id LIKE 'nats-%'"
            ).fetchall()[0][0]
            counts["texts"] = [
                r[0]
                for r in cursor.execute(
                    "SELECT text FROM interactions WHERE id LIKE 'nats-%'"
                ).fetchall()
            ]
        counts["version_again"] = ingestor.view.version
        info = await js.consumer_info(stream, "q" + stream)
        counts["pending"] = info.num_pending + info.num_ack_pending
        stop.set()
        await task
        await js.delete_stream(stream)
        await client.close()
        return counts

    try:
        counts = asyncio.run(scenario())
    finally:
        ingestor.stop()
        tokens.close()
    assert counts["first"] == len(records) == counts["again"]
    assert counts["live"] == len(records)
    assert counts["version_again"] == counts["version"]
    assert counts["pending"] == 0
    assert all("415-555-0199" not in t and "<PHONE>" in t for t in counts["texts"])
