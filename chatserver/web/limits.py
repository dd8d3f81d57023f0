"""HTTP limits: bodies capped before they are read, headers that must come in time, and
throttled logins."""

from __future__ import annotations

import asyncio
import math
import re
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from chatserver.domain.clock import Clock


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` gets 413 without being read into memory.

    A ``Content-Length`` over the limit is refused before any byte of the body is read; a body
    without one (chunked) is counted as it streams and refused as soon as it passes the limit.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, uploads: re.Pattern[str] | None = None
    ) -> None:
        """``uploads``: the paths of endpoints that cap their (larger) bodies themselves, the
        same way, with their own message (attachments: ``max_file_bytes``)."""
        self.app, self.max_bytes, self.uploads = app, max_bytes, uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.uploads and self.uploads.fullmatch(scope["path"])):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > limit:
            await self._refuse(send, limit)
            return
        seen, started = 0, False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = b'{"error":"request body too large: at most %d bytes"}' % limit
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class LoginThrottle:
    """Failed logins per key (an account, an address) in a sliding window, by the server's clock.

    After ``attempts`` failures within ``window_s`` a key is refused until its oldest failure
    leaves the window, whatever the password: guessing gets ``attempts`` tries per window.
    """

    MAX_KEYS = 100_000  # past this, keys whose failures all left the window are forgotten

    def __init__(self, attempts: int, window_s: float, clock: Clock) -> None:
        self.attempts, self.window_s, self.clock = attempts, window_s, clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until these keys may try again, or None when they may now."""
        now, wait = self.clock.now(), 0.0
        for key in keys:
            if key not in self._failures:
                continue  # nothing failed: do not make an entry for every good login
            failures = self._recent(key, now)
            if len(failures) >= self.attempts:
                wait = max(wait, failures[0] + self.window_s - now)
        return math.ceil(wait) or 1 if wait > 0 else None

    def failed(self, *keys: str) -> None:
        now = self.clock.now()
        if len(self._failures) >= self.MAX_KEYS:
            self._forget_old(now)
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def _forget_old(self, now: float) -> None:
        for key in [k for k, f in self._failures.items() if not f or f[-1] <= now - self.window_s]:
            del self._failures[key]


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's HTTP protocol, but a connection must finish each request's headers within
    ``timeout_keep_alive`` of opening (or of the request's first byte), else it is closed.

    uvicorn itself times a connection out only between requests, so one that opens and sends
    half a header line (slowloris) would be held forever.
    """

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.timeout_keep_alive, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()
