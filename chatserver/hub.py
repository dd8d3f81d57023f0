"""The event path: a validated frame becomes an event, is stored, then published to sockets.

The hub imports no web framework: a connection hands it a :class:`Session` and frames, and it
answers through the session's outbox. Storing and publishing live in :mod:`chatserver.records`,
the queue and agents in :mod:`chatserver.assignment`, delivery to sockets in :mod:`chatserver.fanout`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

from chatserver import protocol as p
from chatserver.assignment import Assigner
from chatserver.auth import Accounts, Tokens
from chatserver.backends.base import Appended, Backend
from chatserver.canned import load_canned
from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.conversation import (
    Conversation,
    bot_answered,
    feedback_given,
    start_clock,
    stop_clock,
)
from chatserver.errors import (
    InvalidFrame,
    NotAllowed,
    NotFound,
    NotYourConversation,
    Unauthorized,
)
from chatserver.fanout import Fanout, agent_channel
from chatserver.metrics import Metrics
from chatserver.records import Conversations
from chatserver.routing import Bot
from chatserver.sessions import Session


class Hub:
    """Applies client frames to conversations and fans events out to this worker's sessions."""

    def __init__(
        self, settings: Settings, backend: Backend, tokens: Tokens, clock: Clock, bot: Bot
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.tokens = tokens
        self.clock = clock
        self.bot = bot
        self.accounts = Accounts(backend)
        self.metrics = Metrics(settings.response_target_s)
        self.fanout = Fanout(backend)
        self.conversations = Conversations(backend, clock)
        self.assigner = Assigner(
            self.conversations,
            self.fanout,
            self.accounts,
            bot,
            settings.response_target_s,
            settings.agent_grace_s,
        )
        self._target = settings.response_target_s
        self._shopper_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._hello: dict[Session, p.Hello] = {}

    async def start(self) -> None:
        """Listen for published events; pick up chats whose agents are gone."""
        await self.fanout.start()
        await self.assigner.start()

    async def close(self) -> None:
        await self.assigner.close()
        await self.fanout.close()

    # --- connecting --------------------------------------------------------------------------

    async def connect_shopper(self, session: Session, hello: p.Hello) -> None:
        """Identify a shopper (or make a new one) and resume their latest conversation."""
        token = hello.token
        if token:
            session.user_id = self.tokens.shopper_id(token)
        else:
            session.user_id, token = self.tokens.new_shopper()
        conversation = await self.conversations.latest(session.user_id)
        self.fanout.add_shopper(session)
        self._hello[session] = hello
        infos = []
        if conversation is not None:
            infos.append(conversation.info(self._target))
            await self.fanout.follow(session, conversation.id, hello.last_seq)
        self._welcome(session, token, infos)
        session.send((await self.assigner.availability(hello.locale)).model_dump_json())
        if conversation is not None and conversation.status == "queued":
            await self.assigner.announce_queue()

    async def connect_agent(self, session: Session, hello: p.Hello) -> None:
        """Check an agent's session token, then resume the chats they hold and show the queue."""
        if not hello.token:
            raise Unauthorized("agent hello needs the session token from /api/login")
        agent_id = self.tokens.session_agent(hello.token)
        account = await self.accounts.get(agent_id)
        if account is None:
            raise Unauthorized(f"agent {agent_id!r} no longer exists")
        session.user_id, session.name = account.id, account.name
        await self.fanout.add_agent(session)  # before reading what they hold: no gap
        held = (await self.backend.agent_chats()).get(agent_id, [])
        infos = []
        for conversation_id in held:
            conversation = await self.conversations.get(conversation_id)
            infos.append(conversation.info(self._target))
            await self.fanout.follow_as_agent(session, conversation_id, hello.last_seqs)
        self._welcome(session, None, infos)
        await self.assigner.agent_back(session)
        session.send(await self.assigner.queue_snapshot())

    def _welcome(
        self, session: Session, token: str | None, infos: list[p.ConversationInfo]
    ) -> None:
        welcome = p.Welcome(
            role=session.role,
            user_id=session.user_id,
            name=session.name,
            token=token,
            server_time=self.clock.now(),
            response_target_s=self._target,
            conversations=infos,
        )
        session.send(welcome.model_dump_json())

    async def disconnect(self, session: Session) -> None:
        """Forget a closed socket; an agent's last socket going starts their grace period."""
        self._hello.pop(session, None)
        if await self.fanout.remove(session):
            await self.assigner.agent_left(session.user_id)
        lock = self._shopper_locks.get(session.user_id)
        if (
            lock is not None
            and not lock.locked()
            and not self.fanout.shopper_sessions(session.user_id)
        ):
            del self._shopper_locks[session.user_id]

    # --- frames --------------------------------------------------------------------------------

    async def handle(self, session: Session, frame: Any) -> None:
        """Apply one validated client frame from a connected session."""
        match frame:
            case p.Hello():
                raise NotAllowed("hello was already received on this connection")
            case p.SendMessage() if session.role == "shopper":
                await self._shopper_message(session, frame)
            case p.SendMessage():
                await self._agent_message(session, frame)
            case p.Typing():
                conversation = await self._own(session, frame.conversation_id)
                notice = p.TypingNotice(
                    conversation_id=conversation.id, role=session.role, is_typing=frame.is_typing
                )
                await self.conversations.notify(conversation.id, notice)
            case p.MarkRead():
                conversation = await self._own(session, frame.conversation_id)
                receipt = p.ReadReceipt(
                    conversation_id=conversation.id, role=session.role, seq=frame.seq
                )
                await self.conversations.notify(conversation.id, receipt)
            case p.RequestHuman():
                conversation = await self._current(session)
                if conversation.status == "bot":
                    await self.assigner.queue(conversation, "handoff")
            case p.EndConversation():
                await self._close(await self._own(session, None), "shopper", session.user_id)
            case p.Rate():
                await self._rate(session, frame)
            case p.BotFeedback():
                conversation = await self._own(session, None)
                changes = feedback_given(conversation, frame.seq, frame.helpful)
                await self.conversations.post(
                    conversation.id,
                    p.BotFeedbackGiven,
                    record=conversation.model_copy(update=changes).fields(*changes),
                    answer_seq=frame.seq,
                    helpful=frame.helpful,
                )
            case p.LeaveEmail():
                conversation = await self.conversations.update(
                    await self._current(session), email=frame.email
                )
                await self.conversations.post(
                    conversation.id, p.EmailLeft, email=frame.email, name=frame.name
                )
            case p.SetStatus():
                await self.assigner.set_status(session.user_id, frame.status, frame.capacity)
            case p.Transfer():
                await self._transfer(session, frame)
            case p.CloseConversation():
                conversation = await self._own(session, frame.conversation_id)
                await self._close(conversation, "agent", session.user_id)
            case p.AddNote():
                await self._add_note(session, frame)
            case p.SetTags():
                await self._set_tags(session, frame)
            case p.ListCanned():
                replies = load_canned(self.settings.faq_dir / "canned.toml")
                session.send(p.CannedReplies(replies=replies).model_dump_json())
            case p.ListAgents():
                session.send((await self.assigner.agent_list()).model_dump_json())
            case p.GetHistory():
                conversation = await self._own(session, frame.conversation_id)
                session.send((await self.conversations.earlier(conversation)).model_dump_json())
            case _:
                raise InvalidFrame(f"frame type {getattr(frame, 'type', '?')!r} is not handled")

    async def _shopper_message(self, session: Session, frame: p.SendMessage) -> None:
        if frame.conversation_id is not None:
            await self._own(session, frame.conversation_id)
        conversation = await self._current(session)
        running = conversation.status == "queued" or (
            conversation.status == "assigned" and conversation.first_response_s is not None
        )
        changes = start_clock(conversation, self.clock.now()) if running else {}
        changes["messages"] = conversation.messages + 1
        updated = conversation.model_copy(update=changes)
        appended = await self.conversations.post(
            conversation.id,
            p.MessagePosted,
            record=updated.fields(*changes),
            author="shopper",
            author_id=session.user_id,
            text=frame.text,
            client_id=frame.client_id,
            deadline=updated.deadline(self._target) if "clock_started" in changes else None,
        )
        self._ack(session, conversation.id, frame.client_id, appended)
        if not appended.duplicate and conversation.status == "bot":
            await self._bot_reply(updated, frame.text, appended.seq)

    async def _agent_message(self, session: Session, frame: p.SendMessage) -> None:
        conversation = await self._own(session, frame.conversation_id)
        if conversation.status == "closed":
            raise NotAllowed(f"conversation {conversation.id} is closed")
        changes = stop_clock(conversation, self.clock.now())
        changes["messages"] = conversation.messages + 1
        appended = await self.conversations.post(
            conversation.id,
            p.MessagePosted,
            record=conversation.model_copy(update=changes).fields(*changes),
            author="agent",
            author_id=session.user_id,
            author_name=session.name,
            text=frame.text,
            client_id=frame.client_id,
        )
        self._ack(session, conversation.id, frame.client_id, appended)
        if not appended.duplicate and "response_times" in changes:
            self.metrics.answered(changes["response_times"][-1], "first_response_s" in changes)

    def _ack(
        self, session: Session, conversation_id: str, client_id: str, appended: Appended
    ) -> None:
        ack = p.Ack(
            conversation_id=conversation_id,
            client_id=client_id,
            seq=appended.seq,
            duplicate=appended.duplicate,
        )
        session.send(ack.model_dump_json())

    async def _current(self, session: Session) -> Conversation:
        """A shopper's open conversation; a new one if they have none."""
        async with self._shopper_locks[session.user_id]:
            conversation = await self.conversations.latest(session.user_id)
            if conversation is None or conversation.status == "closed":
                conversation = await self._start(session)
            return conversation

    async def _start(self, session: Session) -> Conversation:
        """A shopper's first message: a new conversation, with the bot or in the queue."""
        hello = self._hello.get(session) or p.Hello(version=p.PROTOCOL_VERSION)
        now = self.clock.now()
        with_bot = await self.assigner.starts_with_bot()
        conversation = Conversation(
            id="c-" + uuid.uuid4().hex,
            shop_id=self.settings.shop_id,
            shopper_id=session.user_id,
            status="bot" if with_bot else "queued",
            created_at=now,
            queued_at=None if with_bot else now,
            clock_started=None if with_bot else now,
            locale=hello.locale,
            timezone=hello.timezone,
            context=hello.context,
        )
        await self.conversations.create(conversation)
        for shopper_session in self.fanout.shopper_sessions(session.user_id):
            for old in list(shopper_session.feeds):
                await self.fanout.unfollow(shopper_session, old)
            await self.fanout.follow(shopper_session, conversation.id, 0)
        await self.conversations.post(
            conversation.id,
            p.ConversationStarted,
            shopper_id=session.user_id,
            status=conversation.status,
            locale=conversation.locale,
            timezone=conversation.timezone,
            context=conversation.context,
        )
        if not with_bot:
            await self.assigner.queue(conversation, "new")
        return conversation

    async def _bot_reply(self, conversation: Conversation, text: str, seq: int) -> None:
        """The bot answers the shopper message ``text`` (stored at ``seq``), or hands it over."""
        turn = self.bot.reply(text, conversation.locale, self.clock.now())
        # The reply records what it answered: the question's seq is known only once it is stored.
        changes = bot_answered(conversation, text, seq, turn.ask_email)
        conversation = conversation.model_copy(update=changes)
        await self.conversations.post(
            conversation.id,
            p.MessagePosted,
            record=conversation.fields(*changes),
            author="bot",
            author_id="bot",
            text=turn.text,
            faq_id=turn.faq_id,
            faq_title=turn.title,
            ask_email=turn.ask_email,
        )
        self.metrics.bot_replied(turn.handoff)
        if turn.handoff:
            await self.assigner.queue(conversation, "handoff")

    async def _rate(self, session: Session, frame: p.Rate) -> None:
        conversation = await self.conversations.latest(session.user_id)
        if conversation is None or conversation.status != "closed":
            raise NotAllowed("a conversation can be rated once it has ended")
        await self.conversations.update(
            conversation, rating=frame.score, rating_comment=frame.comment
        )
        await self.conversations.post(
            conversation.id, p.RatingGiven, score=frame.score, comment=frame.comment
        )

    async def _close(self, conversation: Conversation, by: str, by_id: str) -> None:
        if conversation.status == "closed":
            raise NotAllowed(f"conversation {conversation.id} is already closed")
        if conversation.status == "queued":
            await self.backend.dequeue(conversation.id)
        if conversation.agent_id:
            await self.backend.release(conversation.agent_id, conversation.id, self.clock.now())
        await self.conversations.update(
            conversation, status="closed", closed_at=self.clock.now(), closed_by=by
        )
        await self.conversations.post(conversation.id, p.ConversationClosed, by=by, by_id=by_id)
        self.assigner.dispatch_soon()

    async def _transfer(self, session: Session, frame: p.Transfer) -> None:
        conversation = await self._own(session, frame.conversation_id)
        if frame.to_agent == session.user_id:
            raise NotAllowed("a chat cannot be transferred to the agent who holds it")
        target = await self.accounts.get(frame.to_agent)
        if target is None:
            raise NotFound(f"no agent {frame.to_agent!r}")
        if not await self.backend.assign(conversation.id, target.id, self.clock.now()):
            raise NotAllowed(f"agent {target.id!r} is not online or has no room for another chat")
        await self.backend.release(session.user_id, conversation.id, self.clock.now())
        conversation = await self.conversations.update(
            conversation, agent_id=target.id, agent_name=target.name
        )
        await self.conversations.post(
            conversation.id,
            p.ConversationTransferred,
            from_agent=session.user_id,
            agent_id=target.id,
            agent_name=target.name,
            deadline=conversation.deadline(self._target),
        )
        await self.backend.publish(agent_channel(target.id), conversation.id)
        await self.assigner.send_status(session)
        self.assigner.dispatch_soon()

    async def _add_note(self, session: Session, frame: p.AddNote) -> None:
        conversation = await self._own(session, frame.conversation_id)
        appended = await self.conversations.post(
            conversation.id,
            p.NoteAdded,
            log_id=p.staff_log(conversation.id),
            author_id=session.user_id,
            author_name=session.name,
            text=frame.text,
            client_id=frame.client_id,
        )
        self._ack(session, conversation.id, frame.client_id, appended)

    async def _set_tags(self, session: Session, frame: p.SetTags) -> None:
        conversation = await self._own(session, frame.conversation_id)
        tags = list(dict.fromkeys(tag.strip().lower() for tag in frame.tags if tag.strip()))
        await self.conversations.update(conversation, tags=tags)
        await self.conversations.post(
            conversation.id,
            p.TagsChanged,
            log_id=p.staff_log(conversation.id),
            by_id=session.user_id,
            tags=tags,
        )

    async def _own(self, session: Session, conversation_id: str | None) -> Conversation:
        """The conversation a frame is about, if this client may act on it."""
        if session.role == "shopper":
            conversation = await self.conversations.latest(session.user_id)
            mine = conversation is not None and conversation_id in (None, conversation.id)
            if conversation_id is not None and not mine:
                raise NotYourConversation(f"conversation {conversation_id!r} is not yours")
            if conversation is None:
                raise NotFound("you have no conversation yet: send a message to start one")
            return conversation
        if conversation_id is None:
            raise InvalidFrame("agents must name the conversation_id")
        conversation = await self.conversations.get(conversation_id)
        if conversation.agent_id != session.user_id:
            raise NotYourConversation(f"conversation {conversation_id!r} is not assigned to you")
        return conversation
