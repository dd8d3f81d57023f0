"""The event path: a validated frame becomes an event, is stored, then published to sockets.

The hub imports no web framework: a connection hands it a :class:`Session` and frames, and it
answers through the session's outbox.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from chatserver import protocol as p
from chatserver.auth import Accounts, Tokens
from chatserver.canned import load_canned
from chatserver.backends.base import Appended, Backend, BackendUnavailable
from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.conversation import Conversation, start_clock, stop_clock
from chatserver.metrics import Metrics
from chatserver.errors import (
    InvalidFrame,
    NotAllowed,
    NotFound,
    NotYourConversation,
    Unauthorized,
    Unavailable,
)
from chatserver.routing import Bot, WaitEstimator
from chatserver.sessions import Session

log = logging.getLogger("chatserver.hub")

AGENTS_CHANNEL = "agents"


def conversation_channel(conversation_id: str) -> str:
    return f"c:{conversation_id}"


def agent_channel(agent_id: str) -> str:
    return f"a:{agent_id}"


class Hub:
    """Applies client frames to conversations and fans events out to this worker's sessions."""

    def __init__(
        self, settings: Settings, backend: Backend, tokens: Tokens, clock: Clock, bot: Bot
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.tokens = tokens
        self.accounts = Accounts(backend)
        self.clock = clock
        self.bot = bot
        self.waits = WaitEstimator()
        self.metrics = Metrics(settings.response_target_s)
        self._target = settings.response_target_s
        self._shoppers: dict[str, set[Session]] = defaultdict(set)
        self._agents: dict[str, set[Session]] = defaultdict(set)
        self._followers: dict[str, set[Session]] = defaultdict(set)
        self._away: dict[str, tuple[str, asyncio.Task[None]]] = {}
        self._shopper_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._context: dict[Session, p.Hello] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen for published events; agents who hold chats but are not here get a grace period."""
        self.backend.set_listener(self._on_publish)
        await self.backend.subscribe(AGENTS_CHANNEL)
        for agent_id in await self.backend.agent_chats():
            # With several workers, an agent connected elsewhere is online there: leave them be.
            if not self._agents.get(agent_id) and not await self._present(agent_id):
                self._start_grace(agent_id, "online")
        await self.dispatch()

    async def _present(self, agent_id: str) -> bool:
        """True if the agent is online or away on any worker."""
        return any(
            a.agent_id == agent_id and a.status != "offline" for a in await self.backend.presence()
        )

    async def close(self) -> None:
        for _, task in self._away.values():
            task.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*(t for _, t in self._away.values()), *self._tasks, return_exceptions=True)

    # --- connecting --------------------------------------------------------------------------

    async def connect_shopper(self, session: Session, hello: p.Hello) -> None:
        """Identify a shopper (or make a new one) and resume their latest conversation."""
        token = hello.token
        if token:
            session.user_id = self.tokens.shopper_id(token)
        else:
            session.user_id, token = self.tokens.new_shopper()
        self._shoppers[session.user_id].add(session)
        self._context[session] = hello
        conversation = await self._latest(session.user_id)
        infos = []
        if conversation is not None:
            infos.append(conversation.info(self._target))
            await self._follow(session, conversation.id, hello.last_seq)
        self._welcome(session, token, infos)
        session.send(await self._availability())
        if conversation is not None and conversation.status == "queued":
            await self._announce_queue()

    async def connect_agent(self, session: Session, hello: p.Hello) -> None:
        """Check an agent's session token, then resume the chats they hold and show the queue."""
        if not hello.token:
            raise Unauthorized("agent hello needs the session token from /api/login")
        agent_id = self.tokens.session_agent(hello.token)
        account = await self.accounts.get(agent_id)
        if account is None:
            raise Unauthorized(f"agent {agent_id!r} no longer exists")
        session.user_id, session.name = account.id, account.name
        self._agents[agent_id].add(session)
        if len(self._agents[agent_id]) == 1:
            await self.backend.subscribe(agent_channel(agent_id))
        held = (await self.backend.agent_chats()).get(agent_id, [])
        infos = []
        for conversation_id in held:
            conversation = await self._conversation(conversation_id)
            infos.append(conversation.info(self._target))
            await self._follow(session, conversation_id, hello.last_seqs.get(conversation_id, 0))
            staff = p.staff_log(conversation_id)
            await self._follow(session, staff, hello.last_seqs.get(staff, 0))
        self._welcome(session, None, infos)
        away = self._away.pop(agent_id, None)
        if away is not None:
            away[1].cancel()
            await self._set_status(session, away[0], None)
        else:
            await self._send_status(session)
        session.send(await self._queue_snapshot())

    def _welcome(self, session: Session, token: str | None, infos: list[p.ConversationInfo]) -> None:
        session.send(
            p.Welcome(
                role=session.role,
                user_id=session.user_id,
                name=session.name,
                token=token,
                server_time=self.clock.now(),
                response_target_s=self._target,
                conversations=infos,
            ).model_dump_json()
        )

    async def disconnect(self, session: Session) -> None:
        """Forget a closed socket; an agent's last socket going starts their grace period."""
        session.close()
        self._context.pop(session, None)
        for conversation_id in list(session.feeds):
            await self._unfollow(session, conversation_id)
        if session.role == "shopper":
            self._shoppers[session.user_id].discard(session)
            if not self._shoppers[session.user_id]:
                del self._shoppers[session.user_id]
            return
        sessions = self._agents.get(session.user_id)
        if sessions is None:
            return
        sessions.discard(session)
        if not sessions:
            del self._agents[session.user_id]
            await self.backend.unsubscribe(agent_channel(session.user_id))
            status = next(
                (a.status for a in await self.backend.presence() if a.agent_id == session.user_id),
                "offline",
            )
            account = await self.accounts.get(session.user_id)
            capacity = account.capacity if account else self.settings.default_capacity
            await self.backend.set_presence(session.user_id, "offline", capacity, self.clock.now())
            self._start_grace(session.user_id, status)
            await self._announce_queue()

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
                await self._notify(conversation.id, notice)
            case p.MarkRead():
                conversation = await self._own(session, frame.conversation_id)
                receipt = p.ReadReceipt(conversation_id=conversation.id, role=session.role, seq=frame.seq)
                await self._notify(conversation.id, receipt)
            case p.RequestHuman():
                await self._request_human(session)
            case p.EndConversation():
                conversation = await self._own(session, None)
                await self._close(conversation, "shopper", session.user_id)
            case p.Rate():
                await self._rate(session, frame)
            case p.SetStatus():
                await self._set_status(session, frame.status, frame.capacity)
            case p.Transfer():
                await self._transfer(session, frame)
            case p.CloseConversation():
                conversation = await self._own(session, frame.conversation_id)
                await self._close(conversation, "agent", session.user_id)
            case p.BotFeedback():
                conversation = await self._own(session, None)
                await self._post(
                    conversation.id, p.BotFeedbackGiven, answer_seq=frame.seq, helpful=frame.helpful
                )
            case p.LeaveEmail():
                await self._leave_email(session, frame)
            case p.AddNote():
                await self._add_note(session, frame)
            case p.SetTags():
                await self._set_tags(session, frame)
            case p.ListCanned():
                replies = load_canned(self.settings.faq_dir / "canned.toml")
                session.send(p.CannedReplies(replies=replies).model_dump_json())
            case p.ListAgents():
                session.send(await self._agent_list())
            case p.GetHistory():
                session.send(await self._history(session, frame.conversation_id))
            case _:
                raise InvalidFrame(f"frame type {getattr(frame, 'type', '?')!r} is not handled")

    async def _shopper_message(self, session: Session, frame: p.SendMessage) -> None:
        async with self._shopper_locks[session.user_id]:
            conversation = await self._latest(session.user_id)
            if frame.conversation_id is not None:
                await self._own(session, frame.conversation_id)
            if conversation is None or conversation.status == "closed":
                conversation = await self._start(session)
        now = self.clock.now()
        running = conversation.status == "queued" or (
            conversation.status == "assigned" and conversation.first_response_s is not None
        )
        changes = start_clock(conversation, now) if running else {}
        changes["messages"] = conversation.messages + 1
        updated = conversation.model_copy(update=changes)
        appended = await self._post(
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
        if appended.duplicate:
            return
        if conversation.status == "bot":
            await self._bot_reply(conversation, frame.text)

    async def _agent_message(self, session: Session, frame: p.SendMessage) -> None:
        conversation = await self._own(session, frame.conversation_id)
        if conversation.status == "closed":
            raise NotAllowed(f"conversation {conversation.id} is closed")
        changes = stop_clock(conversation, self.clock.now())
        changes["messages"] = conversation.messages + 1
        appended = await self._post(
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

    def _ack(self, session: Session, conversation_id: str, client_id: str, appended: Appended) -> None:
        ack = p.Ack(
            conversation_id=conversation_id,
            client_id=client_id,
            seq=appended.seq,
            duplicate=appended.duplicate,
        )
        session.send(ack.model_dump_json())

    async def _start(self, session: Session) -> Conversation:
        """A shopper's first message: a new conversation, with the bot or in the queue."""
        hello = self._context.get(session)
        now = self.clock.now()
        queue = await self.backend.queue()
        online = await self._agents_online()
        estimate = self.waits.estimate(len(queue) + 1, online)
        with_bot = self.bot.in_charge(now, len(queue), float("inf") if estimate is None else estimate)
        conversation = Conversation(
            id="c-" + uuid.uuid4().hex,
            shop_id=self.settings.shop_id,
            shopper_id=session.user_id,
            status="bot" if with_bot else "queued",
            created_at=now,
            queued_at=None if with_bot else now,
            clock_started=None if with_bot else now,
            locale=hello.locale if hello else "en",
            timezone=hello.timezone if hello else "",
            context=hello.context if hello else None,
        )
        await self._store(self.backend.create_conversation(conversation.id, session.user_id, conversation.fields()))
        for shopper_session in self._shoppers.get(session.user_id, ()):
            for old in list(shopper_session.feeds):
                await self._unfollow(shopper_session, old)
            await self._follow(shopper_session, conversation.id, 0)
        await self._post(
            conversation.id,
            p.ConversationStarted,
            shopper_id=session.user_id,
            status=conversation.status,
            locale=conversation.locale,
            timezone=conversation.timezone,
            context=conversation.context,
        )
        if not with_bot:
            await self._queue(conversation, "new")
        return conversation

    async def _queue(
        self, conversation: Conversation, reason: str, from_agent: str | None = None
    ) -> None:
        """Put a conversation in the queue (the clock runs) and give it to an agent if one has room."""
        now = self.clock.now()
        changes = {"status": "queued", "agent_id": None, "agent_name": ""}
        if conversation.status == "bot" or conversation.queued_at is None:
            changes["queued_at"] = now
        changes |= start_clock(conversation, now)
        conversation = await self._update(conversation, **changes)
        deadline = conversation.deadline(self._target)
        if from_agent is not None:
            await self._post(
                conversation.id, p.ConversationRequeued, from_agent=from_agent, deadline=deadline
            )
        else:
            await self._post(conversation.id, p.ConversationQueued, reason=reason, deadline=deadline)
        await self.backend.enqueue(conversation.id, at_head=from_agent is not None)
        self._soon(self.dispatch())

    async def _request_human(self, session: Session) -> None:
        async with self._shopper_locks[session.user_id]:
            conversation = await self._latest(session.user_id)
            if conversation is None or conversation.status == "closed":
                conversation = await self._start(session)
        if conversation.status == "bot":
            await self._queue(conversation, "handoff")

    async def _bot_reply(self, conversation: Conversation, text: str) -> None:
        turn = self.bot.reply(text, conversation.locale, self.clock.now())
        await self._post(
            conversation.id,
            p.MessagePosted,
            author="bot",
            author_id="bot",
            text=turn.text,
            faq_id=turn.faq_id,
            faq_title=turn.title,
            ask_email=turn.ask_email,
        )
        self.metrics.bot_replied(turn.handoff)
        if turn.handoff:
            await self._queue(conversation, "handoff")

    async def _rate(self, session: Session, frame: p.Rate) -> None:
        conversation = await self._latest(session.user_id)
        if conversation is None or conversation.status != "closed":
            raise NotAllowed("a conversation can be rated once it has ended")
        await self._update(conversation, rating=frame.score, rating_comment=frame.comment)
        await self._post(conversation.id, p.RatingGiven, score=frame.score, comment=frame.comment)

    async def _close(self, conversation: Conversation, by: str, by_id: str) -> None:
        if conversation.status == "closed":
            raise NotAllowed(f"conversation {conversation.id} is already closed")
        if conversation.status == "queued":
            await self.backend.dequeue(conversation.id)
        if conversation.agent_id:
            await self.backend.release(conversation.agent_id, conversation.id, self.clock.now())
        await self._update(conversation, status="closed", closed_at=self.clock.now(), closed_by=by)
        await self._post(conversation.id, p.ConversationClosed, by=by, by_id=by_id)
        self._soon(self.dispatch())

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
        conversation = await self._update(conversation, agent_id=target.id, agent_name=target.name)
        await self._post(
            conversation.id,
            p.ConversationTransferred,
            from_agent=session.user_id,
            agent_id=target.id,
            agent_name=target.name,
            deadline=conversation.deadline(self._target),
        )
        await self.backend.publish(agent_channel(target.id), conversation.id)
        await self._send_status(session)
        self._soon(self.dispatch())

    # --- shopper extras and agent tools --------------------------------------------------------

    async def _availability(self) -> str:
        """Who would answer a new shopper message now: the widget's honest greeting."""
        queue = await self.backend.queue()
        online = await self._agents_online()
        estimate = self.waits.estimate(len(queue) + 1, online)
        wait = float("inf") if estimate is None else estimate
        if self.bot.in_charge(self.clock.now(), len(queue), wait):
            mode = "bot"
        elif online == 0:
            mode = "offline"
        else:
            mode = "live" if wait <= self._target else "busy"
        frame = p.Availability(mode=mode, estimated_wait_s=estimate, agents_online=online)  # type: ignore[arg-type]
        return frame.model_dump_json()

    async def _leave_email(self, session: Session, frame: p.LeaveEmail) -> None:
        async with self._shopper_locks[session.user_id]:
            conversation = await self._latest(session.user_id)
            if conversation is None or conversation.status == "closed":
                conversation = await self._start(session)
        await self._update(conversation, email=frame.email)
        await self._post(conversation.id, p.EmailLeft, email=frame.email, name=frame.name)

    async def _add_note(self, session: Session, frame: p.AddNote) -> None:
        conversation = await self._own(session, frame.conversation_id)
        appended = await self._post(
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
        await self._update(conversation, tags=tags)
        await self._post(
            conversation.id, p.TagsChanged, log_id=p.staff_log(conversation.id), by_id=session.user_id, tags=tags
        )

    async def _agent_list(self) -> str:
        presence = {a.agent_id: a for a in await self.backend.presence()}
        entries = []
        for account in await self.accounts.all():
            seen = presence.get(account.id)
            entries.append(
                p.AgentEntry(
                    agent_id=account.id,
                    name=account.name,
                    status=seen.status if seen else "offline",  # type: ignore[arg-type]
                    open_chats=seen.open_chats if seen else 0,
                    capacity=seen.capacity if seen else account.capacity,
                )
            )
        return p.AgentList(agents=entries).model_dump_json()

    async def _history(self, session: Session, conversation_id: str) -> str:
        """The earlier conversations of this chat's shopper, newest first (at most 20)."""
        conversation = await self._own(session, conversation_id)
        ids = [i for i in await self.backend.shopper_conversations(conversation.shopper_id) if i != conversation.id]
        past = []
        for earlier_id in reversed(ids[-20:]):
            earlier = await self._conversation(earlier_id)
            past.append(
                p.PastConversation(
                    conversation_id=earlier.id,
                    created_at=earlier.created_at,
                    status=earlier.status,
                    agent_name=earlier.agent_name,
                    messages=earlier.messages,
                    rating=earlier.rating,
                    tags=earlier.tags,
                    context=earlier.context,
                )
            )
        return p.ConversationHistory(conversation_id=conversation.id, conversations=past).model_dump_json()

    # --- routing --------------------------------------------------------------------------------

    async def dispatch(self) -> None:
        """Give waiting conversations to agents with room, then tell everyone where the queue is."""
        while (claim := await self.backend.claim_next(self.clock.now())) is not None:
            conversation = await self._conversation(claim.conversation_id)
            account = await self.accounts.get(claim.agent_id)
            name = account.name if account else claim.agent_id
            if conversation.queued_at is not None:
                self.waits.record(self.clock.now() - conversation.queued_at)
            conversation = await self._update(
                conversation, status="assigned", agent_id=claim.agent_id, agent_name=name
            )
            await self._post(
                conversation.id,
                p.ConversationAssigned,
                agent_id=claim.agent_id,
                agent_name=name,
                deadline=conversation.deadline(self._target),
            )
            await self.backend.publish(agent_channel(claim.agent_id), conversation.id)
            for session in self._agents.get(claim.agent_id, ()):
                await self._send_status(session)
        await self._announce_queue()

    async def _announce_queue(self) -> None:
        queue = await self.backend.queue()
        online = await self._agents_online()
        for position, conversation_id in enumerate(queue, start=1):
            notice = p.QueuePosition(
                conversation_id=conversation_id,
                position=position,
                estimated_wait_s=self.waits.estimate(position, online),
            )
            await self._notify(conversation_id, notice)
        await self.backend.publish(AGENTS_CHANNEL, await self._queue_snapshot())

    async def _queue_snapshot(self) -> str:
        waiting = []
        for position, conversation_id in enumerate(await self.backend.queue(), start=1):
            conversation = await self._conversation(conversation_id)
            waiting.append(
                p.WaitingConversation(
                    conversation_id=conversation_id,
                    position=position,
                    queued_at=conversation.queued_at or conversation.created_at,
                    deadline=conversation.deadline(self._target),
                )
            )
        online = await self._agents_online()
        return p.QueueSnapshot(waiting=waiting, agents_online=online).model_dump_json()

    async def _agents_online(self) -> int:
        return sum(1 for a in await self.backend.presence() if a.status == "online")

    async def _set_status(self, session: Session, status: p.AgentStatus, capacity: int | None) -> None:
        account = await self.accounts.get(session.user_id)
        if capacity is None:
            current = [a for a in await self.backend.presence() if a.agent_id == session.user_id]
            capacity = current[0].capacity if current else (account.capacity if account else 1)
        await self.backend.set_presence(session.user_id, status, capacity, self.clock.now())
        for agent_session in self._agents.get(session.user_id, ()):
            await self._send_status(agent_session)
        await self.dispatch()

    async def _send_status(self, session: Session) -> None:
        mine = [a for a in await self.backend.presence() if a.agent_id == session.user_id]
        held = (await self.backend.agent_chats()).get(session.user_id, [])
        status, capacity = (mine[0].status, mine[0].capacity) if mine else ("offline", 0)
        frame = p.StatusChanged(status=status, capacity=capacity, open_chats=len(held))  # type: ignore[arg-type]
        session.send(frame.model_dump_json())

    def _start_grace(self, agent_id: str, status: str) -> None:
        task = asyncio.get_running_loop().create_task(self._requeue_after_grace(agent_id))
        self._away[agent_id] = (status, task)

    async def _requeue_after_grace(self, agent_id: str) -> None:
        """An agent stayed away past the grace period: their chats go back to the head of the queue."""
        await self.clock.sleep(self.settings.agent_grace_s)
        if self._away.get(agent_id, (None, None))[1] is not asyncio.current_task():
            return
        del self._away[agent_id]
        if await self._present(agent_id):
            return  # came back through another worker
        held = (await self.backend.agent_chats()).get(agent_id, [])
        for conversation_id in reversed(held):
            conversation = await self._conversation(conversation_id)
            await self.backend.release(agent_id, conversation_id, self.clock.now())
            await self._queue(conversation, "requeued", from_agent=agent_id)
        await self.dispatch()

    # --- store and publish --------------------------------------------------------------------------

    async def _post(
        self,
        conversation_id: str,
        kind: type[p.Event],
        *,
        log_id: str | None = None,
        record: Mapping[str, str] | None = None,
        **fields: Any,
    ) -> Appended:
        """Store an event (seq and server time assigned), then publish it to every follower.

        An event with a ``client_id`` already in the log is not stored again: the original returns.
        ``log_id`` stores it in another log of the conversation (its agent-only staff log);
        ``record`` holds conversation record fields stored in the same write as a new event.
        """
        log_id = log_id or conversation_id
        ts = self.clock.now()
        client_id: str | None = fields.get("client_id")

        def render(seq: int) -> str:
            return kind(conversation_id=conversation_id, seq=seq, ts=ts, **fields).model_dump_json()

        appended = await self._store(self.backend.append(log_id, render, client_id, record))
        if not appended.duplicate:
            await self.backend.publish(conversation_channel(log_id), appended.text, appended.seq)
        return appended

    async def _notify(self, conversation_id: str, frame: p.Frame) -> None:
        """Publish a live notice (not stored, never replayed) to a conversation's followers."""
        await self.backend.publish(conversation_channel(conversation_id), frame.model_dump_json())

    async def _store(self, write: Any) -> Any:
        try:
            return await write
        except BackendUnavailable as exc:
            raise Unavailable("the message store is temporarily unavailable; send again") from exc

    async def _update(self, conversation: Conversation, **changes: Any) -> Conversation:
        updated = conversation.model_copy(update=changes)
        await self._store(self.backend.update_conversation(conversation.id, updated.fields(*changes)))
        return updated

    async def _conversation(self, conversation_id: str) -> Conversation:
        fields = await self.backend.get_conversation(conversation_id)
        if fields is None:
            raise NotFound(f"no conversation {conversation_id!r}")
        return Conversation.from_fields(fields)

    async def _latest(self, shopper_id: str) -> Conversation | None:
        ids = await self.backend.shopper_conversations(shopper_id)
        return await self._conversation(ids[-1]) if ids else None

    async def _own(self, session: Session, conversation_id: str | None) -> Conversation:
        """The conversation a frame is about, if this client may act on it."""
        if session.role == "shopper":
            conversation = await self._latest(session.user_id)
            if conversation_id is not None and (conversation is None or conversation_id != conversation.id):
                raise NotYourConversation(f"conversation {conversation_id!r} is not yours")
            if conversation is None:
                raise NotFound("you have no conversation yet: send a message to start one")
            return conversation
        if conversation_id is None:
            raise InvalidFrame("agents must name the conversation_id")
        conversation = await self._conversation(conversation_id)
        if conversation.agent_id != session.user_id:
            raise NotYourConversation(f"conversation {conversation_id!r} is not assigned to you")
        return conversation

    # --- fan-out -------------------------------------------------------------------------------

    async def _follow(self, session: Session, conversation_id: str, after_seq: int) -> None:
        followers = self._followers[conversation_id]
        followers.add(session)
        if len(followers) == 1:
            await self.backend.subscribe(conversation_channel(conversation_id))
        session.follow(conversation_id, after_seq)

    async def _unfollow(self, session: Session, conversation_id: str) -> None:
        session.unfollow(conversation_id)
        followers = self._followers.get(conversation_id)
        if followers is None:
            return
        followers.discard(session)
        if not followers:
            del self._followers[conversation_id]
            await self.backend.unsubscribe(conversation_channel(conversation_id))

    def _on_publish(self, channel: str, seq: int | None, text: str) -> None:
        kind, _, key = channel.partition(":")
        if kind == "c":
            for session in tuple(self._followers.get(key, ())):
                session.offer(key, seq, text)
        elif kind == "a":
            for session in tuple(self._agents.get(key, ())):
                if not session.follows(text):
                    self._soon(self._follow(session, text, 0))
                    self._soon(self._follow(session, p.staff_log(text), 0))
        elif channel == AGENTS_CHANNEL:
            for sessions in self._agents.values():
                for session in sessions:
                    session.send(text)

    def _soon(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background hub work failed", exc_info=task.exception())

