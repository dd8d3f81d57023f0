"""The bus: events and control signals to this worker's listeners and, through a relay, to others.

Written once for every adapter, in the shape of encode/broadcaster: the bus keeps the channels
this worker follows and calls its listeners; an adapter's :class:`~chatserver.store.ports.Relay`
only carries payloads between workers (none on the embedded store: one process).

Two paths that never mix: *events* (``publish``) carry a conversation's stored events and live
notices to the sessions following it; *signals* (``signal``) tell a worker to do something, such as
an agent's sockets following a conversation they were just given.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping

import orjson

from chatserver.store.ports import Relay

log = logging.getLogger("chatserver.store.bus")

EventListener = Callable[[str, "int | None", str], None]
"""Receives ``(channel, seq, text)``; ``seq`` is None for a live notice that is not stored."""

SignalListener = Callable[[str, str], None]
"""Receives ``(topic, message)``."""

StoredListener = Callable[[str, int, "int | None", dict[str, str]], None]
"""Receives ``(channel, seq, revision, fields)`` for an event another worker stored on
``channel`` and relayed in the same write: the record fields it set (name -> JSON text) and the
record's revision after them (None when it set none)."""

ResumeListener = Callable[[], None]
"""Called when the relay is back after a loss: events published meanwhile were missed."""

_EVENT, _SIGNAL = "e:", "s:"


