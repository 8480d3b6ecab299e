"""Signed webhook and Slack-compatible chat webhook, over one kept-alive HTTP connection.

Signed webhook request (``POST``, body = the action's JSON)::

    Content-Type: application/json
    Idempotency-Key: cxa-<32 hex>
    X-Cximpact-Timestamp: <unix seconds>
    X-Cximpact-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in
constant time, refuses timestamps older than its tolerance (replays) and deduplicates on
``Idempotency-Key`` (:func:`verify_signature` does the first three). Status 2xx or 409 is
delivered; 408, 429 and 5xx are retried; any other 4xx is dead-lettered at once.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

from cximpact.actions.channels.base import DeliveryError, Message, Receipt
from cximpact.errors import ConfigError

__all__ = [
    "SIGNATURE_HEADER",
    "ChatWebhookChannel",
    "WebhookChannel",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Cximpact-Signature"
TIMESTAMP_HEADER = "X-Cximpact-Timestamp"
_RETRY_STATUS = frozenset({408, 425, 429})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value: ``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "t.body")>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """Check a webhook's signature header against its raw body.

    Parameters
    ----------
    secret : str
        The shared secret (``CXIMPACT_ACTIONS_WEBHOOK_SECRET`` on the sender).
    header : str
        The ``X-Cximpact-Signature`` value.
    body : bytes
        The raw request body, exactly as received.
    tolerance_s : int, optional
        Oldest (or most future) timestamp accepted, in seconds.
    now : float, optional
        Current Unix time (for tests).

    Returns
    -------
    bool
        True when the signature matches and the timestamp is fresh.
    """
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class _Poster:
    """POSTs over one kept-alive connection, reopened after any failure."""

    def __init__(self, url: str, timeout_s: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"webhook url {url!r} must be http(s)://host[:port]/path")
        self._parts = parts
        self._timeout = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = (
                http.client.HTTPSConnection
                if self._parts.scheme == "https"
                else http.client.HTTPConnection
            )
            self._conn = cls(self._parts.hostname or "", self._parts.port, timeout=self._timeout)
        return self._conn

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        path = self._parts.path or "/"
        if self._parts.query:
            path += "?" + self._parts.query
        try:
            conn = self._connection()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise DeliveryError(
                f"POST {self._parts.geturl()} failed: {exc!r}", transient=True
            ) from exc
        if 200 <= status < 300 or status == 409:
            return status
        self.close()
        raise DeliveryError(
            f"POST {self._parts.geturl()} answered {status}",
            transient=status >= 500 or status in _RETRY_STATUS,
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class WebhookChannel:
    """Signed JSON webhook (HMAC-SHA256 over timestamp + body; see the module docstring).

    Parameters
    ----------
    url : str
        Where to POST.
    secret : str
        Shared signing secret.
    timeout_s : float, optional
        Connect and read timeout.
    """

    def __init__(self, url: str, secret: str, *, timeout_s: float = 10.0) -> None:
        if not secret:
            raise ConfigError(
                "the signed webhook needs a secret; set CXIMPACT_ACTIONS_WEBHOOK_SECRET"
            )
        self._poster = _Poster(url, timeout_s)
        self._secret = secret

    def send(self, message: Message) -> Receipt:
        """POST the signed payload; see the module docstring for headers and statuses."""
        body = message.body()
        stamp = int(time.time())
        status = self._poster.post(
            body,
            {
                "Content-Type": "application/json",
                "Idempotency-Key": message.idempotency_key,
                TIMESTAMP_HEADER: str(stamp),
                SIGNATURE_HEADER: sign(self._secret, stamp, body),
            },
        )
        return Receipt("webhook", {"status": status})

    def close(self) -> None:
        """Close the kept-alive connection."""
        self._poster.close()


def chat_text(payload: dict[str, Any]) -> str:
    """One readable line for a chat channel."""
    context = payload.get("context") or {}
    hint = context.get("script") or context.get("template") or ""
    return (
        f"*{payload.get('action')}* for customer {payload.get('customer_id')} "
        f"(case {payload.get('case_id')}, {payload.get('issue')}, tier {payload.get('value_tier')})"
        + (f"\n{hint}" if hint else "")
    )


class ChatWebhookChannel:
    """Slack-compatible incoming webhook: ``{"text": ..., "blocks": [...]}``.

    Slack-style webhooks cannot deduplicate; the idempotency key is in the block's context so a
    bot or a human can spot a repeat.
    """

    def __init__(self, url: str, *, timeout_s: float = 10.0) -> None:
        self._poster = _Poster(url, timeout_s)

    def send(self, message: Message) -> Receipt:
        """POST the Slack-compatible JSON."""
        text = chat_text(message.payload)
        body = {
            "text": text,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                {
                    "type": "context",
                    "elements": [
                        {"type": "mrkdwn", "text": f"idempotency key {message.idempotency_key}"}
                    ],
                },
            ],
        }
        status = self._poster.post(
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Idempotency-Key": message.idempotency_key},
        )
        return Receipt("chat", {"status": status})

    def close(self) -> None:
        """Close the kept-alive connection."""
        self._poster.close()
