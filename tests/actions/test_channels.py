"""Channels against real sinks: a local HTTP receiver, an SMTP sink, RabbitMQ and NATS."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cximpact.actions.channels import build_channel
from cximpact.actions.channels.base import DeliveryError, Message
from cximpact.actions.channels.nats import NatsChannel
from cximpact.actions.channels.rabbitmq import RabbitMqChannel
from cximpact.actions.channels.smtp import SmtpChannel
from cximpact.actions.channels.webhook import (
    SIGNATURE_HEADER,
    ChatWebhookChannel,
    WebhookChannel,
    sign,
    verify_signature,
)
from cximpact.actions.policies import ChannelConfig
from cximpact.errors import ConfigError

RABBIT = "amqp://guest:guest@127.0.0.1:5672/%2F"
NATS = "nats://127.0.0.1:4222"


def _message(key: str = "cxa-1", **payload: Any) -> Message:
    body = {"customer_id": "C1", "case_id": 3, "issue": "billing_error", "action": "retention_call"}
    return Message(key, "x", {**body, **payload})


def test_signature_verifies_and_rejects_tampering_and_replays() -> None:
    body = b'{"a":1}'
    header = sign("s3cret", 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert verify_signature("s3cret", header, body, now=1_700_000_100)
    assert not verify_signature("s3cret", header, b'{"a":2}', now=1_700_000_100)
    assert not verify_signature("other", header, body, now=1_700_000_100)
    assert not verify_signature("s3cret", header, body, now=1_700_001_000)  # too old
    assert not verify_signature("s3cret", "garbage", body)


def test_signed_webhook_reaches_the_receiver(http_receiver: Any) -> None:
    channel = WebhookChannel(http_receiver.url, "s3cret")
    for i in range(3):  # one kept-alive connection serves every message
        receipt = channel.send(_message(f"cxa-{i}"))
        assert receipt.detail == {"status": 200}
    channel.close()
    assert http_receiver.keys() == ["cxa-0", "cxa-1", "cxa-2"]
    request = http_receiver.requests[0]
    assert verify_signature("s3cret", request.headers[SIGNATURE_HEADER], request.body)
    assert json.loads(request.body)["customer_id"] == "C1"


@pytest.mark.parametrize(("status", "transient"), [(503, True), (429, True), (400, False)])
def test_webhook_status_decides_retry_or_dead_letter(
    http_receiver: Any, status: int, transient: bool
) -> None:
    http_receiver.status = lambda _r: status
    with pytest.raises(DeliveryError) as caught:
        WebhookChannel(http_receiver.url, "s").send(_message())
    assert caught.value.transient is transient


def test_unreachable_webhook_is_transient(get_free_port: Callable[[], int]) -> None:
    channel = WebhookChannel(f"http://127.0.0.1:{get_free_port()}/x", "s", timeout_s=2)
    with pytest.raises(DeliveryError) as caught:
        channel.send(_message())
    assert caught.value.transient


def test_webhook_needs_a_secret_and_a_url() -> None:
    with pytest.raises(ConfigError, match="SECRET"):
        WebhookChannel("http://127.0.0.1/x", "")
    with pytest.raises(ConfigError, match="http"):
        WebhookChannel("ftp://host/x", "s")
    with pytest.raises(ConfigError, match="needs the key 'url'"):
        build_channel("hook", ChannelConfig(type="webhook"), "s")
    with pytest.raises(ConfigError, match="known"):
        build_channel("x", ChannelConfig(type="pigeon"))


def test_chat_webhook_posts_slack_compatible_json(http_receiver: Any) -> None:
    ChatWebhookChannel(http_receiver.url).send(_message(context={"script": "Call them"}))
    body = json.loads(http_receiver.requests[0].body)
    assert "retention_call" in body["text"] and "Call them" in body["text"]
    assert body["blocks"][0]["type"] == "section"
    assert "cxa-1" in body["blocks"][1]["elements"][0]["text"]


@pytest.fixture
def smtp_sink(get_free_port: Callable[[], int]) -> Iterator[tuple[int, list[Any]]]:
    """A local SMTP server (aiosmtpd) that keeps every message it gets."""
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    port = get_free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_email_over_smtp(smtp_sink: tuple[int, list[Any]]) -> None:
    port, received = smtp_sink
    channel = SmtpChannel("127.0.0.1", port, "care@example.com")
    message = _message(
        "cxa-mail",
        email="ana@example.com",
        context={"subject": "Sorry", "template": "We fixed it."},
    )
    assert channel.send(message).detail["message_id"] == "<cxa-mail@cximpact>"
    channel.send(_message("cxa-mail-2", email="bo@example.com"))
    channel.close()
    assert [e.rcpt_tos for e in received] == [["ana@example.com"], ["bo@example.com"]]
    text = received[0].content.decode()
    assert (
        "Subject: Sorry" in text
        and "X-Idempotency-Key: cxa-mail" in text
        and "We fixed it." in text
    )
    with pytest.raises(DeliveryError) as caught:
        channel.send(_message("cxa-no-address"))
    assert not caught.value.transient


def test_rabbitmq_publisher_confirms_and_message_id() -> None:
    import pika

    queue = f"cximpact-test-{uuid.uuid4().hex[:8]}"
    channel = RabbitMqChannel(RABBIT, queue=queue)
    try:
        assert channel.send(_message("cxa-rmq")).detail["confirmed"] is True
        connection = pika.BlockingConnection(pika.URLParameters(RABBIT))
        ch = connection.channel()
        method, properties, body = ch.basic_get(queue, auto_ack=True)
        assert method is not None and properties.message_id == "cxa-rmq"
        assert properties.delivery_mode == 2 and json.loads(body)["case_id"] == 3
        ch.queue_delete(queue)
        connection.close()
    finally:
        channel.close()
    unroutable = RabbitMqChannel(RABBIT, routing_key=f"nobody-{uuid.uuid4().hex}")
    with pytest.raises(DeliveryError, match="could not route") as caught:
        unroutable.send(_message())
    assert caught.value.transient
    unroutable.close()


def test_rabbitmq_down_is_transient(get_free_port: Callable[[], int]) -> None:
    channel = RabbitMqChannel(f"amqp://guest:guest@127.0.0.1:{get_free_port()}/%2F", queue="q")
    with pytest.raises(DeliveryError) as caught:
        channel.send(_message())
    assert caught.value.transient


@pytest.mark.nats
def test_nats_jetstream_stores_once_per_idempotency_key() -> None:
    import nats

    suffix = uuid.uuid4().hex[:8]
    stream, subject = f"CXTEST_{suffix}", f"cximpact.test.{suffix}"
    channel = NatsChannel(NATS, subject, stream=stream)
    first = channel.send(_message("cxa-nats"))
    again = channel.send(_message("cxa-nats"))  # a redelivery after a crash
    other = channel.send(_message("cxa-nats-2"))
    channel.close()
    assert first.detail["stream"] == stream and not first.detail["duplicate"]
    assert again.detail["duplicate"] and again.detail["seq"] == first.detail["seq"]
    assert other.detail["seq"] == first.detail["seq"] + 1

    async def check() -> list[str]:
        nc = await nats.connect(NATS)
        js = nc.jetstream()
        info = await js.stream_info(stream)
        sub = await js.pull_subscribe(subject, durable=f"d{suffix}", stream=stream)
        msgs = await sub.fetch(10, timeout=2)
        await js.delete_stream(stream)
        await nc.close()
        assert info.state.messages == 2
        return [m.headers["Nats-Msg-Id"] for m in msgs if m.headers]

    assert asyncio.run(check()) == ["cxa-nats", "cxa-nats-2"]


def test_nats_down_is_transient(get_free_port: Callable[[], int]) -> None:
    channel = NatsChannel(f"nats://127.0.0.1:{get_free_port()}", "x", timeout_s=1)
    with pytest.raises(DeliveryError) as caught:
        channel.send(_message())
    assert caught.value.transient
