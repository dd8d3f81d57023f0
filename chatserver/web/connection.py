"""One socket: read and validate frames, hand them to the hub, write what the hub sends.

This is the only module that touches a WebSocket, and the one place where a ``ChatError``
becomes an ``error`` frame. Sockets are served on raw ASGI (no framework wrapper) by one task
each, the server's own: it reads; the frames ``Session.send`` gives a socket in one pass of the
event loop are written together once the pass has run, in one transport write (``web/wire.py``)
while the transport takes them, and queued (bounded) only while it does not. The watchdogs of
all sockets share one task (``guard.Patrol``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from chatserver.core.hub import Hub
from chatserver.core.sessions import Outbox, Session
from chatserver.domain import protocol as p
from chatserver.domain.errors import (
    ChatError,
    FrameTooLarge,
    InvalidFrame,
    Overloaded,
    RateLimited,
    TooManySockets,
    Unauthorized,
    Unavailable,
)
from chatserver.store.ports import StoreUnavailable
from chatserver.web import wire
from chatserver.web.guard import AddressCap, Patrol, Watchdog

log = logging.getLogger("chatserver.web.connection")

CLOSE_TOO_SLOW = 1013
CLOSE_INTERNAL = 1011
AGENT_FRAMES_IN_FLIGHT = 8  # an agent socket's frames being handled at once, at most
# An agent's frames handled side by side with others (ordered per conversation): the hot path,
# each waiting for its own commit. Any other frame waits for these and runs alone.
_PIPELINED: tuple[type, ...] = (p.SendMessage, p.Typing, p.MarkRead)


class _NoTracebackForBadUtf8(logging.Filter):
    """uvicorn closes a socket that sends invalid UTF-8 with 1007 (right), but logs a traceback
    for it: a client's mistake, not ours. Keep one warning line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Invalid UTF-8 sequence"):
            record.exc_info, record.exc_text, record.levelno = None, None, logging.WARNING
            record.levelname = "WARNING"
        return True


def quiet_client_mistakes() -> None:
    """Install the filter on uvicorn's logger (once per process)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _NoTracebackForBadUtf8) for f in logger.filters):
        logger.addFilter(_NoTracebackForBadUtf8())


class TokenBucket:
    """Allows ``rate`` frames per second with bursts of ``burst``."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def parse_frame(adapter: TypeAdapter[Any], raw: str, max_bytes: int) -> Any:
    """Validate one client frame. Raises FrameTooLarge or InvalidFrame saying what is wrong."""
    size = len(raw.encode())
    if size > max_bytes:
        raise FrameTooLarge(f"frame is {size} bytes; the limit is {max_bytes}")
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        raise InvalidFrame(describe(exc)) from exc


def describe(exc: ValidationError) -> str:
    """A short, human message for what made a frame invalid."""
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        kind, loc = error["type"], [str(x) for x in error["loc"]]
        if kind == "json_invalid":
            parts.append(f"frame is not valid JSON ({error['ctx'].get('error', 'parse error')})")
        elif kind == "union_tag_invalid":
            parts.append(
                f"unknown frame type {error['ctx']['tag']!r}; expected one of {error['ctx']['expected_tags']}"
            )
        elif kind == "union_tag_not_found":
            parts.append("frame has no 'type' field")
        elif not loc:
            parts.append(f"frame must be a JSON object ({error['msg']})")
        else:
            field = ".".join(loc[1:]) or loc[0]
            parts.append(
                f"field {field!r}: {error['msg']}"
                if kind != "missing"
                else f"field {field!r} is missing"
            )
    return "; ".join(parts)


_any_object: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def _frame_type(raw: str) -> str | None:
    """The ``type`` a bad frame claimed, if it is readable, to name it in the error."""
    try:
        value = _any_object.validate_json(raw).get("type")
    except ValidationError:
        return None
    return value if isinstance(value, str) and len(value) <= 40 else None


Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Scope = MutableMapping[str, Any]


