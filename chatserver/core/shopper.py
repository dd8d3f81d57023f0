"""What a shopper's frames do: one handler per frame type, in the table ``HANDLERS``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from chatserver.core.chats import Chats
from chatserver.core.journal import Change, Stale
from chatserver.core.notices import choose_option
from chatserver.core.sessions import Session
from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation, feedback_given, start_clock
from chatserver.domain.errors import NotAllowed
from chatserver.domain.languages import language_key


async def send_message(chats: Chats, session: Session, frame: p.SendMessage) -> None:
    """Store the message (starting a conversation if needed); the clock runs if a person owes a reply.

    The record is read at most once: the one this worker last read or wrote, if it knows its
    revision, else the store's. The message is stored with its changes only if the record is
    still that one (else it is made again from the record now), so no change is lost to another
    message at the same time. A message to the shopper's open, started conversation goes
    straight to the journal; the rest (no conversation yet, a closed one, one just started, a
    customer the record does not name yet) takes ``Chats.current``, under the shopper's lock.
    """
    journal = chats.journal
    conversation = journal.known_latest(session.user_id)
    read = conversation is None
    if read:
        conversation = await journal.latest(session.user_id)
    while True:
        try:
            await _post_message(chats, session, frame, conversation)
            return
        except Stale as stale:
            conversation, read = stale.conversation, True
            if conversation is None or conversation.shopper_id != session.user_id:
                conversation = await journal.latest(session.user_id)
        except NotAllowed:
            if read:
                raise
            # Refused by the record as known here, which may be old: ask the store.
            conversation, read = await journal.latest(session.user_id), True


async def _post_message(
    chats: Chats, session: Session, frame: p.SendMessage, conversation: Conversation | None
) -> None:
    """:func:`send_message` with the shopper's newest ``conversation`` as known. Raises Stale."""
    if frame.conversation_id is not None:
        chats.check_own(conversation, frame.conversation_id)
    if conversation is not None and conversation.status == "closed":
        # A retry that arrives after its chat closed finds the original: no new conversation.
        original = await chats.journal.find(conversation.id, frame.client_id)
        if original is not None:
            chats.ack(session, conversation.id, frame.client_id, original)
            return
    if conversation is None or not chats.ready(session, conversation):
        conversation = await chats.current(session, frame.text)
    running = conversation.status == "queued" or (
        conversation.status == "assigned" and conversation.first_response_s is not None
    )
    changes = start_clock(conversation, chats.clock.now()) if running else {}
    changes["messages"] = conversation.messages + 1
    if conversation.status in ("bot", "queued"):
        changes |= chats.refined_language(conversation, frame.text)
    if not conversation.question:
        changes["question"] = frame.text[:300]  # what the queue's preview shows agents
    change = Change(conversation, changes)
    updated = change.after
    stored = await chats.journal.post(
        conversation.id,
        p.MessagePosted,
        change=change,
        checked=True,
        author="shopper",
        author_id=session.user_id,
        text=frame.text,
        client_id=frame.client_id,
        # While a person owes a reply, every message carries the clock's deadline (the console
        # shows the countdown from the latest event).
        deadline=updated.deadline(chats.target_s) if updated.clock_started is not None else None,
    )
    chats.ack(session, conversation.id, frame.client_id, stored)
    if "language" in changes and updated.status == "queued" and not stored.duplicate:
        await chats.assigner.relabel(updated)
    if not stored.duplicate and conversation.status in ("bot", "queued"):
        await chats.bot_reply(updated, frame.text, stored.seq)


async def typing(chats: Chats, session: Session, frame: p.Typing) -> None:
    conversation = await chats.own(session, frame.conversation_id)
    notice = p.TypingNotice(
        conversation_id=conversation.id, role=session.role, is_typing=frame.is_typing
    )
    await chats.journal.notify(conversation.id, notice)


async def mark_read(chats: Chats, session: Session, frame: p.MarkRead) -> None:
    conversation = await chats.own(session, frame.conversation_id)
    receipt = p.ReadReceipt(conversation_id=conversation.id, role=session.role, seq=frame.seq)
    await chats.journal.notify(conversation.id, receipt)