class Bus:
    """Delivers what is published on followed channels to this worker's listeners.

    Args:
        relay: carries payloads between workers; None when this process is the only one.
    """

    def __init__(self, relay: Relay | None = None) -> None:
        self._relay = relay
        self._worker = uuid.uuid4().hex[:12]
        self._followed: set[str] = set()
        self._on_event: EventListener | None = None
        self._on_signal: SignalListener | None = None
        self._on_resume: ResumeListener | None = None
        self._on_stored: list[StoredListener] = []
        self._subscribing: dict[str, asyncio.Future[None]] = {}
        self._topic_listeners: dict[str, SignalListener] = {}

    def set_listeners(
        self,
        on_event: EventListener,
        on_signal: SignalListener,
        on_resume: ResumeListener | None = None,
    ) -> None:
        """Where events and signals for this worker go, and who hears that the relay is back."""
        self._on_event, self._on_signal, self._on_resume = on_event, on_signal, on_resume

    def on_stored(self, listener: StoredListener) -> None:
        """Also tell ``listener`` of each stored event relayed from another worker (before the
        event listener gets it): the journal keeps records, a log its sequence numbers."""
        self._on_stored.append(listener)

    def on_topic(self, topic: str, listener: SignalListener) -> None:
        """Signals on ``topic`` go to ``listener`` instead of the general signal listener."""
        self._topic_listeners[topic] = listener

    async def start(self) -> None:
        if self._relay is not None:
            await self._relay.start(self._relayed, self._resumed)

    def _resumed(self) -> None:
        if self._on_resume is not None:
            try:
                self._on_resume()
            except Exception:
                log.exception("resume listener failed")

    async def close(self) -> None:
        if self._relay is not None:
            await self._relay.close()

    async def follow(self, channel: str) -> None:
        """Receive a channel's events; returns once no later publish can be missed."""
        await self._add(_EVENT + channel)

    async def unfollow(self, channel: str) -> None:
        await self._remove(_EVENT + channel)

    async def watch(self, topic: str) -> None:
        """Receive a topic's signals."""
        await self._add(_SIGNAL + topic)

    async def unwatch(self, topic: str) -> None:
        await self._remove(_SIGNAL + topic)

    @property
    def relay(self) -> Relay | None:
        """What carries payloads to other workers (None: this process is the only one)."""
        return self._relay

    async def publish(self, channel: str, text: str, seq: int | None = None) -> None:
        """An event to every worker following ``channel``; this worker's listener gets it first,
        in the order it was stored."""
        self.deliver_here(channel, text, seq)
        if self._relay is not None:  # else no payload to make: nobody else to carry it to
            await self._send(_EVENT + channel, f"{'' if seq is None else seq}:{text}")

    def relayed_as(
        self, channel: str, fields: Mapping[str, str] | None = None
    ) -> tuple[str, str, str]:
        """How a stored event on ``channel`` travels when the store relays it in the same write
        as the append (then calls :meth:`deliver_here`; :meth:`publish` does both in two steps):
        the relay channel, the payload's head and its tail. The payload is
        ``head + f"{seq}" + tail + text`` when the write sets no record fields, else
        ``head + f"{seq}/{revision}" + tail + text`` (``tail`` then carries ``fields``, which
        other workers' :meth:`on_stored` listeners get with the record's new revision)."""
        tail = ":"
        if fields:
            record = orjson.dumps(dict(fields)).decode()
            tail = f"/{len(record)}:{record}"
        return _EVENT + channel, f"{self._worker}:", tail

    def deliver_here(self, channel: str, text: str, seq: int | None = None) -> None:
        """An event to this worker's listener, if it follows ``channel`` (not relayed)."""
        if _EVENT + channel in self._followed:
            self._deliver_event(channel, seq, text)

    async def signal(self, topic: str, message: str) -> None:
        """A control message to every worker watching ``topic``."""
        key = _SIGNAL + topic
        if key in self._followed:
            self._deliver_signal(topic, message)
        await self._send(key, message)

    async def _add(self, key: str) -> None:
        # A second caller while the first waits for the subscription waits too: it returns
        # only once no later publish can be missed.
        if key in self._followed:
            pending = self._subscribing.get(key)
            if pending is not None:
                await asyncio.shield(pending)
            return
        self._followed.add(key)
        if self._relay is None:
            return
        pending = self._subscribing[key] = asyncio.get_running_loop().create_future()
        try:
            await self._relay.subscribe(key)
        finally:
            pending.set_result(None)
            if self._subscribing.get(key) is pending:
                del self._subscribing[key]

    async def _remove(self, key: str) -> None:
        if key not in self._followed:
            return
        self._followed.discard(key)
        if self._relay is not None:
            await self._relay.unsubscribe(key)

    async def _send(self, key: str, body: str) -> None:
        if self._relay is not None:
            await self._relay.publish(key, f"{self._worker}:{body}")

    def _relayed(self, key: str, payload: str) -> None:
        """A payload from the relay: skip our own echo and channels we no longer follow."""
        worker, _, body = payload.partition(":")
        if worker == self._worker or key not in self._followed:
            return
        if key.startswith(_EVENT):
            try:
                self._relayed_event(key.removeprefix(_EVENT), body)
            except ValueError:  # orjson's decode error is one too
                # From a worker that writes another payload (another version, mid-upgrade): this
                # event is skipped here, not the relay (followers read it from the log on the next).
                log.warning("skipped an unreadable relayed event on %s: %.80r", key, body)
        else:
            self._deliver_signal(key.removeprefix(_SIGNAL), body)

    def _relayed_event(self, channel: str, body: str) -> None:
        """``seq:text``, or ``seq/revision/length:fields text`` (see :meth:`relayed_as`)."""
        head, _, text = body.partition(":")
        digits, _, record = head.partition("/")
        seq = int(digits) if digits else None
        rev, fields = None, {}
        if record:
            revision, _, length = record.partition("/")
            size = int(length)
            rev, fields, text = int(revision), orjson.loads(text[:size]), text[size:]
        if seq is not None:
            for listener in self._on_stored:
                try:
                    listener(channel, seq, rev, fields)
                except Exception:
                    log.exception("stored-event listener failed on %s", _EVENT + channel)
        self._deliver_event(channel, seq, text)

    def _deliver_event(self, channel: str, seq: int | None, text: str) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(channel, seq, text)
        except Exception:
            log.exception("listener failed on %s", _EVENT + channel)

    def _deliver_signal(self, topic: str, message: str) -> None:
        listener = self._topic_listeners.get(topic, self._on_signal)
        if listener is None:
            return
        try:
            listener(topic, message)
        except Exception:
            log.exception("listener failed on %s", _SIGNAL + topic)
