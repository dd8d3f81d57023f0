"""The offline inbox: conversations that ended with an e-mail address and no human reply.

When a shopper leaves an address and no person has answered them yet, the conversation goes into
the ``inbox`` tray (oldest first) and into the ``notices`` tray, from which the shop's address
(``shop_email``) gets one e-mail listing every message that came in within ``notify_batch_s``.
An agent answers from the console: the reply is stored in the conversation's log (a returning
shopper sees it in the widget), queued in the outbox to the shopper's address, and the entry is
done. Sending and retrying is :mod:`chatserver.core.mail`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pydantic import BaseModel

from chatserver.core.history import Found, History
from chatserver.core.journal import Journal
from chatserver.core.mail import Mail, Mailer
from chatserver.domain import protocol as p
from chatserver.domain.errors import NotAllowed
from chatserver.domain.settings import Settings
from chatserver.store.ports import Trays

log = logging.getLogger("chatserver.inbox")

INBOX = "inbox"
NOTICES = "notices"
_LEASE_S = 300.0
_TICK_S = 5.0


class InboxView(BaseModel):
    """What the console's inbox shows: open entries oldest first, and replies not sent yet."""

    email_on: bool
    entries: list[Found]
    unsent: list[Mail]


class Reply(BaseModel):
    """The outcome of answering an entry: stored in the log always; sent, or kept to retry."""

    conversation_id: str
    seq: int
    sent: bool
    mail: Mail | None


class Inbox:
    """The offline inbox and the e-mails it causes, on this worker."""

    def __init__(
        self, journal: Journal, trays: Trays, mailer: Mailer, history: History, settings: Settings
    ) -> None:
        self.journal = journal
        self.trays = trays
        self.mailer = mailer
        self.history = history
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.journal.watch(p.EmailLeft, self.email_left)
        self._task = asyncio.create_task(self._run(), name="inbox-mail")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def email_left(self, conversation_id: str, at: float) -> None:
        """A shopper left an address (at ``at``): unless a person has answered, the inbox holds it."""
        conversation = await self.journal.get(conversation_id)
        if conversation.first_response_s is not None or not conversation.email:
            return
        if await self.trays.get(INBOX, conversation_id) is None:
            await self.trays.put(INBOX, conversation_id, at, "{}")
            if self.mailer.enabled and self.settings.shop_email:
                await self.trays.put(NOTICES, conversation_id, at, "{}")
                self.mailer.wakeup.set()

    async def view(self) -> InboxView:
        """Open entries, oldest first (answered live meanwhile: done), and unsent replies."""
        ids = []
        for item in await self.trays.items(INBOX):
            conversation = await self.journal.get(item.item_id)
            if conversation.first_response_s is None:
                ids.append(item.item_id)
            else:
                await self.trays.remove(INBOX, item.item_id)
        unsent = [m for m in await self.mailer.outbox() if m.kind == "reply"]
        return InboxView(
            email_on=self.mailer.enabled, entries=await self.history.found(ids), unsent=unsent
        )

    async def reply(self, conversation_id: str, agent_id: str, agent_name: str, text: str) -> Reply:
        """Answer an entry: into the log, then to the shopper by e-mail; the entry is done."""
        item = await self.trays.get(INBOX, conversation_id)
        conversation = await self.journal.get(conversation_id)
        if item is None or not conversation.email:
            raise NotAllowed(f"conversation {conversation_id} is not in the inbox (answered?)")
        # Whoever takes the entry answers it: a second agent replying at once is told.
        if not await self.trays.remove(INBOX, conversation_id):
            raise NotAllowed(f"conversation {conversation_id} was just answered by someone else")
        try:
            stored = await self.journal.post(
                conversation_id,
                p.MessagePosted,
                author="agent",
                author_id=agent_id,
                author_name=agent_name,
                text=text,
            )
            mail = await self.mailer.queue(
                Mail(
                    kind="reply",
                    to=conversation.email,
                    subject=f"Re: your message to {self.settings.shop_id}",
                    body=text,
                    conversation_id=conversation_id,
                    queued_at=self.journal.clock.now(),
                ),
                wake=False,  # sent just below, here, so the agent sees the outcome
            )
        except BaseException:
            await self.trays.put(INBOX, conversation_id, item.score, item.text)
            raise
        await self.history.reindex(conversation_id)
        unsent = await self.mailer.attempt(mail.id)
        return Reply(
            conversation_id=conversation_id, seq=stored.seq, sent=unsent is None, mail=unsent
        )

    async def announce(self) -> None:
        """E-mail the shop one notice listing every new offline message, once the batch is due."""
        if not (self.mailer.enabled and self.settings.shop_email):
            return
        now = self.journal.clock.now()
        items = await self.trays.items(NOTICES)
        if not items or items[0].score > now - self.settings.notify_batch_s:
            return
        claimed = [
            i for i in items if await self.trays.move(NOTICES, i.item_id, i.score, now + _LEASE_S)
        ]
        if not claimed:
            return
        found = await self.history.found([i.item_id for i in claimed])
        lines = [f"- {f.name or 'A shopper'} <{f.email}>: {f.preview}" for f in found]
        count = len(found)
        body = "\n".join(
            [f"{count} new offline message{'s' * (count != 1)}:", "", *lines, "",
             f"Answer them in the console's inbox: {self.settings.base_url}/console"]
        )  # fmt: skip
        await self.mailer.queue(
            Mail(
                kind="notice",
                to=self.settings.shop_email,
                subject=f"{count} new offline message{'s' * (count != 1)} ({self.settings.shop_id})",
                body=body,
                queued_at=now,
            )
        )
        for item in claimed:
            await self.trays.remove(NOTICES, item.item_id)

    async def _run(self) -> None:
        """Announce and send what is due; again on a wake-up or every few seconds by the clock."""
        while True:
            self.mailer.wakeup.clear()
            try:
                await self.announce()
                await self.mailer.send_due()
            except Exception:
                log.exception("offline mail pass failed; trying again")
            sleeper = asyncio.ensure_future(self.journal.clock.sleep(_TICK_S))
            woken = asyncio.ensure_future(self.mailer.wakeup.wait())
            try:
                await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                woken.cancel()
