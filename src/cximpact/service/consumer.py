"""Interactions from a NATS JetStream subject, at least once, with idempotent ingest.

Each consumer is a push subscription in one queue group with a durable name, so JetStream
delivers every message to one member of the group and redelivers it until it is acknowledged.
A message is acknowledged only after its records are stored, scored and audited by the single
writer; a message that can never succeed (not JSON, or breaking the contract's columns) is
terminated and logged; a failure of the store is negatively acknowledged and comes back.
Redelivery is harmless: the interaction id is the key, and an identical row changes nothing.

A message holds one interaction object, a list of them, or ``{"records": [...]}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError as StreamNotFound

from cximpact.errors import ContractError, CximpactError, StoreError
from cximpact.service.live import records_frame

__all__ = ["Submit", "consume", "parse_message", "stream_name"]

log = logging.getLogger(__name__)
Submit = Callable[..., "Future[Any]"]
_IN_FLIGHT = 512  # messages a process holds unacknowledged at once


def stream_name(subject: str) -> str:
    """The stream created for ``subject`` when none covers it: ``CXIMPACT_<subject>``."""
    return "CXIMPACT_" + re.sub(r"[^A-Za-z0-9_-]", "_", subject).upper()


def parse_message(data: bytes) -> list[dict[str, Any]]:
    """Records in a message: an object, a list of objects, or ``{"records": [...]}``.

    Raises
    ------
    ContractError
        If the payload is not JSON or not one of those shapes.
    """
    try:
        payload = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"message is not JSON ({exc}); publish interaction objects") from exc
    if isinstance(payload, dict) and isinstance(payload.get("records"), list):
        payload = payload["records"]
    records = payload if isinstance(payload, list) else [payload]
    if not records or not all(isinstance(r, dict) for r in records):
        raise ContractError(
            'message must hold an interaction object, a list of them, or {"records": [...]}'
        )
    return records


async def _ensure_stream(js: Any, subject: str, stream: str | None) -> str:
    try:
        found: str = await js.find_stream_name_by_subject(subject)
        return found
    except StreamNotFound:
        name = stream or stream_name(subject)
        await js.add_stream(name=name, subjects=[subject])
        return name


async def consume(
    submit: Submit,
    url: str,
    subject: str,
    *,
    queue: str = "cximpact",
    workers: int = 2,
    stream: str | None = None,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Consume ``subject`` until ``stop`` is set (or forever).

    Parameters
    ----------
    submit : callable
        ``submit(kind, frame, source=..., actor=...)`` returning a future of the ingest
        outcome (:meth:`cximpact.service.live.Ingestor.submit`).
    url : str
        NATS server, e.g. ``nats://127.0.0.1:4222``.
    subject : str
        Subject the interactions are published to; a stream is created for it if none covers it.
    queue : str
        Queue group and durable consumer name shared by every consumer of the group.
    workers : int
        Subscriptions this process opens in the group.
    stream : str, optional
        Name for the stream if one must be created.
    stop, ready : asyncio.Event, optional
        Set ``stop`` to drain and return; ``ready`` is set once subscribed.
    """
    try:
        client = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=3)
    except Exception as exc:  # nats raises its own tree and OSError; translate at the edge
        raise StoreError(
            f"cannot connect to NATS at {url}: {exc}; start the server or fix --nats"
        ) from exc
    js = client.jetstream()
    name = await _ensure_stream(js, subject, stream)
    slots = asyncio.Semaphore(_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()

    async def handle(msg: Msg) -> None:
        await slots.acquire()
        task = asyncio.create_task(_process(msg, submit, subject, slots))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    config = ConsumerConfig(
        ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=4 * _IN_FLIGHT
    )
    subscriptions = [
        await js.subscribe(
            subject,
            queue=queue,
            durable=queue,
            stream=name,
            cb=handle,
            manual_ack=True,
            config=config,
        )
        for _ in range(max(workers, 1))
    ]
    log.info(
        "consuming %s (stream %s) in queue group %s with %d workers",
        subject,
        name,
        queue,
        len(subscriptions),
    )
    if ready is not None:
        ready.set()
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        for sub in subscriptions:
            await sub.unsubscribe()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await client.drain()


async def _process(msg: Msg, submit: Submit, subject: str, slots: asyncio.Semaphore) -> None:
    try:
        records = parse_message(msg.data)
        future = submit(
            "interactions",
            records_frame(records),
            source=f"nats:{subject}",
            actor=f"nats:{subject}",
        )
        await asyncio.wrap_future(future)
    except ContractError as exc:
        log.error("message on %s refused, not redelivered: %s", subject, exc)
        await msg.term()
    except CximpactError as exc:
        log.warning("message on %s failed, will be redelivered: %s", subject, exc)
        await msg.nak(delay=1.0)
    else:
        await msg.ack()
    finally:
        slots.release()
