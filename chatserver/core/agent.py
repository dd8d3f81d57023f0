"""What an agent's frames do: one handler per frame type, in the table ``HANDLERS``."""

from __future__ import annotations

from chatserver.core.canned import load_canned
from chatserver.core.chats import Chats
from chatserver.core.journal import Change, Stale
from chatserver.core.sessions import Session
from chatserver.core.shopper import Handler, mark_read, typing
from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation, stop_clock, tone_counted
from chatserver.domain.errors import NotAllowed, NotFound


async def send_message(chats: Chats, session: Session, frame: p.SendMessage) -> None:
    """Store the reply; it stops the response clock and its time is measured; its tone is counted.

    The record is read at most once, as a shopper's message reads it (``Chats.own_known``)."""
    conversation = await chats.own_known(session, frame.conversation_id)
    while True:
        try:
            await _post_reply(chats, session, frame, conversation)
            return
        except Stale as stale:
            if stale.conversation is None:
                raise NotFound(f"no conversation {frame.conversation_id!r}") from None
            conversation = chats.check_agent(session, stale.conversation)


async def _post_reply(
    chats: Chats, session: Session, frame: p.SendMessage, conversation: Conversation
) -> None:
    """:func:`send_message` with the record as known. Raises Stale."""
    if conversation.status == "closed":
        raise NotAllowed(f"conversation {conversation.id} is closed")
    changes = stop_clock(conversation, chats.clock.now())
    changes["messages"] = conversation.messages + 1
    flagged = chats.tone_check(frame.text, conversation.locale)  # counted, never refused
    changes |= tone_counted(conversation, session.user_id, flagged)
    stored = await chats.journal.post(
        conversation.id,
        p.MessagePosted,
        change=Change(conversation, changes),
        checked=True,
        author="agent",
        author_id=session.user_id,
        author_name=session.name,
        text=frame.text,
        client_id=frame.client_id,
    )
    chats.ack(session, conversation.id, frame.client_id, stored)
    if not stored.duplicate and "response_times" in changes:
        chats.metrics.answered(changes["response_times"][-1], "first_response_s" in changes)


async def set_status(chats: Chats, session: Session, frame: p.SetStatus) -> None:
    await chats.assigner.set_status(session.user_id, frame.status, frame.capacity)


async def transfer(chats: Chats, session: Session, frame: p.Transfer) -> None:
    """Hand a chat to another agent who is online with room; the clock keeps running."""
    conversation = await chats.own(session, frame.conversation_id)
    if frame.to_agent == session.user_id:
        raise NotAllowed("a chat cannot be transferred to the agent who holds it")
    target = await chats.accounts.get(frame.to_agent)
    if target is None:
        raise NotFound(f"no agent {frame.to_agent!r}")
    if not await chats.assigner.transfer(conversation.id, session.user_id, target.id):
        raise NotAllowed(f"agent {target.id!r} is not online or has no room for another chat")
    conversation = await chats.journal.update(
        conversation, agent_id=target.id, agent_name=target.name
    )
    await chats.journal.post(
        conversation.id,
        p.ConversationTransferred,
        from_agent=session.user_id,
        agent_id=target.id,
        agent_name=target.name,
        deadline=conversation.deadline(chats.target_s),
    )
    await chats.assigner.handed_over(conversation.id, session, target.id)


async def close_conversation(chats: Chats, session: Session, frame: p.CloseConversation) -> None:
    conversation = await chats.own(session, frame.conversation_id)
    await chats.close(conversation, "agent", session.user_id)


async def add_note(chats: Chats, session: Session, frame: p.AddNote) -> None:
    """A private note, in the conversation's staff log that shoppers never follow."""
    conversation = await chats.own(session, frame.conversation_id)
    stored = await chats.journal.post(
        conversation.id,
        p.NoteAdded,
        log_id=p.staff_log(conversation.id),
        author_id=session.user_id,
        author_name=session.name,
        text=frame.text,
        client_id=frame.client_id,
    )
    chats.ack(session, conversation.id, frame.client_id, stored)


async def set_tags(chats: Chats, session: Session, frame: p.SetTags) -> None:
    conversation = await chats.own(session, frame.conversation_id)
    tags = list(dict.fromkeys(tag.strip().lower() for tag in frame.tags if tag.strip()))
    await chats.journal.update(conversation, tags=tags)
    await chats.journal.post(
        conversation.id,
        p.TagsChanged,
        log_id=p.staff_log(conversation.id),
        by_id=session.user_id,
        tags=tags,
    )


async def list_canned(chats: Chats, session: Session, frame: p.ListCanned) -> None:
    replies = chats.canned
    if replies is None:
        replies = load_canned(chats.settings.faq_dir / "canned.toml")
    session.send(p.CannedReplies(replies=replies).model_dump_json())


async def list_agents(chats: Chats, session: Session, frame: p.ListAgents) -> None:
    session.send((await chats.assigner.agent_list()).model_dump_json())


async def pick_conversation(chats: Chats, session: Session, frame: p.PickConversation) -> None:
    """An agent with a free seat takes a waiting conversation out of turn."""
    conversation = await chats.journal.get(frame.conversation_id)
    if conversation.status != "queued":
        raise NotAllowed(f"conversation {conversation.id} is not waiting in the queue")
    if not await chats.assigner.pick(conversation.id, session.user_id):
        raise NotAllowed(
            f"conversation {conversation.id} was taken, or you are not online with a free seat"
        )


async def get_history(chats: Chats, session: Session, frame: p.GetHistory) -> None:
    conversation = await chats.own(session, frame.conversation_id)
    session.send((await chats.journal.earlier(conversation)).model_dump_json())


HANDLERS: dict[type[p.Frame], Handler] = {
    p.SendMessage: send_message,
    p.Typing: typing,
    p.MarkRead: mark_read,
    p.SetStatus: set_status,
    p.Transfer: transfer,
    p.CloseConversation: close_conversation,
    p.AddNote: add_note,
    p.SetTags: set_tags,
    p.ListCanned: list_canned,
    p.ListAgents: list_agents,
    p.GetHistory: get_history,
    p.PickConversation: pick_conversation,
}
