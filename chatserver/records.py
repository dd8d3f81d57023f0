"""Conversations in the store: their records, and events stored then published (never the reverse)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from chatserver import protocol as p
from chatserver.backends.base import Appended, Backend, BackendUnavailable
from chatserver.clock import Clock
from chatserver.conversation import Conversation
from chatserver.errors import NotFound, Unavailable
from chatserver.fanout import conversation_channel

T = TypeVar("T")


class Conversations:
    """Reads and writes conversations through the backend, with the server's clock."""

    def __init__(self, backend: Backend, clock: Clock) -> None:
        self.backend = backend
        self.clock = clock

    async def post(
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
        ``record`` holds record fields stored in the same write as a new event.
        """
        log_id = log_id or conversation_id
        ts = self.clock.now()
        client_id: str | None = fields.get("client_id")

        def render(seq: int) -> str:
            return kind(conversation_id=conversation_id, seq=seq, ts=ts, **fields).model_dump_json()

        appended = await stored(self.backend.append(log_id, render, client_id, record))
        if not appended.duplicate:
            await self.backend.publish(conversation_channel(log_id), appended.text, appended.seq)
        return appended

    async def notify(self, conversation_id: str, frame: p.Frame) -> None:
        """Publish a live notice (not stored, never replayed) to a conversation's followers."""
        await self.backend.publish(conversation_channel(conversation_id), frame.model_dump_json())

    async def create(self, conversation: Conversation) -> None:
        await stored(
            self.backend.create_conversation(
                conversation.id, conversation.shopper_id, conversation.fields()
            )
        )

    async def update(self, conversation: Conversation, **changes: Any) -> Conversation:
        """Store some fields of a record; returns the record with them."""
        updated = conversation.model_copy(update=changes)
        await stored(self.backend.update_conversation(conversation.id, updated.fields(*changes)))
        return updated

    async def get(self, conversation_id: str) -> Conversation:
        """A conversation's record. Raises NotFound."""
        fields = await self.backend.get_conversation(conversation_id)
        if fields is None:
            raise NotFound(f"no conversation {conversation_id!r}")
        return Conversation.from_fields(fields)

    async def latest(self, shopper_id: str) -> Conversation | None:
        """A shopper's newest conversation, open or closed."""
        ids = await self.backend.shopper_conversations(shopper_id)
        return await self.get(ids[-1]) if ids else None

    async def earlier(self, conversation: Conversation, limit: int = 20) -> p.ConversationHistory:
        """The other conversations of this conversation's shopper, newest first."""
        ids = await self.backend.shopper_conversations(conversation.shopper_id)
        past = []
        for earlier_id in reversed([i for i in ids if i != conversation.id][-limit:]):
            earlier = await self.get(earlier_id)
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
        return p.ConversationHistory(conversation_id=conversation.id, conversations=past)


async def stored(write: Awaitable[T]) -> T:
    """Await a backend write; a store that cannot be reached becomes an ``unavailable`` error."""
    try:
        return await write
    except BackendUnavailable as exc:
        raise Unavailable("the message store is temporarily unavailable; send again") from exc
