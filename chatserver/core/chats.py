"""What the frame handlers share: the services of one worker and the steps several handlers take."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chatserver.core.assignment import Assigner
from chatserver.core.auth import Accounts, Tokens
from chatserver.core.fanout import Fanout
from chatserver.core.identity import Customer
from chatserver.core.journal import Change, Journal, stored
from chatserver.core.metrics import Metrics
from chatserver.core.orders_bot import OrderDesk
from chatserver.core.sessions import Session
from chatserver.core.tone import ToneCheck, no_tone_check
from chatserver.domain import protocol as p
from chatserver.domain.bot import Bot
from chatserver.domain.clock import Clock
from chatserver.domain.conversation import Conversation, bot_answered
from chatserver.domain.errors import InvalidFrame, NotAllowed, NotFound, NotYourConversation
from chatserver.domain.playbook import Playbook
from chatserver.domain.settings import Settings
from chatserver.store.ports import Appended

_STARTED_POLLS, _STARTED_POLL_S = 100, 0.005  # real time: another process is storing it


@dataclass
class Chats:
    """One worker's services, as the handlers of both roles use them."""

    settings: Settings
    journal: Journal
    assigner: Assigner
    fanout: Fanout
    accounts: Accounts
    tokens: Tokens
    clock: Clock
    bot: Bot
    metrics: Metrics
    hellos: dict[Session, p.Hello] = field(default_factory=dict)
    shopper_locks: dict[str, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )
    #: The shop's canned replies from its stored configuration (None: read faq_dir's file).
    canned: list[p.CannedReply] | None = None
    #: Whether the shop's tone rules flag an agent's message ``(text, locale)``; set by the app.
    tone_check: ToneCheck = no_tone_check
    #: The shop's resolution ladder, role limits and review rubric (``playbook.toml``).
    playbook: Playbook = field(default_factory=Playbook)
    #: The verified customer of each identified shopper session.
    customers: dict[Session, Customer] = field(default_factory=dict)
    #: Answers order questions with the shop's real order data (None: the FAQ's answers only).
    orders: OrderDesk | None = None

    @property
    def target_s(self) -> float:
        return self.settings.response_target_s

    def ack(self, session: Session, conversation_id: str, client_id: str, stored: Appended) -> None:
        """Tell the sender their frame is stored, at which seq, and whether it was a retry."""
        session.send(
            p.encode_frame(
                p.Ack,
                conversation_id=conversation_id,
                client_id=client_id,
                seq=stored.seq,
                duplicate=stored.duplicate,
            )
        )

    async def own(self, session: Session, conversation_id: str | None) -> Conversation:
        """The conversation a frame is about, if this client may act on it."""
        if session.role == "shopper":
            return self.check_own(await self.journal.latest(session.user_id), conversation_id)
        if conversation_id is None:
            raise InvalidFrame("agents must name the conversation_id")
        return self.check_agent(session, await self.journal.get(conversation_id))

    async def own_known(self, session: Session, conversation_id: str | None) -> Conversation:
        """:meth:`own` for an agent's checked post: the record as this worker knows it (with its
        revision) when it does, read from the store otherwise."""
        known = None if conversation_id is None else self.journal.known(conversation_id)
        if known is None or known.agent_id != session.user_id or known.status == "closed":
            # Not theirs, or closed, as known here (maybe old): as the store has it.
            return await self.own(session, conversation_id)
        return known

    @staticmethod
    def check_agent(session: Session, conversation: Conversation) -> Conversation:
        """``conversation``, if it is assigned to the agent of this session."""
        if conversation.agent_id != session.user_id:
            raise NotYourConversation(f"conversation {conversation.id!r} is not assigned to you")
        return conversation

    @staticmethod
    def check_own(conversation: Conversation | None, conversation_id: str | None) -> Conversation:
        """A shopper's latest ``conversation``, if the frame names it (or none)."""
        if conversation_id is not None and (
            conversation is None or conversation_id != conversation.id
        ):
            raise NotYourConversation(f"conversation {conversation_id!r} is not yours")
        if conversation is None:
            raise NotFound("you have no conversation yet: send a message to start one")
        return conversation

    def ready(self, session: Session, conversation: Conversation) -> bool:
        """Whether a shopper's message goes into ``conversation`` as it is: open, started (its
        first event stored) and naming the session's verified customer, if any."""
        if conversation.status == "closed" or conversation.messages == 0:
            return False
        customer = self.customers.get(session)
        return customer is None or conversation.customer_id == customer.id

    async def current(self, session: Session, text: str = "") -> Conversation:
        """A shopper's open conversation; a new one if they have none (``text``: the message
        that starts it, which tells its language)."""
        async with self.shopper_locks[session.user_id]:
            conversation = await self.journal.latest(session.user_id)
            if conversation is None or conversation.status == "closed":
                conversation = await self._start(session, text)
            elif conversation.messages == 0:
                # Just started, maybe by another worker (another tab): after its first event.
                await self._until_started(conversation.id)
            customer = self.customers.get(session)
            if customer is not None and conversation.customer_id != customer.id:
                # Opened without them (a shop's notice): the record learns who the customer is.
                conversation = await self.journal.update(
                    conversation,
                    customer_id=customer.id,
                    customer_name=customer.name or conversation.customer_name,
                    customer_email=customer.email or conversation.customer_email,
                )
            return conversation

    async def _start(self, session: Session, text: str) -> Conversation:
        """A shopper's first message: a new conversation, with the bot or in the queue."""
        hello = self.hellos.get(session) or p.Hello(version=p.PROTOCOL_VERSION)
        with_bot = (await self.assigner.outlook(hello.locale)).with_bot
        customer = self.customers.get(session)
        return await self.open_conversation(session.user_id, hello, with_bot, customer, text)

    async def open_conversation(
        self,
        shopper_id: str,
        hello: p.Hello,
        with_bot: bool,
        customer: Customer | None = None,
        text: str = "",
    ) -> Conversation:
        """A new conversation for a shopper (their sessions here follow it): with the bot, or
        in the queue; ``customer``: the verified customer it is; ``text``: the shopper's first
        message, if any, which tells its language. Callers hold the shopper's lock and know they
        have no open one."""
        customer = customer or Customer("")
        now = self.clock.now()
        detected = self.bot.language(text, hello.locale) if text else ""
        conversation = Conversation(
            id="c-" + uuid.uuid4().hex,
            shop_id=self.settings.shop_id,
            shopper_id=shopper_id,
            status="bot" if with_bot else "queued",
            created_at=now,
            queued_at=None if with_bot else now,
            clock_started=None if with_bot else now,
            locale=hello.locale,
            timezone=hello.timezone,
            context=hello.context,
            language=detected or hello.locale,
            language_detected=bool(detected),
            customer_id=customer.id,
            customer_name=customer.name,
            customer_email=customer.email,
        )
        opened = await self.journal.open_or_create(conversation)
        if opened.id != conversation.id:
            # Another worker started one for this shopper a moment ago (another tab): use it.
            await self._until_started(opened.id)
            return opened
        await self.journal.post(
            conversation.id,
            p.ConversationStarted,
            shopper_id=shopper_id,
            status=conversation.status,
            locale=conversation.locale,
            timezone=conversation.timezone,
            context=conversation.context,
            language=conversation.language,
            customer_name=conversation.customer_name,
            customer_email=conversation.customer_email,
        )
        # Every tab of this shopper, on every worker, follows it from its start.
        await self.fanout.shopper_started(shopper_id, conversation.id)
        if not with_bot:
            await self.assigner.enqueue(conversation, "new")
        return conversation

    async def _until_started(self, conversation_id: str) -> None:
        """Wait (briefly) for the worker that created a conversation to store its first event,
        so that a message never comes before ``conversation_started`` in its log."""
        for _ in range(_STARTED_POLLS):
            if await stored(self.journal.store.log.read(conversation_id, 0, 1)):
                return
            await asyncio.sleep(_STARTED_POLL_S)

    def refined_language(self, conversation: Conversation, text: str) -> dict[str, object]:
        """Changes that set the shopper's language from ``text`` while it is known only from the
        widget's locale and no agent has the chat yet (empty: nothing to change)."""
        if conversation.language_detected or conversation.status not in ("bot", "queued"):
            return {}
        detected = self.bot.language(text, conversation.locale)
        if not detected:
            return {}
        return {"language": detected, "language_detected": True}

    async def bot_reply(self, conversation: Conversation, text: str, seq: int) -> None:
        """The assistant answers the shopper message ``text`` (stored at ``seq``).

        In charge (``bot``), it answers or hands over. While the shopper waits for a person
        (``queued``) it answers what it can and stays silent on the rest, which the person sees as
        the queue's question; the shopper keeps their place and the clock keeps running.
        """
        outlook = await self.assigner.outlook(conversation.language)
        if conversation.status == "queued":
            # Read after the outlook: either a seat was free then, or an assignment shows now.
            latest = (await self.journal.get(conversation.id)).status
            # An agent's seat is claimed (out of the queue) a moment before the record says so.
            claimed = not await self.assigner.still_waiting(conversation.id)
            if outlook.free or latest != "queued" or claimed:
                return  # a person takes it now, and answers it
        turn = self.bot.reply(
            text,
            conversation.locale,
            self.clock.now(),
            outlook.online > 0,
            timezone=conversation.timezone,
        )
        found: dict[str, Any] = {}
        if self.orders is not None:
            turn, found = await self.orders.reply(conversation, text, turn)
        if conversation.status == "queued" and turn.handoff:
            if not turn.asked_for_person:
                await self.journal.update(conversation, question=text[:300])
                self.assigner.dispatch_soon()  # agents see the new question in the queue
            return
        # The reply records what it answered: the question's seq is known only once it is stored.
        changes = found | bot_answered(
            conversation, text, seq, turn.ask_email, turn.asked_for_person
        )
        if turn.handoff and not turn.asked_for_person:
            changes["question"] = text[:300]
        if turn.faq_id:
            changes["faq_ids"] = [*conversation.faq_ids, turn.faq_id][-20:]
        change = Change(conversation, changes)
        conversation = change.after
        await self.journal.post(
            conversation.id,
            p.MessagePosted,
            change=change,
            author="bot",
            author_id="bot",
            text=turn.text,
            faq_id=turn.faq_id,
            faq_title=turn.title,
            ask_email=turn.ask_email,
        )
        self.metrics.bot_replied(turn.handoff)
        if turn.handoff and conversation.status == "bot":
            await self.assigner.enqueue(conversation, "handoff")

    async def close(self, conversation: Conversation, by: str, by_id: str) -> None:
        """End a conversation: out of the queue or off its agent, then the closing event."""
        if conversation.status == "closed":
            raise NotAllowed(f"conversation {conversation.id} is already closed")
        await self.assigner.let_go(conversation)
        await self.journal.update(
            conversation, status="closed", closed_at=self.clock.now(), closed_by=by
        )
        await self.journal.post(conversation.id, p.ConversationClosed, by=by, by_id=by_id)
        self.assigner.dispatch_soon()
