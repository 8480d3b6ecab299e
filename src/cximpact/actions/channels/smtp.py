"""E-mail over SMTP (standard library ``smtplib``), one connection reused across messages.

The message's ``Message-ID`` is derived from the idempotency key (``<cxa-...@cximpact>``) and
repeated in an ``X-Idempotency-Key`` header, so a mail system or a person can drop repeats.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from cximpact.actions.channels.base import DeliveryError, Message, Receipt
from cximpact.errors import ConfigError

__all__ = ["SmtpChannel"]


class SmtpChannel:
    """Send each action as an e-mail to the customer's address (``payload["email"]``).

    Parameters
    ----------
    host, port : str, int
        SMTP server.
    sender : str
        ``From`` address.
    starttls : bool, optional
        Upgrade the connection with STARTTLS.
    username, password : str, optional
        Login, when the server needs one.
    timeout_s : float, optional
        Socket timeout.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not sender or "@" not in sender:
            raise ConfigError(f"smtp channel needs a sender address; got {sender!r}")
        self._host, self._port, self._sender = host, int(port), sender
        self._starttls, self._login = starttls, (username, password)
        self._timeout = timeout_s
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            if self._starttls:
                smtp.starttls()
            user, password = self._login
            if user:
                smtp.login(user, password or "")
            self._smtp = smtp
        return self._smtp

    def _compose(self, message: Message) -> EmailMessage:
        payload = message.payload
        to = payload.get("email")
        if not to:
            raise DeliveryError(
                f"action {message.idempotency_key} has no e-mail address; add the customer's "
                "email to the contacts file (CXIMPACT_ACTIONS_CONTACTS_FILE)",
                transient=False,
            )
        context = payload.get("context") or {}
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = str(to)
        mail["Subject"] = context.get("subject") or f"About your {payload.get('issue')} issue"
        mail["Message-ID"] = f"<{message.idempotency_key}@cximpact>"
        mail["X-Idempotency-Key"] = message.idempotency_key
        mail.set_content(context.get("template") or context.get("script") or "")
        return mail

    def send(self, message: Message) -> Receipt:
        """Send the e-mail; refused recipients are permanent failures, the rest are retried."""
        mail = self._compose(message)
        try:
            refused = self._connection().send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            raise DeliveryError(f"SMTP refused {mail['To']}: {exc}", transient=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(
                f"SMTP {self._host}:{self._port} failed: {exc!r}", transient=True
            ) from exc
        return Receipt("smtp", {"message_id": mail["Message-ID"], "refused": list(refused)})

    def close(self) -> None:
        """Quit the SMTP session (quietly, if it is already gone)."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None
