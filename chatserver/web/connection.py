"""One socket: read and validate frames, hand them to the hub, write what the hub sends.

This is the only module that touches a WebSocket, and the one place where a ``ChatError``
becomes an ``error`` frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

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
from chatserver.web.guard import AddressCap, Watchdog

log = logging.getLogger("chatserver.web.connection")

CLOSE_TOO_SLOW = 1013
CLOSE_INTERNAL = 1011


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


async def _stop(*tasks: asyncio.Task[Any]) -> None:
    """Cancel tasks and wait for them; again if one swallowed its cancellation (redis-py under
    Python 3.11's ``wait_for`` can), so a socket is never left open by a task that lives on."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.1)
    await asyncio.gather(*tasks, return_exceptions=True)


class Connection:
    """Serves one shopper or agent socket for its whole life."""

    def __init__(
        self,
        websocket: WebSocket,
        hub: Hub,
        role: Literal["shopper", "agent"],
        cap: AddressCap | None = None,
    ) -> None:
        self.websocket = websocket
        self.cap = cap
        self.address = websocket.client.host if websocket.client else ""
        self.watchdog = Watchdog(hub.settings, hub.clock)
        self._close_reason = ""
        self.hub = hub
        self.role = role
        self.settings = hub.settings
        self.adapter: TypeAdapter[Any] = p.shopper_frame if role == "shopper" else p.agent_frame
        self.bucket = TokenBucket(self.settings.rate_limit_per_s, self.settings.rate_limit_burst)
        self._overflow = asyncio.Event()
        self.session = Session(
            role=role,
            user_id="",
            name="",
            outbox=Outbox(self.settings.send_queue_size),
            read_log=hub.store.log.read,
            on_overflow=self._overflow.set,
        )
        self._connected = False
        self._closing = False

    async def run(self) -> None:
        await self.websocket.accept()
        if self.cap is not None and not self.cap.enter(self.address):
            await self._refuse(
                TooManySockets(f"more than {self.cap.limit} open sockets from your address")
            )
            return
        try:
            await self._serve()
        finally:
            if self.cap is not None:
                self.cap.leave(self.address)

    async def _refuse(self, error: ChatError) -> None:
        """Say why, then close, before serving anything."""
        self._send_error(error, None)
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await self.websocket.send_text(self.session.outbox.get_nowait())
            await self.websocket.close(error.close_code or 1008, error.message[:120])

    async def _serve(self) -> None:
        self.hub.metrics.connected(self.role)
        writer = asyncio.create_task(self._write())
        reader = asyncio.create_task(self._read())
        overflow = asyncio.create_task(self._overflow.wait())
        guard = asyncio.create_task(self.watchdog.run())
        close_code: int | None = None
        try:
            done, _ = await asyncio.wait(
                {reader, writer, overflow, guard}, return_when=asyncio.FIRST_COMPLETED
            )
            if overflow in done:
                close_code = CLOSE_TOO_SLOW
            elif guard in done:
                close_code = self._guarded(guard.result())
            elif reader in done and not reader.cancelled():
                close_code = reader.result()
        except Exception:
            log.exception("connection failed")
            close_code = CLOSE_INTERNAL
        finally:
            self._closing = True
            await _stop(reader, overflow, guard)
            if close_code is not None and close_code != CLOSE_TOO_SLOW:
                await self._drain(writer)
            await _stop(writer)
            self.hub.metrics.disconnected(self.role)
            if self._connected:
                await self.hub.disconnect(self.session)
            if close_code is not None and self.websocket.client_state == WebSocketState.CONNECTED:
                # Bounded: the close frame waits behind what the client has not read yet.
                with contextlib.suppress(RuntimeError, OSError, TimeoutError):
                    await asyncio.wait_for(self.websocket.close(close_code, self._close_reason), 10)

    def _guarded(self, error: ChatError) -> int:
        """The watchdog's verdict: tell the client why, and close with its code."""
        self._send_error(error, None)
        self._close_reason = error.message[:120]
        return error.close_code or 1008

    async def _read(self) -> int | None:
        """Read frames until the client leaves; returns a close code when we must close."""
        origin = self.websocket.headers.get("origin")
        if not self._origin_allowed(origin):
            self._send_error(
                Unauthorized(f"origin {origin!r} is not allowed to open this chat"), None
            )
            return Unauthorized.close_code
        while not self._closing:
            try:
                message = await self.websocket.receive()
            except WebSocketDisconnect:
                return None
            if message["type"] == "websocket.disconnect":
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
                try:
                    await self._apply(frame)
                except StoreUnavailable as exc:
                    # Any read or write the frame needed failed: say so, nothing was acknowledged.
                    raise Unavailable(
                        "the chat store is temporarily unavailable; send again"
                    ) from exc
            except ChatError as exc:
                self._send_error(exc, frame_type)
                if exc.close_code is not None:
                    return exc.close_code
        return None

    async def _apply(self, frame: Any) -> None:
        if isinstance(frame, p.Hello) and not self._connected:
            if not p.OLDEST_VERSION <= frame.version <= p.PROTOCOL_VERSION:
                raise InvalidFrame(
                    f"protocol version {frame.version} is not supported; use {p.PROTOCOL_VERSION}"
                )
            with self.watchdog.greeting():
                if self.role == "shopper":
                    await self.hub.connect_shopper(self.session, frame)
                    self.watchdog.said_hello()
                else:
                    await self.hub.connect_agent(self.session, frame)
                    await self._watch_session(frame.token or "")
            self._connected = True
        elif not self._connected:
            raise InvalidFrame("the first frame must be hello")
        else:
            await self.hub.handle(self.session, frame)

    async def _watch_session(self, token: str) -> None:
        """From now on, an agent's socket ends when its session does (expiry, reset, removal)."""
        hub = self.hub

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
        error = p.Error(code=exc.code, message=exc.message, frame_type=frame_type, **hint)
        self.hub.metrics.error(exc.code)
        self.session.send(p.encode(error))

    async def _write(self) -> None:
        outbox = self.session.outbox
        while True:
            text = await outbox.get()
            await self.websocket.send_text(text)
            outbox.task_done()

    async def _drain(self, writer: asyncio.Task[None]) -> None:
        """Let the writer send what is queued (the last error frame) before closing."""
        if not writer.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.session.outbox.join(), timeout=2)
