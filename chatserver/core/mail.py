"""Outgoing e-mail: an outbox in the store, sent over SMTP (aiosmtplib) and retried with backoff.

Every e-mail is stored in the ``outbox`` tray before the first attempt, scored by when it is next
due; a worker claims one by moving its score on (``Trays.move``), so two workers never send it
twice, and a worker that dies mid-send leaves it due again after the lease. A refused or timed-out
attempt keeps the e-mail with the error and doubles the wait (``mail_retry_s`` up to
``mail_retry_max_s``). Without ``smtp_host`` nothing is sent and nothing is dropped: the outbox
waits for a server to be configured.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from email.message import EmailMessage
from typing import Literal, Protocol

import aiosmtplib
from pydantic import BaseModel

from chatserver.domain.clock import Clock
from chatserver.domain.settings import Settings
from chatserver.store.ports import TrayItem, Trays

log = logging.getLogger("chatserver.mail")

OUTBOX = "outbox"
_LEASE_S = 300.0


class Mail(BaseModel):
    """An e-mail in the outbox, with what its attempts so far gave."""

    id: str = ""
    kind: Literal["reply", "notice"]
    to: str
    subject: str
    body: str
    conversation_id: str = ""
    queued_at: float
    attempts: int = 0
    last_error: str = ""
    next_attempt: float | None = None


class MailError(Exception):
    """An attempt to send failed; the e-mail stays in the outbox."""


class Sender(Protocol):
    async def send(self, mail: Mail) -> None:
        """Hand the e-mail to a mail server, or raise MailError."""
        ...


class SmtpSender:
    """Sends through the SMTP server of the settings (STARTTLS or TLS, optional login)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, mail: Mail) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_security == "tls",
                start_tls=s.smtp_security == "starttls",
                cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,
                timeout=s.smtp_timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}".strip()) from exc


class Mailer:
    """This worker's side of the outbox: queue, attempt, retry."""

    def __init__(
        self, trays: Trays, sender: Sender | None, clock: Clock, settings: Settings
    ) -> None:
        self.trays = trays
        self.sender = sender
        self.clock = clock
        self.settings = settings
        self.wakeup = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return self.sender is not None

    async def queue(self, mail: Mail, wake: bool = True) -> Mail:
        """Store an e-mail in the outbox, due now; ``wake`` has the background pass send it."""
        now = self.clock.now()
        mail = mail.model_copy(update={"id": mail.id or "m-" + uuid.uuid4().hex})
        mail.next_attempt = now
        await self.trays.put(OUTBOX, mail.id, now, mail.model_dump_json())
        if wake:
            self.wakeup.set()
        return mail

    async def outbox(self) -> list[Mail]:
        """Every e-mail not sent yet, next due first."""
        return [_mail(item) for item in await self.trays.items(OUTBOX)]

    async def attempt(self, mail_id: str) -> Mail | None:
        """Send one e-mail now if it is due and no worker has it; None once sent (or taken)."""
        item = await self.trays.get(OUTBOX, mail_id)
        if item is None or self.sender is None or item.score > self.clock.now():
            return None if item is None else _mail(item)
        return await self._attempt(item, self.sender)

    async def send_due(self) -> int:
        """Attempt every e-mail that is due; returns how many were sent."""
        if self.sender is None:
            return 0
        sent = 0
        for item in await self.trays.items(OUTBOX, until=self.clock.now()):
            sent += await self._attempt(item, self.sender) is None
        return sent

    async def _attempt(self, item: TrayItem, sender: Sender) -> Mail | None:
        now = self.clock.now()
        if not await self.trays.move(OUTBOX, item.item_id, item.score, now + _LEASE_S):
            return _mail(item)  # another worker has it
        mail = _mail(item)
        try:
            await sender.send(mail)
        except MailError as exc:
            wait = min(
                self.settings.mail_retry_s * 2**mail.attempts, self.settings.mail_retry_max_s
            )
            due = self.clock.now() + wait
            mail = mail.model_copy(
                update={"attempts": mail.attempts + 1, "last_error": str(exc), "next_attempt": due}
            )
            await self.trays.put(OUTBOX, mail.id, due, mail.model_dump_json())
            log.warning(
                "e-mail %s to %s not sent (%s); retry in %.0f s", mail.id, mail.to, exc, wait
            )
            return mail
        await self.trays.remove(OUTBOX, mail.id)
        log.info("e-mail %s sent to %s", mail.id, mail.to)
        return None


def _mail(item: TrayItem) -> Mail:
    mail = Mail.model_validate_json(item.text)
    mail.next_attempt = item.score
    return mail
