"""Attachments: who may attach and read a conversation's files, and the event that shows one.

A file is stored first, then announced by a ``file_attached`` event in the conversation's log,
so both sides see it live and on reload; its bytes are served only to that conversation's
shopper and to staff. Sizes are enforced while the body arrives (in ``web/files_api.py``); the
type is told from the content here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from chatserver.core.auth import Accounts, Tokens
from chatserver.core.journal import Journal
from chatserver.core.metrics import Metrics
from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation, start_clock, stop_clock
from chatserver.domain.errors import NotAllowed, NotFound, NotYourConversation, Unauthorized
from chatserver.domain.files import SNIFF_BYTES, check_file, safe_name, sniff
from chatserver.domain.settings import Settings

_FILE_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a shopper (by their token) or an agent (by their session)."""

    role: Literal["shopper", "agent"]
    id: str
    name: str = ""


@dataclass(frozen=True)
class StoredFile:
    """An attachment's bytes and the type its content shows."""

    data: bytes
    content_type: str | None


def file_url(conversation_id: str, file_id: str, name: str) -> str:
    """Where a file is served, relative to the server."""
    return f"/api/conversations/{conversation_id}/files/{file_id}/{quote(name)}"


class Attachments:
    """Checks callers, stores files and posts the events that show them."""

    def __init__(
        self,
        settings: Settings,
        journal: Journal,
        tokens: Tokens,
        accounts: Accounts,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.tokens = tokens
        self.accounts = accounts
        self.metrics = metrics

    async def caller(self, token: str) -> Caller:
        """The shopper or agent a token names. Raises Unauthorized."""
        if not token:
            raise Unauthorized("send the shopper token or the agent's session token as a Bearer")
        try:
            return Caller("shopper", self.tokens.shopper_id(token))
        except Unauthorized:
            pass
        agent_id = self.tokens.session_agent(token)
        account = await self.accounts.get(agent_id)
        if account is None:
            raise Unauthorized(f"agent {agent_id!r} no longer exists")
        return Caller("agent", account.id, account.name)

    async def conversation(self, caller: Caller, conversation_id: str) -> Conversation:
        """The conversation, if this caller may see it (its shopper, or any staff).

        Raises NotYourConversation (another shopper's, or none: shoppers learn nothing of
        others' ids) or NotFound (staff)."""
        try:
            conversation = await self.journal.get(conversation_id)
        except NotFound:
            if caller.role == "shopper":
                raise NotYourConversation("this is not your conversation") from None
            raise
        if caller.role == "shopper" and conversation.shopper_id != caller.id:
            raise NotYourConversation("this is not your conversation")
        return conversation

    async def attach(
        self,
        caller: Caller,
        conversation_id: str,
        name: str,
        data: bytes,
        client_id: str | None = None,
    ) -> str:
        """Store a file and post its event; returns the event's JSON text.

        Raises FileRefused (type, size), NotAllowed (closed, or not the agent's chat) and the
        errors of :meth:`conversation`. A retried ``client_id`` returns the original event.
        """
        conversation = await self.conversation(caller, conversation_id)
        if conversation.status == "closed":
            raise NotAllowed("this conversation has ended; start a new one to attach files")
        if caller.role == "agent" and conversation.agent_id != caller.id:
            raise NotAllowed("only the agent holding this chat can attach files to it")
        settings = self.settings
        content_type = check_file(
            data[:SNIFF_BYTES], len(data), settings.file_types, settings.max_file_bytes
        )
        file_id = uuid.uuid4().hex
        name = safe_name(name, content_type)
        key = f"{conversation_id}/{file_id}"
        await self.journal.put_file(key, data, content_type)
        changes = self._clock(caller, conversation)
        updated = conversation.model_copy(update=changes)
        appended = await self.journal.post(
            conversation_id,
            p.FileAttached,
            record=updated.fields(*changes),
            author=caller.role,
            author_id=caller.id,
            author_name=caller.name,
            file_id=file_id,
            name=name,
            content_type=content_type,
            size=len(data),
            url=file_url(conversation_id, file_id, name),
            client_id=client_id,
            deadline=updated.deadline(settings.response_target_s),
        )
        if appended.duplicate:
            await self.journal.drop_file(key)
        elif "response_times" in changes:
            self.metrics.answered(changes["response_times"][-1], "first_response_s" in changes)
        return appended.text

    def _clock(self, caller: Caller, conversation: Conversation) -> dict[str, Any]:
        """A file counts as a message: the shopper's starts the response clock where a message
        would, the agent's stops it (and is measured)."""
        now = self.journal.clock.now()
        if caller.role == "agent":
            changes = stop_clock(conversation, now)
        else:
            running = conversation.status == "queued" or (
                conversation.status == "assigned" and conversation.first_response_s is not None
            )
            changes = start_clock(conversation, now) if running else {}
        return changes | {"messages": conversation.messages + 1}

    async def read(self, caller: Caller, conversation_id: str, file_id: str) -> StoredFile:
        """A file of a conversation this caller may see. Raises NotFound and as above."""
        await self.conversation(caller, conversation_id)
        if not _FILE_ID.fullmatch(file_id):
            raise NotFound("no such file")
        data = await self.journal.get_file(f"{conversation_id}/{file_id}")
        if data is None:
            raise NotFound("no such file")
        return StoredFile(data, sniff(data[:SNIFF_BYTES]))
