"""Delivery channels: one ``send(message) -> receipt`` seam per outside system.

Built-in types (the ``type`` of a channel in the policy file): ``webhook`` (signed JSON),
``chat`` (Slack-compatible), ``smtp`` (e-mail), ``rabbitmq`` (publisher confirms), ``nats``
(JetStream) and ``recording`` (keeps messages in memory; for tests and dry runs). Other types
are added with :func:`register_channel_type`, the same hook the built-ins use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from cximpact.actions.channels.base import (
    Channel,
    DeliveryError,
    Message,
    Receipt,
    RecordingChannel,
)
from cximpact.actions.policies import ChannelConfig
from cximpact.errors import ConfigError

__all__ = [
    "Channel",
    "ChannelFactory",
    "DeliveryError",
    "Message",
    "Receipt",
    "RecordingChannel",
    "build_channel",
    "register_channel_type",
]

ChannelFactory = Callable[[dict[str, Any], str | None], Channel]
"""Builds a channel from its policy-file options and the webhook secret (if any)."""


def _webhook(options: dict[str, Any], secret: str | None) -> Channel:
    from cximpact.actions.channels.webhook import WebhookChannel

    return WebhookChannel(
        str(options["url"]), secret or "", timeout_s=float(options.get("timeout_s", 10))
    )


def _chat(options: dict[str, Any], _secret: str | None) -> Channel:
    from cximpact.actions.channels.webhook import ChatWebhookChannel

    return ChatWebhookChannel(str(options["url"]), timeout_s=float(options.get("timeout_s", 10)))


def _smtp(options: dict[str, Any], _secret: str | None) -> Channel:
    from cximpact.actions.channels.smtp import SmtpChannel

    password_env = options.get("password_env")
    return SmtpChannel(
        str(options.get("host", "127.0.0.1")),
        int(options.get("port", 25)),
        str(options.get("sender", "")),
        starttls=bool(options.get("starttls", False)),
        username=options.get("username"),
        password=os.environ.get(str(password_env)) if password_env else None,
        timeout_s=float(options.get("timeout_s", 10)),
    )


def _rabbitmq(options: dict[str, Any], _secret: str | None) -> Channel:
    from cximpact.actions.channels.rabbitmq import RabbitMqChannel

    return RabbitMqChannel(
        str(options["url"]),
        exchange=str(options.get("exchange", "")),
        routing_key=options.get("routing_key"),
        queue=options.get("queue"),
    )


def _nats(options: dict[str, Any], _secret: str | None) -> Channel:
    from cximpact.actions.channels.nats import NatsChannel

    return NatsChannel(
        str(options["url"]),
        str(options["subject"]),
        stream=options.get("stream"),
        timeout_s=float(options.get("timeout_s", 5)),
    )


def _recording(options: dict[str, Any], _secret: str | None) -> Channel:
    return RecordingChannel(str(options.get("name", "recording")))


_FACTORIES: dict[str, ChannelFactory] = {
    "webhook": _webhook,
    "chat": _chat,
    "smtp": _smtp,
    "rabbitmq": _rabbitmq,
    "nats": _nats,
    "recording": _recording,
}


def register_channel_type(name: str, factory: ChannelFactory) -> None:
    """Make channel type ``name`` available to policy files (``type: name``)."""
    _FACTORIES[name] = factory


def build_channel(name: str, config: ChannelConfig, secret: str | None = None) -> Channel:
    """Build the channel a policy file declares under ``channels.<name>``.

    Raises
    ------
    ConfigError
        If the type is unknown or a required key (``url``, ``subject``) is missing.
    """
    factory = _FACTORIES.get(config.type)
    if factory is None:
        raise ConfigError(
            f"channel {name!r} has type {config.type!r}; known: {', '.join(sorted(_FACTORIES))}"
        )
    try:
        return factory(config.options(), secret)
    except KeyError as exc:
        raise ConfigError(
            f"channel {name!r} ({config.type}) needs the key {exc.args[0]!r} in the policy file"
        ) from exc
