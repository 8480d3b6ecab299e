"""The one seam between the outbox worker and an outside system: ``send(message) -> receipt``.

Errors of libraries (``OSError``, ``smtplib``, ``pika``, ``nats``) are translated at this
boundary into :class:`DeliveryError`, whose ``transient`` flag tells the worker to retry later
(connection refused, timeout, 5xx, 429) or to dead-letter at once (4xx, no address).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from cximpact.errors import CximpactError

__all__ = ["Channel", "DeliveryError", "Message", "Receipt", "RecordingChannel"]


@dataclass(frozen=True)
class Message:
    """One outbox message, as a channel receives it."""

    idempotency_key: str
    channel: str
    payload: dict[str, Any]
    attempt: int = 1

    def body(self) -> bytes:
        """The payload as compact, key-sorted JSON (what webhooks sign and brokers carry)."""
        return json.dumps(self.payload, sort_keys=True, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class Receipt:
    """What the channel acknowledged (status code, broker sequence, message id ...)."""

    channel: str
    detail: dict[str, Any] = field(default_factory=dict)


class DeliveryError(CximpactError):
    """A channel did not accept a message.

    Parameters
    ----------
    message : str
        What failed and why.
    transient : bool
        Whether a later retry may succeed.
    """

    http_status = 502

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Channel(Protocol):
    """A delivery channel; one client per sink, reused across messages."""

    def send(self, message: Message) -> Receipt:
        """Deliver ``message`` or raise :class:`DeliveryError`."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class RecordingChannel:
    """A fake channel that records what it was given; ``fail`` makes it raise instead.

    Parameters
    ----------
    name : str, optional
        Channel name put on receipts.
    fail : callable, optional
        ``fail(message) -> DeliveryError | None``; the error is raised when not None.
    """

    def __init__(self, name: str = "recording", fail: Any = None) -> None:
        self.name = name
        self.fail = fail
        self.sent: list[Message] = []
        self.closed = False

    def send(self, message: Message) -> Receipt:
        """Record ``message`` (or raise the error ``fail`` returns)."""
        error = self.fail(message) if self.fail is not None else None
        if error is not None:
            raise error
        self.sent.append(message)
        return Receipt(self.name, {"recorded": len(self.sent)})

    def close(self) -> None:
        """Mark the channel closed."""
        self.closed = True