async def request_human(chats: Chats, session: Session, frame: p.RequestHuman) -> None:
    conversation = await chats.current(session)
    if conversation.status == "bot":
        await chats.assigner.enqueue(conversation, "handoff")


async def end_conversation(chats: Chats, session: Session, frame: p.EndConversation) -> None:
    await chats.close(await chats.own(session, None), "shopper", session.user_id)


async def rate(chats: Chats, session: Session, frame: p.Rate) -> None:
    conversation = await chats.journal.latest(session.user_id)
    if conversation is None or conversation.status != "closed":
        raise NotAllowed("a conversation can be rated once it has ended")
    await chats.journal.update(conversation, rating=frame.score, rating_comment=frame.comment)
    await chats.journal.post(
        conversation.id, p.RatingGiven, score=frame.score, comment=frame.comment
    )


async def rate_effort(chats: Chats, session: Session, frame: p.RateEffort) -> None:
    """The customer-effort answer, asked after the rating: stored on the record, once."""
    conversation = await chats.journal.latest(session.user_id)
    if conversation is None or conversation.status != "closed":
        raise NotAllowed("effort can be rated once the conversation has ended")
    if conversation.effort is not None:
        raise NotAllowed("the effort question is already answered")
    await chats.journal.post(
        conversation.id,
        p.EffortGiven,
        record=conversation.model_copy(update={"effort": frame.score}).fields("effort"),
        score=frame.score,
    )


async def bot_feedback(chats: Chats, session: Session, frame: p.BotFeedback) -> None:
    conversation = await chats.own(session, None)
    changes = feedback_given(conversation, frame.seq, frame.helpful)
    await chats.journal.post(
        conversation.id,
        p.BotFeedbackGiven,
        record=conversation.model_copy(update=changes).fields(*changes),
        answer_seq=frame.seq,
        helpful=frame.helpful,
    )


async def leave_email(chats: Chats, session: Session, frame: p.LeaveEmail) -> None:
    conversation = await chats.current(session)
    conversation = await chats.journal.update(conversation, email=frame.email)
    await chats.journal.post(conversation.id, p.EmailLeft, email=frame.email, name=frame.name)


async def set_locale(chats: Chats, session: Session, frame: p.SetLocale) -> None:
    """Speak the shopper's newly chosen language: in their open chat, the next one on this socket,
    and the availability (greeting, away text, back time) sent again in it. A pick of another
    language than the chat's is theirs to make: agents see it (``language_changed``) and a
    waiting chat waits for a speaker of it."""
    hello = chats.hellos.get(session) or p.Hello(version=p.PROTOCOL_VERSION)
    chats.hellos[session] = hello.model_copy(update={"locale": frame.locale})
    conversation = await chats.journal.latest(session.user_id)
    if conversation is not None and conversation.status != "closed":
        if language_key(frame.locale) == language_key(conversation.language):
            await chats.journal.update(conversation, locale=frame.locale)
        else:
            changes = {"locale": frame.locale, "language": frame.locale, "language_detected": True}
            picked = conversation.model_copy(update=changes)
            await chats.journal.post(
                conversation.id,
                p.LanguageChanged,
                record=picked.fields(*changes),
                language=frame.locale,
                by="shopper",
            )
            if picked.status == "queued":
                await chats.assigner.requeue_labelled(picked)
    availability = await chats.assigner.availability(frame.locale, hello.timezone)
    session.send(availability.model_dump_json())


Handler = Callable[[Chats, Session, Any], Awaitable[None]]

HANDLERS: dict[type[p.Frame], Handler] = {
    p.SendMessage: send_message,
    p.Typing: typing,
    p.MarkRead: mark_read,
    p.RequestHuman: request_human,
    p.EndConversation: end_conversation,
    p.Rate: rate,
    p.RateEffort: rate_effort,
    p.BotFeedback: bot_feedback,
    p.LeaveEmail: leave_email,
    p.ChooseOption: choose_option,
    p.SetLocale: set_locale,
}