class PassWriter:
    """Writes, once the event loop's current pass has run, the frames each socket was sent
    during it: one write per socket per pass, however many frames (the ack and the echo to a
    sender, several events to an agent holding many chats). One callback per pass for all."""

    __slots__ = ("_due",)

    def __init__(self) -> None:
        self._due: list[SocketOutbox] = []

    def add(self, outbox: SocketOutbox) -> None:
        if not self._due:
            asyncio.get_running_loop().call_soon(self._run)
        self._due.append(outbox)

    def _run(self) -> None:
        due, self._due = self._due, []
        for outbox in due:
            outbox.write_pass()


class SocketOutbox(Outbox):
    """A socket's outbox. Frames sent while nothing is queued are gathered for the loop's pass
    and written together once it has run (``PassWriter``): through uvicorn's protocol in one
    write (``web/wire.py``) while the transport takes them. Otherwise they are queued (bounded,
    as every outbox) and a writer task, made only then, sends the queue in order."""

    __slots__ = ("_batch", "_held", "_passes", "_protocol", "_send", "_shut", "_writer")

    def __init__(self, maxsize: int, send: Send, passes: PassWriter) -> None:
        super().__init__(maxsize)
        self._send = send
        self._protocol = wire.protocol_of(send)
        self._passes = passes
        self._batch: list[str] | None = None  # this pass's frames, not written yet
        self._writer: asyncio.Task[None] | None = None
        self._shut = self._held = False

    @property
    def protocol(self) -> Any | None:
        """uvicorn's protocol the frames are written through in one write, if it is uvicorn's."""
        return self._protocol

    def put_nowait(self, text: str) -> None:
        if self._shut:
            return
        if self._writer is not None or self._held or not self.empty():
            super().put_nowait(text)
            return
        batch = self._batch
        if batch is None:
            self._batch = [text]
            self._passes.add(self)
        else:
            batch.append(text)
            if len(batch) * 4 >= self.maxsize:  # a long catch-up: let the transport push back
                self.write_pass()

    def hold(self) -> None:
        """Queue what is sent from now on (while a hello is answered: nothing goes out before
        the socket is all set up)."""
        self._held = True

    def release(self) -> None:
        """Send what was held (with this pass's frames), and from now on directly again."""
        self._held = False
        if self._writer is not None or self._shut or self.empty():
            return
        if self._batch is None:
            self._batch = []
            self._passes.add(self)
        while not self.empty():
            self._batch.append(self.get_nowait())

    def write_pass(self) -> None:
        """Write the frames gathered in this pass (the pass writer calls it once the pass ran)."""
        batch, self._batch = self._batch, None
        if not batch or self._shut:
            return
        protocol = self._protocol
        if protocol is not None:
            try:
                if wire.write(protocol, batch):
                    return
            except Exception as exc:  # the client is gone; the reader hears of it
                self._gone(exc)
                return
        # The transport's buffer is full (or the server is not uvicorn): a writer awaits it.
        self._writer = asyncio.get_running_loop().create_task(self._write(batch))

    async def _write(self, batch: list[str]) -> None:
        """Send ``batch`` through the ASGI ``send``, then what was queued meanwhile."""
        try:
            for text in batch:
                if self._shut:
                    return
                await self._send({"type": "websocket.send", "text": text})
            while not self.empty() and not self._shut:
                await self._send({"type": "websocket.send", "text": self.get_nowait()})
        except Exception as exc:
            self._gone(exc)
        finally:
            self._writer = None

    def _gone(self, exc: BaseException) -> None:
        log.debug("sending to a socket failed: %r", exc)
        self._shut = True
        self._batch = None
        while not self.empty():
            self.get_nowait()

    async def flush(self, timeout: float) -> None:
        """Write this pass's frames now, and wait (at most ``timeout`` seconds) until what is
        queued has been sent."""
        self.write_pass()
        writer = self._writer
        if writer is not None:
            await asyncio.wait({writer}, timeout=timeout)

    async def shut(self) -> None:
        """Send nothing more: drop the queue, stop the writer."""
        self._shut = True
        self._batch = None
        while not self.empty():
            self.get_nowait()
        writer = self._writer
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)


