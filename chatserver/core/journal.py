"""The journal: conversation records, and events stored then published (never the reverse)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from chatserver.core.fanout import conversation_channel
from chatserver.domain import protocol as p
from chatserver.domain.clock import Clock
from chatserver.domain.conversation import Conversation, record_of
from chatserver.domain.errors import NotFound, Unavailable
from chatserver.store.base import Store
from chatserver.store.ports import Appended, RecordChanged, StoreUnavailable

T = TypeVar("T")

Watcher = Callable[[str, float], Awaitable[None]]
"""Called with a conversation's id and the event's time after an event of a watched kind is
stored and published."""

log = logging.getLogger("chatserver.journal")

PARSED_KEPT = 4096
"""How many parsed records the journal keeps (the most recently read or written)."""


class Change:
    """Changes to a record as read: the record after them, and the fields to store."""

    __slots__ = ("after", "before", "record")

    def __init__(self, before: Conversation, changes: Mapping[str, Any]) -> None:
        self.before = before
        self.after = before.updated(changes)
        self.record = record_of(changes)


class Stale(Exception):
    """A checked post found the record changed since it was read: nothing was stored.
    ``conversation`` is the record now (kept by the journal), None if it is gone."""

    def __init__(self, conversation: Conversation | None) -> None:
        super().__init__("the record changed")
        self.conversation = conversation


class Journal:
    """Reads and writes conversations in the store, with the server's clock."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._watchers: dict[type[p.Event], list[Watcher]] = {}
        # Records as last parsed: the store's fields then, the Conversation built from them, and
        # their revision when the store keeps one (Redis) and the journal knows it. A read uses
        # the parsed one only when the store returns exactly those fields again, so a change by
        # anyone else (another worker on Redis) is always seen; a checked post sends the
        # revision, so a record used without reading it is one the store still has. Another
        # worker's stored change relayed here moves a kept record on to its next revision; the
        # Conversation (None) is then parsed when next used.
        self._parsed: dict[str, tuple[dict[str, str], Conversation | None, int | None]] = {}
        self._latest_of: dict[str, str] = {}  # shopper -> their newest conversation, as last read
        store.bus.on_stored(self._relayed)

    def watch(self, kind: type[p.Event], watcher: Watcher) -> None:
        """Call ``watcher`` after every new event of this kind (the inbox and the search index)."""
        self._watchers.setdefault(kind, []).append(watcher)

    async def post(
        self,
        conversation_id: str,
        kind: type[p.Event],
        *,
        log_id: str | None = None,
        record: Mapping[str, str] | None = None,
        change: Change | None = None,
        checked: bool = False,
        **fields: Any,
    ) -> Appended:
        """Store an event (seq and server time assigned), then publish it to every follower.

        An event with a ``client_id`` already in the log is not stored again: the original returns.
        ``log_id`` stores it in another log of the conversation (its agent-only staff log);
        ``record`` holds record fields stored in the same write as a new event, or ``change``
        does (then the journal keeps the record after it, parsed). ``checked``: store it only if
        the record is still ``change.before`` (by its revision, where the store keeps one), else
        raise :class:`Stale` with the record now (at once when the kept record is another).
        """
        log_id = log_id or conversation_id
        ts = self.clock.now()
        client_id: str | None = fields.get("client_id")
        expected_rev = None
        if change is not None:
            record = change.record
            known = self._parsed.get(conversation_id)
            if checked and known is not None and known[2] is not None:
                if known[1] is not change.before:
                    # Made from a record that is no longer the kept one: no need to ask the store.
                    raise Stale(self._conversation(conversation_id, known))
                expected_rev = known[2]

        def render(seq: int) -> str:
            return p.encode_frame(kind, conversation_id=conversation_id, seq=seq, ts=ts, **fields)

        try:
            appended = await self.store.log.append_published(
                log_id,
                render,
                client_id,
                record,
                self.store.bus,
                conversation_channel(log_id),
                expected_rev,
            )
        except RecordChanged as changed:
            if changed.fields is None:
                self._parsed.pop(conversation_id, None)
                raise Stale(None) from None
            raise Stale(self.parsed(conversation_id, changed.fields, changed.rev)) from None
        except StoreUnavailable as exc:
            raise Unavailable(_UNAVAILABLE) from exc
        if change is not None and not appended.duplicate:
            self._changed(conversation_id, change, appended.rev)
        elif record and not appended.duplicate:
            self._unrevised(conversation_id)
        if not appended.duplicate:
            for watcher in self._watchers.get(kind, ()):
                try:
                    await watcher(conversation_id, ts)
                except Exception:
                    # The event is stored and sent; what watches it can be rebuilt from the log.
                    log.exception("after %s in %s", kind.__name__, conversation_id)
        return appended

    async def find(self, conversation_id: str, client_id: str) -> Appended | None:
        """The event a ``client_id`` was stored as in this conversation, if it was."""
        return await stored(self.store.log.find(conversation_id, client_id))

    async def resume_point(self, log_id: str, claimed: int) -> int:
        """Where a client that says it has a log up to ``claimed`` resumes: there, or at the
        log's last event when the claim is beyond the log's end (else it would wait forever)."""
        if claimed == 0:
            return 0
        if await stored(self.store.log.read(log_id, claimed - 1)):
            return claimed
        rows = await stored(self.store.log.read(log_id, 0))
        return rows[-1][0] if rows else 0

    async def notify(self, conversation_id: str, frame: p.Frame) -> None:
        """Publish a live notice (not stored, never replayed) to a conversation's followers."""
        await self.store.bus.publish(conversation_channel(conversation_id), p.encode(frame))

    async def put_file(self, key: str, data: bytes, content_type: str) -> None:
        """Store an attachment's bytes (before the event that shows it)."""
        await stored(self.store.files.put(key, data, content_type))

    async def get_file(self, key: str) -> bytes | None:
        """An attachment's bytes, or None."""
        return await stored(self.store.files.get(key))

    async def drop_file(self, key: str) -> None:
        """Remove an attachment no event shows (a retried upload)."""
        await stored(self.store.files.delete(key))

    async def open_or_create(self, conversation: Conversation) -> Conversation:
        """The shopper's open conversation, or this new one, created: of two workers starting
        one for the same shopper at once, one creates it and the other gets it."""
        found = await stored(
            self.store.records.open_or_create(
                conversation.id, conversation.shopper_id, conversation.fields()
            )
        )
        self._note_latest(conversation.shopper_id, found)
        return conversation if found == conversation.id else await self.get(found)

    async def update(self, conversation: Conversation, **changes: Any) -> Conversation:
        """Store some fields of a record; returns the record with them."""
        change = Change(conversation, changes)
        await stored(self.store.records.update(conversation.id, change.record))
        self._changed(conversation.id, change, None)
        return change.after

    def _changed(self, conversation_id: str, change: Change, rev: int | None) -> None:
        """Keep the record after a change stored (at revision ``rev``), parsed, if it was
        changed from the one kept (else the next read parses what the store has)."""
        known = self._parsed.get(conversation_id)
        if known is None:
            return
        if known[1] is not change.before:
            self._unrevised(conversation_id)
            return
        # Each write of fields raises the revision by one: only the next one is this change alone.
        step = 1 if change.record else 0
        after_rev = rev if known[2] is not None and rev == known[2] + step else None
        self._parsed[conversation_id] = (known[0] | change.record, change.after, after_rev)

    def _relayed(self, channel: str, seq: int, rev: int | None, fields: dict[str, str]) -> None:
        """Another worker stored an event on ``channel`` that set ``fields`` and raised the
        record to ``rev``: a kept record one revision before moves on to it."""
        if rev is None:
            return
        conversation_id = channel.removeprefix(conversation_channel(""))
        known = self._parsed.get(conversation_id)
        if known is not None and known[2] is not None and known[2] + 1 == rev:
            self._parsed[conversation_id] = (known[0] | fields, None, rev)

    def _conversation(
        self,
        conversation_id: str,
        known: tuple[dict[str, str], Conversation | None, int | None],
    ) -> Conversation:
        """The kept record's Conversation, parsed now if it was not yet."""
        if known[1] is not None:
            return known[1]
        conversation = Conversation.from_fields(known[0])
        self._parsed[conversation_id] = (known[0], conversation, known[2])
        return conversation

    def _unrevised(self, conversation_id: str) -> None:
        """The kept record may not be the store's: used again only once read again."""
        known = self._parsed.get(conversation_id)
        if known is not None and known[2] is not None:
            self._parsed[conversation_id] = (known[0], known[1], None)

    def known(self, conversation_id: str) -> Conversation | None:
        """The record as this worker last read or wrote it, if its revision is known (a checked
        post of a change made from it is stored only if the store still has it); else None."""
        known = self._parsed.get(conversation_id)
        if known is None or known[2] is None:
            return None
        return self._conversation(conversation_id, known)

    def known_latest(self, shopper_id: str) -> Conversation | None:
        """:meth:`known` for the shopper's newest conversation as last read here."""
        conversation_id = self._latest_of.get(shopper_id)
        conversation = None if conversation_id is None else self.known(conversation_id)
        return conversation if conversation and conversation.shopper_id == shopper_id else None

    async def move(self, conversation: Conversation, shopper_id: str) -> Conversation:
        """Give a conversation to another shopper (an anonymous one who logged in)."""
        await stored(self.store.records.move(conversation.id, conversation.shopper_id, shopper_id))
        return conversation.model_copy(update={"shopper_id": shopper_id})

    async def get(self, conversation_id: str) -> Conversation:
        """A conversation's record. Raises NotFound."""
        fields, rev = await self.store.records.get_revised(conversation_id)
        if fields is None:
            raise NotFound(f"no conversation {conversation_id!r}")
        return self.parsed(conversation_id, fields, rev)

    def parsed(
        self, conversation_id: str, fields: dict[str, str], rev: int | None = None
    ) -> Conversation:
        """The record the store returned as ``fields`` (at revision ``rev``, if known): parsed
        again only if they changed."""
        parsed = self._parsed
        known = parsed.pop(conversation_id, None)
        if known is not None and known[0] == fields:
            parsed[conversation_id] = (known[0], known[1], rev)  # now the most recent
            return self._conversation(conversation_id, parsed[conversation_id])
        conversation = Conversation.from_fields(fields)
        if len(parsed) >= PARSED_KEPT:
            del parsed[next(iter(parsed))]
        # A copy: the store may hand out a dict it changes later.
        parsed[conversation_id] = (dict(fields), conversation, rev)
        return conversation

    async def latest(self, shopper_id: str) -> Conversation | None:
        """A shopper's newest conversation, open or closed."""
        found = await self.store.records.latest_revised(shopper_id)
        if found is None:
            return None
        conversation_id, fields, rev = found
        if fields is None:
            raise NotFound(f"no conversation {conversation_id!r}")
        self._note_latest(shopper_id, conversation_id)
        return self.parsed(conversation_id, fields, rev)

    def _note_latest(self, shopper_id: str, conversation_id: str) -> None:
        latest_of = self._latest_of
        latest_of.pop(shopper_id, None)
        if len(latest_of) >= PARSED_KEPT:
            del latest_of[next(iter(latest_of))]
        latest_of[shopper_id] = conversation_id

    async def earlier(self, conversation: Conversation, limit: int = 20) -> p.ConversationHistory:
        """The other conversations of this conversation's shopper, newest first."""
        ids = await self.store.records.of_shopper(conversation.shopper_id)
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


_UNAVAILABLE = "the message store is temporarily unavailable; send again"


async def stored(write: Awaitable[T]) -> T:
    """Await a store write; a store that cannot be reached becomes an ``unavailable`` error."""
    try:
        return await write
    except StoreUnavailable as exc:
        raise Unavailable(_UNAVAILABLE) from exc
