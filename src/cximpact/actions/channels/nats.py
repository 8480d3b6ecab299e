"""NATS JetStream through ``nats-py``: a send returns once the stream has stored the message.

The idempotency key is sent as ``Nats-Msg-Id``, so JetStream itself drops a repeat inside the
stream's duplicate window (2 minutes by default); consumers still deduplicate on it beyond that.
``nats-py`` is asynchronous; the channel drives its own event loop, so callers stay synchronous.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from cximpact.actions.channels.base import DeliveryError, Message, Receipt

__all__ = ["NatsChannel"]


async def _quiet(_error: Exception) -> None:
    """nats-py logs each failed connect itself; the worker reports the DeliveryError instead."""


class NatsChannel:
    """Publish each action to a JetStream subject.

    Parameters
    ----------
    url : str
        Server URL, for example ``nats://127.0.0.1:4222``.
    subject : str
        Subject to publish on.
    stream : str, optional
        A stream to create (or reuse) over ``subject`` on connect.
    timeout_s : float, optional
        Publish-acknowledgement timeout.
    """

    def __init__(
        self, url: str, subject: str, *, stream: str | None = None, timeout_s: float = 5.0
    ) -> None:
        self._url, self._subject, self._stream, self._timeout = url, subject, stream, timeout_s
        self._loop = asyncio.new_event_loop()
        self._nc: Any = None
        self._js: Any = None

    async def _connect(self) -> Any:
        import nats

        if self._nc is None or not self._nc.is_connected:
            self._nc = await nats.connect(
                self._url,
                connect_timeout=self._timeout,
                allow_reconnect=False,  # the worker retries; a send never waits for a reconnect
                max_reconnect_attempts=1,  # 0 would mean "forever" for the first connect
                reconnect_time_wait=0.2,
                error_cb=_quiet,
            )
            self._js = self._nc.jetstream(timeout=self._timeout)
            if self._stream:
                from nats.js.errors import BadRequestError

                with contextlib.suppress(BadRequestError):  # exists already: keep its settings
                    await self._js.add_stream(name=self._stream, subjects=[self._subject])
        return self._js

    async def _publish(self, message: Message) -> Any:
        js = await self._connect()
        return await js.publish(
            self._subject, message.body(), headers={"Nats-Msg-Id": message.idempotency_key}
        )

    def send(self, message: Message) -> Receipt:
        """Publish and wait for the stream's acknowledgement."""
        from nats.errors import Error as NatsError

        try:
            ack = self._loop.run_until_complete(self._publish(message))
        except (NatsError, OSError, TimeoutError) as exc:
            self.close()
            raise DeliveryError(f"NATS publish failed: {exc!r}", transient=True) from exc
        return Receipt(
            "nats", {"stream": ack.stream, "seq": ack.seq, "duplicate": bool(ack.duplicate)}
        )

    def close(self) -> None:
        """Drain and close the connection (quietly, if it is already gone)."""
        if self._nc is not None:
            with contextlib.suppress(Exception):  # closing a broken connection must not raise
                self._loop.run_until_complete(self._nc.close())
        self._nc = self._js = None
