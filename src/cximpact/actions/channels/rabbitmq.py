"""RabbitMQ through ``pika`` with publisher confirms: a send returns once the broker has it.

Messages are persistent, ``mandatory`` (an unroutable message fails instead of vanishing) and
carry the idempotency key as ``message_id`` and in the ``Idempotency-Key`` header; consumers
deduplicate on it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from cximpact.actions.channels.base import DeliveryError, Message, Receipt

__all__ = ["RabbitMqChannel"]


class RabbitMqChannel:
    """Publish each action to an exchange (or, with ``queue``, to a durable queue).

    Parameters
    ----------
    url : str
        AMQP URL, for example ``amqp://guest:guest@127.0.0.1:5672/%2F``.
    exchange : str, optional
        Exchange to publish to; the default exchange when empty.
    routing_key : str, optional
        Routing key; defaults to ``queue``.
    queue : str, optional
        A durable queue declared on connect (and the routing key when none is given).
    """

    def __init__(
        self,
        url: str,
        *,
        exchange: str = "",
        routing_key: str | None = None,
        queue: str | None = None,
    ) -> None:
        self._url, self._exchange, self._queue = url, exchange, queue
        self._routing_key = routing_key or queue or "cximpact.actions"
        self._connection: Any = None
        self._channel: Any = None

    def _open(self) -> Any:
        import pika  # type: ignore[import-untyped]

        if self._channel is None or not self._channel.is_open:
            self.close()
            self._connection = pika.BlockingConnection(pika.URLParameters(self._url))
            channel = self._connection.channel()
            channel.confirm_delivery()
            if self._queue:
                channel.queue_declare(queue=self._queue, durable=True)
            self._channel = channel
        return self._channel

    def send(self, message: Message) -> Receipt:
        """Publish and wait for the broker's confirm; nacks and unroutable messages fail."""
        import pika
        import pika.exceptions as pe  # type: ignore[import-untyped]

        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message.idempotency_key,
            headers={"Idempotency-Key": message.idempotency_key},
        )
        try:
            self._open().basic_publish(
                self._exchange, self._routing_key, message.body(), properties, mandatory=True
            )
        except pe.UnroutableError as exc:
            raise DeliveryError(
                f"RabbitMQ could not route {message.idempotency_key} to "
                f"{self._exchange or '(default)'}/{self._routing_key}; declare the queue or "
                "binding",
                transient=True,
            ) from exc
        except (pe.AMQPError, OSError) as exc:
            self.close()
            raise DeliveryError(f"RabbitMQ publish failed: {exc!r}", transient=True) from exc
        return Receipt("rabbitmq", {"routing_key": self._routing_key, "confirmed": True})

    def close(self) -> None:
        """Close the connection (quietly, if it is already gone)."""
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection must not raise
                if self._connection.is_open:
                    self._connection.close()
        self._connection = self._channel = None