def _ignore() -> None:
    pass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class Connection:
    """Serves one shopper or agent socket for its whole life, on the task that runs it."""

    __slots__ = (
        "_close_code",
        "_close_reason",
        "_connected",
        "_lanes",
        "_left",
        "_parked",
        "_pipelined",
        "_receive",
        "_send",
        "_task",
        "adapter",
        "address",
        "bucket",
        "cap",
        "hub",
        "outbox",
        "patrol",
        "role",
        "scope",
        "session",
        "settings",
        "watchdog",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        hub: Hub,
        role: Literal["shopper", "agent"],
        patrol: Patrol,
        passes: PassWriter,
        cap: AddressCap | None = None,
    ) -> None:
        self.scope = scope
        self._receive, self._send = receive, send
        self.cap = cap
        self.patrol = patrol
        client = scope.get("client")
        self.address: str = client[0] if client else ""
        self.watchdog: Watchdog | None = None
        self.hub = hub
        self.role = role
        self.settings = hub.settings
        self.adapter: TypeAdapter[Any] = p.shopper_frame if role == "shopper" else p.agent_frame
        self.bucket = TokenBucket(self.settings.rate_limit_per_s, self.settings.rate_limit_burst)
        self.outbox = SocketOutbox(self.settings.send_queue_size, send, passes)
        self.session = Session(
            role, "", "", self.outbox, hub.store.log.read, on_overflow=self._too_slow
        )
        self._connected = False
        self._left = False  # the client closed (or dropped) the socket
        self._close_code: int | None = None  # set when we must close: overflow, watchdog
        self._close_reason = ""
        self._task: asyncio.Task[Any] | None = None
        self._parked = False  # waiting for the client's next frame
        # An agent's frames being handled, by conversation: the last one of each (the next
        # one of that conversation waits for it). Made with the first (none on shopper sockets).
        self._lanes: dict[str, asyncio.Task[None]] | None = None
        self._pipelined: set[asyncio.Task[None]] | None = None  # every one being handled

    async def run(self) -> None:
        if (await self._receive())["type"] != "websocket.connect":
            return
        await self._send({"type": "websocket.accept"})
        if self.cap is not None and not self.cap.enter(self.address):
            await self._refuse(
                TooManySockets(f"more than {self.cap.limit} open sockets from your address")
            )
            return
        # One frame fewer on every idle socket's stack: serving is inlined here.
        try:
            self.hub.metrics.connected(self.role)
            self._task = asyncio.current_task()
            self.watchdog = Watchdog(self.patrol, self._guarded)
            close_code: int | None = None
            try:
                close_code = await self._read()
            except Exception:
                log.exception("connection failed")
                close_code = CLOSE_INTERNAL
            finally:
                if self._lanes:
                    await self._settle_lanes()
                self.watchdog.stop()
                if self._close_code is not None:  # overflow and watchdog come first
                    close_code = self._close_code
                if close_code is not None and close_code != CLOSE_TOO_SLOW:
                    await self.outbox.flush(2)  # the last error frame goes out before the close
                await self.outbox.shut()
                self.hub.metrics.disconnected(self.role)
                if self._connected:
                    await self.hub.disconnect(self.session)
                if close_code is not None and not self._left:
                    # Bounded: the close frame waits behind what the client has not read yet.
                    close = {
                        "type": "websocket.close",
                        "code": close_code,
                        "reason": self._close_reason,
                    }
                    with contextlib.suppress(RuntimeError, OSError, TimeoutError):
                        await asyncio.wait_for(self._send(close), 10)
        finally:
            if self.cap is not None:
                self.cap.leave(self.address)
            # No reference cycle outlives the socket (it would hold uvicorn's protocol until
            # the cyclic collector runs: RSS that grows with page views).
            self.session.on_overflow = _ignore
            self._task = None

    async def _refuse(self, error: ChatError) -> None:
        """Say why, then close, before serving anything."""
        self._send_error(error, None)
        await self.outbox.flush(2)
        with contextlib.suppress(RuntimeError, OSError):
            await self._send(
                {
                    "type": "websocket.close",
                    "code": error.close_code or 1008,
                    "reason": error.message[:120],
                }
            )

    def _stop(self, code: int, reason: str = "") -> None:
        """Close the socket: now if it waits for a frame, else once the frame at hand is done."""
        if self._close_code is not None:
            return
        self._close_code, self._close_reason = code, reason
        if self._parked and self._task is not None:
            self._task.cancel()

    def _too_slow(self) -> None:
        self._stop(CLOSE_TOO_SLOW)

    def _guarded(self, error: ChatError) -> None:
        """The watchdog's verdict: tell the client why, and close with its code."""
        self._send_error(error, None)
        self._stop(error.close_code or 1008, error.message[:120])

    async def _read(self) -> int | None:
        """Read frames until the client leaves; returns a close code when we must close."""
        origin = _header(self.scope, b"origin")
        if not self._origin_allowed(origin):
            self._send_error(
                Unauthorized(f"origin {origin!r} is not allowed to open this chat"), None
            )
            return Unauthorized.close_code
        protocol = self.outbox.protocol
        if protocol is not None:
            wire.trim(protocol)  # the headers are read: what uvicorn kept of them goes
        assert self.watchdog is not None
        task = self._task
        message: Message | None = None
        raw: str | None = None
        frame: Any = None
        while self._close_code is None:
            # Nothing of the last frame stays referenced by this frame while the socket idles.
            message = raw = frame = None
            self._parked = True  # waiting for the client: _stop may cancel the wait
            try:
                message = await self._receive()
            except asyncio.CancelledError:
                if self._close_code is None or task is None or task.uncancel() > 0:
                    raise
                return None
            finally:
                self._parked = False
            if message["type"] == "websocket.disconnect":
                self._left = True
                return None
            self.watchdog.heard()
            raw = message.get("text")
            frame_type = None
            try:
                if raw is None:
                    raise InvalidFrame("send frames as text (JSON), not binary")
                if not self.bucket.take():
                    raise RateLimited(
                        f"more than {self.settings.rate_limit_per_s:g} frames per second: "
                        "this frame was dropped, slow down"
                    )
                try:
                    frame = parse_frame(self.adapter, raw, self.settings.max_frame_bytes)
                except InvalidFrame:
                    frame_type = _frame_type(raw)
                    raise
                frame_type = frame.type
                if self._connected and self.role == "agent":
                    await self._pipeline(frame)
                    continue
                if self._lanes:
                    await self._settle_lanes()
                await self._apply_stored(frame)
            except ChatError as exc:
                self._send_error(exc, frame_type)
                if exc.close_code is not None:
                    return exc.close_code
        return None

    async def _apply_stored(self, frame: Any) -> None:
        try:
            await self._apply(frame)
        except StoreUnavailable as exc:
            # Any read or write the frame needed failed: say so, nothing was acknowledged.
            raise Unavailable("the chat store is temporarily unavailable; send again") from exc

    async def _pipeline(self, frame: Any) -> None:
        """An agent's frame: replies (and the like) in different conversations are handled side
        by side, ``AGENT_FRAMES_IN_FLIGHT`` at most, each after the one before it in its
        conversation; any other frame waits for them all and is handled alone."""
        if self._lanes is None or self._pipelined is None:
            self._lanes, self._pipelined = {}, set()
        lanes, pipelined = self._lanes, self._pipelined
        conversation_id = getattr(frame, "conversation_id", None)
        if conversation_id is None or type(frame) not in _PIPELINED:
            if lanes:
                await self._settle_lanes()
            await self._apply_stored(frame)
            return
        while len(pipelined) >= AGENT_FRAMES_IN_FLIGHT:
            await asyncio.wait(set(pipelined), return_when=asyncio.FIRST_COMPLETED)
        before = lanes.get(conversation_id)
        lane = asyncio.get_running_loop().create_task(self._lane(before, frame))
        lanes[conversation_id] = lane
        pipelined.add(lane)
        lane.add_done_callback(lambda done: self._lane_done(conversation_id, done))

    def _lane_done(self, conversation_id: str, lane: asyncio.Task[None]) -> None:
        if self._pipelined is not None:
            self._pipelined.discard(lane)
        lanes = self._lanes
        if lanes is not None and lanes.get(conversation_id) is lane:
            del lanes[conversation_id]

    async def _lane(self, before: asyncio.Task[None] | None, frame: Any) -> None:
        """Handle one pipelined frame once the one before it in its conversation is done."""
        if before is not None:
            await asyncio.wait({before})
        if self._close_code is not None:
            return
        try:
            await self._apply_stored(frame)
        except ChatError as exc:
            self._send_error(exc, frame.type)
            if exc.close_code is not None:
                self._stop(exc.close_code, exc.message[:120])
        except Exception:
            log.exception("an agent's frame failed")
            self._stop(CLOSE_INTERNAL)

    async def _settle_lanes(self) -> None:
        """Wait until the agent's pipelined frames are all handled (cancelled with the task)."""
        task = asyncio.current_task()
        while self._lanes:
            lanes = set(self._lanes.values())
            if task is not None and task.cancelling():  # the server stops: do not wait
                for lane in lanes:
                    lane.cancel()
            try:
                await asyncio.wait(lanes)
            except asyncio.CancelledError:
                for lane in lanes:
                    lane.cancel()
                raise

    async def _apply(self, frame: Any) -> None:
        assert self.watchdog is not None
        if isinstance(frame, p.Hello) and not self._connected:
            if not p.OLDEST_VERSION <= frame.version <= p.PROTOCOL_VERSION:
                raise InvalidFrame(
                    f"protocol version {frame.version} is not supported; use {p.PROTOCOL_VERSION}"
                )
            self.outbox.hold()
            try:
                with self.watchdog.greeting():
                    if self.role == "shopper":
                        await self.hub.connect_shopper(self.session, frame)
                        self.watchdog.said_hello()
                    else:
                        await self.hub.connect_agent(self.session, frame)
                        await self._watch_session(frame.token or "")
                self._connected = True
            finally:
                self.outbox.release()
        elif not self._connected:
            raise InvalidFrame("the first frame must be hello")
        else:
            await self.hub.handle(self.session, frame, self._caught_up)

    def _caught_up(self) -> bool:
        """Whether the client has sent nothing beyond the frame at hand (unknown: no)."""
        protocol = self.outbox.protocol
        return protocol is not None and not wire.unread(protocol)

    async def _watch_session(self, token: str) -> None:
        """From now on, an agent's socket ends when its session does (expiry, reset, removal)."""
        hub = self.hub
        assert self.watchdog is not None

        async def check() -> float:
            _, session = await hub.accounts.session_account(hub.tokens, token)
            return session.expires_at

        self.watchdog.said_hello(check, hub.tokens.session(token).expires_at)
        hub.fanout.on_session_change(self.session, self.watchdog.recheck)

    def _origin_allowed(self, origin: str | None) -> bool:
        if self.role == "agent" and origin is None:
            return True  # not a browser; the session token still decides
        return self.settings.origin_allowed(origin)

    def _send_error(self, exc: ChatError, frame_type: str | None) -> None:
        hint = (
            {"retry_after_ms": exc.retry_after_ms, "client_id": exc.client_id}
            if isinstance(exc, Overloaded)
            else {}
        )
        self.hub.metrics.error(exc.code)
        self.session.send(
            p.encode_frame(
                p.Error, code=exc.code, message=exc.message, frame_type=frame_type, **hint
            )
        )


class Sockets:
    """Serves the chat's socket paths, raw: the app calls it ahead of middleware and routing."""

    def __init__(
        self,
        hub: Hub,
        patrol: Patrol,
        cap: AddressCap,
        paths: dict[str, Literal["shopper", "agent"]],
    ) -> None:
        self.hub, self.patrol, self.cap, self.paths = hub, patrol, cap, paths
        self.passes = PassWriter()

    def role(self, scope: Scope) -> Literal["shopper", "agent"] | None:
        """The role a socket opened on this scope's path serves, if it is a chat socket."""
        return self.paths.get(scope["path"]) if scope["type"] == "websocket" else None

    def connection(
        self, scope: Scope, receive: Receive, send: Send, role: Literal["shopper", "agent"]
    ) -> Connection:
        return Connection(scope, receive, send, self.hub, role, self.patrol, self.passes, self.cap)
