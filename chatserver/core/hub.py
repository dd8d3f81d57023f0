"""The hub: sessions connect, frames go to their role's handler, sessions leave.

The hub imports no web framework: a connection hands it a :class:`Session` and validated frames,
and it answers through the session's outbox. The handlers are in :mod:`chatserver.core.shopper`
and :mod:`chatserver.core.agent`; storing and publishing in :mod:`chatserver.core.journal`; the
queue and agents in :mod:`chatserver.core.assignment`; delivery to sockets in
:mod:`chatserver.core.fanout`; the offline inbox and e-mail in :mod:`chatserver.core.inbox` and
:mod:`chatserver.core.mail`, search in :mod:`chatserver.core.history`. Only the journal and the
assigner touch the store, besides the trays (inbox, mail) and the search index.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from chatserver.core import agent, resolutions, shopper
from chatserver.core.admission import Admission
from chatserver.core.api_keys import KeyRing
from chatserver.core.assignment import Assigner
from chatserver.core.auth import Accounts, Tokens
from chatserver.core.chats import Chats
from chatserver.core.fanout import Fanout
from chatserver.core.history import History
from chatserver.core.identity import Identities
from chatserver.core.inbox import Inbox
from chatserver.core.journal import Journal
from chatserver.core.mail import Mailer, SmtpSender
from chatserver.core.metrics import Metrics
from chatserver.core.notices import Notices
from chatserver.core.orders_bot import OrderDesk
from chatserver.core.sessions import Session
from chatserver.core.webhooks import Webhooks
from chatserver.domain import protocol as p
from chatserver.domain.bot import Bot
from chatserver.domain.clock import Clock
from chatserver.domain.errors import IdentityRefused, InvalidFrame, NotAllowed, Unauthorized
from chatserver.domain.order_lookup import OrderLookup
from chatserver.domain.settings import Settings
from chatserver.store.base import Store

_HANDLERS = {
    "shopper": shopper.HANDLERS | resolutions.SHOPPER,
    "agent": agent.HANDLERS | resolutions.AGENT,
}


def _kept_hello(hello: p.Hello) -> p.Hello | None:
    """What a shopper's hello is kept for (a conversation they start takes its locale, time
    zone and page): None when that is all default, else only those fields, not the token or
    positions (one per open socket: they add up)."""
    if hello.locale == "en" and not hello.timezone and hello.context is None:
        return None
    return p.Hello.model_construct(
        version=hello.version, locale=hello.locale, timezone=hello.timezone, context=hello.context
    )


class Hub:
    """Applies client frames to conversations and fans events out to this worker's sessions."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        tokens: Tokens,
        clock: Clock,
        bot: Bot,
        orders: OrderLookup | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.tokens = tokens
        self.clock = clock
        self.accounts = Accounts(store.accounts, store.bus)
        self.metrics = Metrics(settings.response_target_s)
        self.fanout = Fanout(store.bus)
        self.journal = Journal(store, clock)
        self.assigner = Assigner(
            self.journal,
            self.fanout,
            self.accounts,
            bot,
            settings.response_target_s,
            settings.agent_grace_s,
        )
        self.chats = Chats(
            settings,
            self.journal,
            self.assigner,
            self.fanout,
            self.accounts,
            tokens,
            clock,
            bot,
            self.metrics,
        )
        self.history = History(self.journal, store.search)
        self.identities = Identities(self.journal, settings)
        if orders is not None:
            self.chats.orders = OrderDesk(self.journal, orders)
        sender = SmtpSender(settings) if settings.smtp_host else None
        self.mailer = Mailer(store.trays, sender, clock, settings)
        self.inbox = Inbox(self.journal, store.trays, self.mailer, self.history, settings)
        self.keys = KeyRing(store.api_keys, clock)
        self.webhooks = Webhooks(store.trays, clock, settings)
        self.notices = Notices(self.chats, store, self.webhooks, self.mailer)
        self.admission = Admission(
            clock, settings.max_loop_lag_ms / 1000, settings.max_shopper_sends_in_flight
        )
        self._lag_probe: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen for published events; pick up chats whose agents are gone."""
        await self.fanout.start()
        await self.assigner.start()
        self.history.watch()
        self.inbox.start()
        self.notices.start()
        self.webhooks.start()
        if self.settings.max_loop_lag_ms:
            self._lag_probe = asyncio.create_task(self.admission.watch())

    async def close(self) -> None:
        if self._lag_probe is not None:
            self._lag_probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_probe
        if self.chats.orders is not None:
            await self.chats.orders.close()
        await self.webhooks.close()
        await self.inbox.close()
        await self.assigner.close()
        await self.fanout.close()

    async def handle(
        self, session: Session, frame: Any, may_wait: Callable[[], bool] | None = None
    ) -> None:
        """Apply one validated client frame from a connected session. ``may_wait``: whether a
        shopper's message may wait for a place among those being stored (``Admission.enter``)."""
        if isinstance(frame, p.Hello):
            raise NotAllowed("hello was already received on this connection")
        handler = _HANDLERS[session.role].get(type(frame))
        if handler is None:
            raise InvalidFrame(f"frame type {getattr(frame, 'type', '?')!r} is not handled")
        admission = self.admission
        if session.role == "agent":
            admission.agent_started()
            try:
                await handler(self.chats, session, frame)
            finally:
                admission.agent_done()
        elif type(frame) is p.SendMessage:
            await admission.enter(frame.client_id, session.user_id, may_wait)
            try:
                await handler(self.chats, session, frame)
            finally:
                admission.leave(session.user_id)
        else:
            await handler(self.chats, session, frame)

    # --- connecting --------------------------------------------------------------------------

    async def connect_shopper(self, session: Session, hello: p.Hello) -> None:
        """Identify a shopper (or make a new one) and resume their latest conversation."""
        token = hello.token
        new_visitor = ""
        if token:
            session.user_id = self.tokens.shopper_id(token)
        else:
            session.user_id, token = self.tokens.new_shopper()
            new_visitor = session.user_id
        if hello.customer is not None:
            await self._identify(session, hello.customer)
        # Watch for a conversation another tab starts before reading the latest: no gap.
        await self.fanout.add_shopper(session)
        # A visitor made just now has no conversation: nothing to read, nor to keep in memory.
        fresh = session.user_id == new_visitor
        conversation = None if fresh else await self.journal.latest(session.user_id)
        kept = _kept_hello(hello)
        if kept is not None:
            self.chats.hellos[session] = kept
        infos = []
        if conversation is not None:
            infos.append(conversation.info(self.settings.response_target_s))
            # Positions per conversation: one begun meanwhile (in another tab) from its start.
            claimed = hello.last_seqs.get(conversation.id, 0) if hello.last_seqs else hello.last_seq
            position = await self._resume_point(session, conversation.id, claimed)
            await self.fanout.follow(session, conversation.id, position)
        self._welcome(session, token, infos)
        availability = await self.assigner.availability(hello.locale, hello.timezone)
        session.send(p.encode(availability))
        if conversation is not None and conversation.status == "queued":
            await self.assigner.announce_queue()

    async def _identify(self, session: Session, identity: p.CustomerIdentity) -> None:
        """A verified customer becomes this session's shopper, bringing the guest's open chat;
        a refused identity is told (an ``error`` frame) and the session goes on as the guest."""
        try:
            customer = self.identities.check(identity)
        except IdentityRefused as exc:
            error = p.Error(code=exc.code, message=exc.message, frame_type="hello")
            self.metrics.error(exc.code)
            session.send(error.model_dump_json())
            return
        guest = session.user_id
        async with self.chats.shopper_locks[guest]:
            await self.identities.join(guest, customer)
        if not self.fanout.shopper_sessions(guest):
            self.chats.shopper_locks.pop(guest, None)
        session.user_id = customer.shopper_id
        self.chats.customers[session] = customer

    async def connect_agent(self, session: Session, hello: p.Hello) -> None:
        """Check an agent's session token, then resume the chats they hold and show the queue."""
        if not hello.token:
            raise Unauthorized("agent hello needs the session token from /api/login")
        account, _ = await self.accounts.session_account(self.tokens, hello.token)
        agent_id = account.id
        session.user_id, session.name = account.id, account.name
        await self.fanout.add_agent(session)  # before reading what they hold: no gap
        infos = []
        for conversation_id in await self.assigner.held_by(agent_id):
            conversation = await self.journal.get(conversation_id)
            infos.append(conversation.info(self.settings.response_target_s))
            positions = {
                log_id: await self._resume_point(session, log_id, hello.last_seqs[log_id])
                for log_id in (conversation_id, p.staff_log(conversation_id))
                if log_id in hello.last_seqs
            }
            await self.fanout.follow_as_agent(session, conversation_id, positions)
        self._welcome(session, None, infos)
        await self.assigner.graces.agent_back(session)
        session.send(await self.assigner.queue_snapshot())

    async def _resume_point(self, session: Session, log_id: str, claimed: int) -> int:
        """The seq to resume a log after; a claim beyond its end is clamped, and the client told."""
        position = await self.journal.resume_point(log_id, claimed)
        if position != claimed:
            error = p.Error(
                code="invalid_frame",
                message=f"last seq {claimed} is beyond the end of log {log_id!r} "
                f"(seq {position}): resuming after {position}",
                frame_type="hello",
            )
            session.send(error.model_dump_json())
        return position

    def _welcome(
        self, session: Session, token: str | None, infos: list[p.ConversationInfo]
    ) -> None:
        values: dict[str, Any] = {
            "role": session.role,
            "user_id": session.user_id,
            "name": session.name,
            "token": token,
            "server_time": self.clock.now(),
            "response_target_s": self.settings.response_target_s,
        }
        if infos:
            session.send(p.encode(p.Welcome(**values, conversations=infos)))
        else:  # a page view's: plain values, written without building the model
            session.send(p.encode_frame(p.Welcome, **values))

    async def disconnect(self, session: Session) -> None:
        """Forget a closed socket; an agent's last socket going starts their grace period."""
        self.chats.hellos.pop(session, None)
        self.chats.customers.pop(session, None)
        if await self.fanout.remove(session):
            await self.assigner.graces.agent_left(session.user_id)
        locks = self.chats.shopper_locks
        lock = locks.get(session.user_id)
        if (
            lock is not None
            and not lock.locked()
            and not self.fanout.shopper_sessions(session.user_id)
        ):
            del locks[session.user_id]
