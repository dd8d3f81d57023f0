"""Past conversations: indexed for search when they end or change, found, and read back whole.

A conversation's search document is its shopper's and agents' messages, the e-mail address and
name left, its tags and its agent's name (``search_words`` of them). It is written again when the
conversation closes, when an address is left, when its tags change and when the inbox answers it,
so it is findable from its end on; ``reindex`` rebuilds any conversation from its log.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from pydantic import BaseModel

from chatserver.core.journal import Journal
from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation
from chatserver.domain.errors import NotFound
from chatserver.store.ports import Search, search_words

_INDEXED_ON: tuple[type[p.Event], ...] = (
    p.ConversationClosed,
    p.EmailLeft,
    p.TagsChanged,
    p.CustomerIdentified,
)


class Found(BaseModel):
    """One conversation in a list of search results."""

    conversation_id: str
    created_at: float
    closed_at: float | None
    status: p.ConversationStatus
    agent_name: str
    email: str | None
    name: str
    tags: list[str]
    rating: int | None
    preview: str


class ConversationView(BaseModel):
    """A past conversation, read-only: the record's facts, its events and its staff notes."""

    found: Found
    rating_comment: str
    events: list[p.ServerFrame]
    notes: list[p.ServerFrame]


class History:
    """The search index of conversations, and reading them back for agents."""

    def __init__(self, journal: Journal, search: Search) -> None:
        self.journal = journal
        self.search = search

    def watch(self) -> None:
        """Re-index a conversation whenever one of the events that change its document is stored."""
        for kind in _INDEXED_ON:
            self.journal.watch(kind, self._changed)

    async def _changed(self, conversation_id: str, at: float) -> None:
        await self.reindex(conversation_id)

    async def reindex(self, conversation_id: str) -> None:
        """Write a conversation's search document again, from its record and log."""
        conversation = await self.journal.get(conversation_id)
        logs = await self.journal.store.log.read_many([conversation_id])
        parts = [conversation.email or "", conversation.agent_name, " ".join(conversation.tags)]
        parts += [conversation.customer_name, conversation.customer_email]
        for text in logs[conversation_id]:
            event = orjson.loads(text)
            if event["type"] == "message_posted" and event["author"] != "bot":
                parts.append(event["text"])
            elif event["type"] == "email_left":
                parts += [event["email"], event["name"]]
        await self.search.index(
            conversation.id, conversation.created_at, search_words(" ".join(parts))
        )

    async def find(self, query: str, since: float, until: float, limit: int = 50) -> list[Found]:
        """Conversations holding every word of ``query``, created in ``[since, until)``, newest first."""
        ids = await self.search.find(search_words(query), since, until, limit)
        return await self.found(ids)

    async def found(self, ids: Sequence[str]) -> list[Found]:
        """Summaries of these conversations, in this order (ids without a record are left out)."""
        logs = await self.journal.store.log.read_many(ids)
        summaries = []
        for conversation_id in ids:
            try:
                conversation = await self.journal.get(conversation_id)
            except NotFound:
                continue
            summaries.append(_found(conversation, logs[conversation_id]))
        return summaries

    async def view(self, conversation_id: str) -> ConversationView:
        """A conversation whole, for reading. Raises NotFound."""
        conversation = await self.journal.get(conversation_id)
        log = self.journal.store.log
        events = [text for _, text in await log.read(conversation_id)]
        notes = [text for _, text in await log.read(p.staff_log(conversation_id))]
        return ConversationView(
            found=_found(conversation, events),
            rating_comment=conversation.rating_comment,
            events=[p.server_frame.validate_json(text) for text in events],
            notes=[p.server_frame.validate_json(text) for text in notes],
        )


def _found(conversation: Conversation, events: Sequence[str]) -> Found:
    name, preview = conversation.customer_name, ""
    for text in events:
        event = orjson.loads(text)
        if event["type"] == "email_left":
            name = event["name"] or name
        elif not preview and event["type"] == "message_posted" and event["author"] == "shopper":
            preview = event["text"][:200]
    return Found(
        conversation_id=conversation.id,
        created_at=conversation.created_at,
        closed_at=conversation.closed_at,
        status=conversation.status,
        agent_name=conversation.agent_name,
        email=conversation.email or conversation.customer_email or None,
        name=name,
        tags=conversation.tags,
        rating=conversation.rating,
        preview=preview,
    )
