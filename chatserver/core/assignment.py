"""Putting conversations in the queue and giving them to agents: presence, positions, transfers.

What happens when an agent goes away (the grace period) is in :mod:`chatserver.core.grace`.
"""

from __future__ import annotations

import logging

from chatserver.core.auth import Accounts
from chatserver.core.fanout import AGENTS_CHANNEL, Fanout, follow_topic, status_topic
from chatserver.core.grace import GracePeriods
from chatserver.core.journal import Journal, stored
from chatserver.core.sessions import Session
from chatserver.core.waits import (
    Label,
    Outlook,
    Seats,
    WaitEstimator,
    availability,
    snapshot,
    speaker_places,
)
from chatserver.core.wakeups import Wakeups
from chatserver.domain import protocol as p
from chatserver.domain.bot import Bot
from chatserver.domain.conversation import Conversation, handed_off, start_clock
from chatserver.domain.languages import LanguageRules, language_key

log = logging.getLogger("chatserver.core.assignment")

LANGUAGES_TOPIC = "agent-languages"
"""The bus topic on which an agent's changed languages are announced (the message: their id)."""


class Assigner:
    """Routes waiting conversations to agents and keeps everyone told where the queue stands."""

    def __init__(
        self,
        journal: Journal,
        fanout: Fanout,
        accounts: Accounts,
        bot: Bot,
        target_s: float,
        grace_s: float,
    ) -> None:
        self.journal = journal
        self.router = journal.store.router
        self.bus = journal.store.bus
        self.clock = journal.clock
        self.fanout = fanout
        self.accounts = accounts
        self.bot = bot
        self.target_s = target_s
        self.grace_s = grace_s
        #: The shop's rules for waiting on an agent who speaks the shopper's language.
        self.language_rules = LanguageRules()
        self.wakeups = Wakeups(self.clock, self.dispatch_soon)
        self.waits = WaitEstimator()
        #: Waiting conversations' labels as of the last announcement (estimates read them).
        self._labels: dict[str, Label] = {}
        self.graces = GracePeriods(self)
        self._dispatch_wanted = False
        self._dispatching = False
        fanout.send_status = self.send_status

    async def start(self) -> None:
        """Agents who hold chats but are connected nowhere get a grace period, then the queue moves."""
        await self.graces.start()
        self.bus.on_topic(LANGUAGES_TOPIC, self._languages_changed)
        await self.bus.watch(LANGUAGES_TOPIC)
        for conversation_id in await self.router.waiting():  # a restarted store lost the labels
            await self._put_label(await self.journal.get(conversation_id))
        await self.dispatch()

    async def close(self) -> None:
        self.wakeups.close()
        await self.bus.unwatch(LANGUAGES_TOPIC)
        await self.graces.close()

    # --- the queue -------------------------------------------------------------------------

    async def enqueue(
        self, conversation: Conversation, reason: str, from_agent: str | None = None
    ) -> None:
        """Put a conversation in the queue (its clock runs), then give it to an agent with room."""
        now = self.clock.now()
        changes: dict[str, object] = {"status": "queued", "agent_id": None, "agent_name": ""}
        if conversation.status == "bot" or conversation.queued_at is None:
            changes["queued_at"] = now
        changes |= start_clock(conversation, now)
        if reason == "handoff":
            changes |= handed_off(conversation)
        conversation = await self.journal.update(conversation, **changes)
        deadline = conversation.deadline(self.target_s)
        if from_agent is not None:
            await self.journal.post(
                conversation.id, p.ConversationRequeued, from_agent=from_agent, deadline=deadline
            )
        else:
            await self.journal.post(
                conversation.id, p.ConversationQueued, reason=reason, deadline=deadline
            )
        label = self._label(conversation)
        await self.router.enqueue(
            conversation.id,
            from_agent is not None,
            language=label.language,
            anyone_from=label.anyone_from,
        )
        self.wakeups.at(label.anyone_from)
        self.dispatch_soon()

    async def relabel(self, conversation: Conversation) -> None:
        """The shopper's text told a waiting conversation's language: agents hear of it
        (``language_changed``) when it is not the one they were told, and it waits for a
        speaker of it, keeping its place."""
        first = await stored(self.journal.store.log.read(conversation.id, 0, 1))
        started = p.server_frame.validate_json(first[0][1]) if first else None
        told = started.language if isinstance(started, p.ConversationStarted) else ""
        if language_key(told) != language_key(conversation.language):
            await self.journal.post(
                conversation.id, p.LanguageChanged, language=conversation.language, by="bot"
            )
        await self.requeue_labelled(conversation)

    async def requeue_labelled(self, conversation: Conversation) -> None:
        """A waiting conversation's language changed: it keeps its place, labelled from the
        record, if it is still waiting."""
        if (await self.journal.get(conversation.id)).status != "queued":
            return  # taken meanwhile: enqueueing it again would give it out twice
        await self._put_label(conversation)

    async def _put_label(self, conversation: Conversation) -> None:
        label = self._label(conversation)
        await self.router.enqueue(
            conversation.id, language=label.language, anyone_from=label.anyone_from
        )
        self.wakeups.at(label.anyone_from)
        self.dispatch_soon()

    def _label(self, conversation: Conversation) -> Label:
        """The language a conversation waits for, and from when anyone with a seat may take it
        (the response target is then at risk)."""
        started = conversation.clock_started or conversation.queued_at or self.clock.now()
        return Label(
            language_key(conversation.language),
            started + self.language_rules.wait(self.target_s),
        )

    async def let_go(self, conversation: Conversation) -> None:
        """A conversation ends: out of the queue, and off its agent's hands (their load drops)."""
        now = self.clock.now()
        if conversation.status == "queued":
            await self.router.dequeue(conversation.id)
        if conversation.agent_id:
            await self.router.release(conversation.agent_id, conversation.id, now)
            if conversation.assigned_at is not None:
                self.waits.record(now - conversation.assigned_at, now)
            await self.bus.signal(status_topic(conversation.agent_id), "")

    async def transfer(self, conversation_id: str, from_agent: str, to_agent: str) -> bool:
        """Give a chat to another agent if they are online with room; False if not."""
        if not await self.router.assign(conversation_id, to_agent, self.clock.now()):
            return False
        await self.router.release(from_agent, conversation_id, self.clock.now())
        return True

    async def handed_over(self, conversation_id: str, giver: Session, to_agent: str) -> None:
        """After a transfer: the receiver's sockets follow the chat, both see their new load
        (on whichever worker their sockets are)."""
        await self.bus.signal(follow_topic(to_agent), conversation_id)
        await self.bus.signal(status_topic(to_agent), "")
        await self.bus.signal(status_topic(giver.user_id), "")
        self.dispatch_soon()

    async def held_by(self, agent_id: str) -> list[str]:
        """The conversations an agent holds."""
        return (await self.router.held()).get(agent_id, [])

    def dispatch_soon(self) -> None:
        """Dispatch in the background; requests that arrive meanwhile share the next round.

        Each round tells every waiting shopper their place, so a burst of arrivals costs one
        round, not one per arrival.
        """
        self._dispatch_wanted = True
        if not self._dispatching:
            self._dispatching = True
            self.fanout.soon(self._dispatch_rounds())

    async def _dispatch_rounds(self) -> None:
        try:
            while self._dispatch_wanted:
                self._dispatch_wanted = False
                await self.dispatch()
        finally:
            self._dispatching = False

    async def dispatch(self) -> None:
        """Give waiting conversations to agents with room, then tell everyone where the queue is."""
        while (claim := await self.router.claim_next(self.clock.now())) is not None:
            await self._given(claim.conversation_id, claim.agent_id)
        await self.announce_queue()

    async def _given(self, conversation_id: str, agent_id: str) -> None:
        """A conversation was just given to an agent: record, event, and their sockets follow."""
        conversation = await self.journal.get(conversation_id)
        account = await self.accounts.get(agent_id)
        name = account.name if account else agent_id
        conversation = await self.journal.update(
            conversation,
            status="assigned",
            agent_id=agent_id,
            agent_name=name,
            assigned_at=self.clock.now(),
        )
        await self.journal.post(
            conversation.id,
            p.ConversationAssigned,
            agent_id=agent_id,
            agent_name=name,
            deadline=conversation.deadline(self.target_s),
            language=conversation.language,
        )
        await self.bus.signal(follow_topic(agent_id), conversation.id)
        await self.bus.signal(status_topic(agent_id), "")

    async def pick(self, conversation_id: str, agent_id: str) -> bool:
        """An agent takes a waiting conversation out of turn; False if gone or they have no room."""
        if not await self.router.pick(conversation_id, agent_id, self.clock.now()):
            return False
        await self._given(conversation_id, agent_id)
        await self.announce_queue()
        return True

    async def announce_queue(self) -> None:
        """Every waiting shopper hears their place and the true outlook; every agent sees the queue."""
        queue = [await self.journal.get(c) for c in await self.router.waiting()]
        seats = await self._seats()
        now = self.clock.now()
        labels = [self._label(c) for c in queue]
        self._labels = {c.id: label for c, label in zip(queue, labels, strict=True)}
        await self.bus.publish(AGENTS_CHANNEL, snapshot(queue, len(seats), self.target_s))
        places = zip(speaker_places(labels, now), range(1, len(queue) + 1), strict=True)
        for conversation, label, place in zip(queue, labels, places, strict=True):
            back = (
                "" if seats else self.bot.back_at(now, conversation.locale, conversation.timezone)
            )
            notice = p.QueuePosition(
                conversation_id=conversation.id,
                position=place[1],
                estimated_wait_s=self._estimate(label, place, seats, now),
                agents_online=len(seats),
                back_at=back,
            )
            await self.journal.notify(conversation.id, notice)

    def _estimate(
        self, label: Label, places: tuple[int, int], seats: list[Seats], now: float
    ) -> float | None:
        """The wait of a conversation with this label at these places (among those a speaker of
        its language may take, and in the queue): a speaker first, anyone once its wait is over."""
        return self.waits.estimate_in(label.language, places, seats, label.anyone_from - now, now)

    async def queue_snapshot(self) -> str:
        """What agents see of the queue."""
        queue = [await self.journal.get(c) for c in await self.router.waiting()]
        return snapshot(queue, len(await self._seats()), self.target_s)

    async def _seats(self) -> list[Seats]:
        """The seats of every agent online, with the languages they speak."""
        return [
            Seats(a.capacity, a.open_chats, a.languages)
            for a in await self.router.presence()
            if a.status == "online"
        ]

    async def _waiting_labels(self) -> list[Label]:
        """The waiting conversations' labels, head first (those not seen at the last
        announcement read from their records)."""
        labels = []
        for conversation_id in await self.router.waiting():
            label = self._labels.get(conversation_id)
            if label is None:
                label = self._label(await self.journal.get(conversation_id))
                self._labels[conversation_id] = label
            labels.append(label)
        return labels

    async def still_waiting(self, conversation_id: str) -> bool:
        """Whether a conversation is still in the queue, not yet claimed by an agent."""
        return conversation_id in await self.router.waiting()

    async def agents_online(self) -> int:
        return len(await self._seats())

    async def outlook(self, language: str = "") -> Outlook:
        """The one answer to "is a person available": seats, the wait, and whether the bot leads.

        ``language``: the shopper's ("" for any agent): speakers of it answer first, anyone only
        once it has waited the shop's language wait.
        """
        key = language_key(language)
        seats = await self._seats()
        now = self.clock.now()
        if key:
            queue = await self._waiting_labels()
            queued = len(queue)
            newcomer = Label(key, now + self.language_rules.wait(self.target_s))
            before_speaker = sum(label.open_to(key, now) for label in queue)
            estimate = self._estimate(newcomer, (before_speaker + 1, queued + 1), seats, now)
            free = sum(s.free for s in seats if key in s.languages)
        else:
            queued = len(await self.router.waiting())
            estimate = self.waits.estimate_in("", (queued + 1, queued + 1), seats, 0.0, now)
            free = sum(s.free for s in seats)
        seat_free = estimate == 0.0  # a newcomer gets a seat at once: never the bot then
        wait = float("inf") if estimate is None else estimate
        with_bot = not seat_free and self.bot.in_charge(now, queued, wait)
        return Outlook(len(seats), free, estimate, with_bot)

    async def availability(self, locale: str, timezone: str = "") -> p.Availability:
        """Who would answer a new message now from a shopper of this locale (a speaker of its
        language first), and the shop's texts in it."""
        outlook = await self.outlook(locale)
        back = "" if outlook.online else self.bot.back_at(self.clock.now(), locale, timezone)
        return availability(outlook, self.target_s, self.bot.texts(locale), back)

    # --- agents ------------------------------------------------------------------------------

    async def set_status(self, agent_id: str, status: p.AgentStatus, capacity: int | None) -> None:
        """An agent goes online, away or offline; new chats may go to them at once."""
        account = await self.accounts.get(agent_id)
        if capacity is None:
            current = [a for a in await self.router.presence() if a.agent_id == agent_id]
            capacity = current[0].capacity if current else (account.capacity if account else 1)
        spoken = self.language_rules.spoken(account.languages if account else ())
        await self.router.set_presence(agent_id, status, capacity, self.clock.now(), spoken)
        await self.bus.signal(status_topic(agent_id), "")
        await self.dispatch()

    async def languages_changed(self, agent_id: str) -> None:
        """An agent's account has new languages: routing uses them at once, on whichever worker
        holds their sockets."""
        await self.bus.signal(LANGUAGES_TOPIC, agent_id)

    def _languages_changed(self, topic: str, agent_id: str) -> None:
        if self.fanout.agent_sessions(agent_id):
            self.fanout.soon(self._reread_languages(agent_id))

    async def _reread_languages(self, agent_id: str) -> None:
        mine = [a for a in await self.router.presence() if a.agent_id == agent_id]
        if mine and mine[0].status != "offline":
            await self.set_status(agent_id, mine[0].status, mine[0].capacity)  # type: ignore[arg-type]

    async def send_status(self, session: Session) -> None:
        mine = [a for a in await self.router.presence() if a.agent_id == session.user_id]
        status, capacity, held = (
            (mine[0].status, mine[0].capacity, mine[0].open_chats) if mine else ("offline", 0, 0)
        )
        frame = p.StatusChanged(status=status, capacity=capacity, open_chats=held)  # type: ignore[arg-type]
        session.send(frame.model_dump_json())

    async def present(self, agent_id: str) -> bool:
        """True if the agent is online or away on any worker."""
        return any(
            a.agent_id == agent_id and a.status != "offline" for a in await self.router.presence()
        )

    async def agent_list(self) -> p.AgentList:
        """Every agent with their status and load, for a transfer."""
        presence = {a.agent_id: a for a in await self.router.presence()}
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
        return p.AgentList(agents=entries)
