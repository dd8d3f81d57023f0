"""Webhooks to the shop's system: stored first, signed, POSTed, retried with backoff until taken.

Each webhook waits in the ``webhooks`` tray, scored by when it is next due (like the mail
outbox): a worker claims it by moving its score a lease ahead (``Trays.move``), so two workers
never send it at once, and one that dies mid-send leaves it due again after the lease. A 2xx
answer delivers it; anything else (or no answer) keeps it, with the waits doubling from
``webhook_retry_s`` up to ``webhook_retry_max_s``. Being in the store, it survives a restart.

The shop checks ``X-Chat-Signature``: the hex HMAC-SHA256, keyed with
``notice_webhook_secret``, of ``X-Chat-Timestamp``, a ``.``, and the raw body; and may drop a
repeated ``X-Chat-Delivery`` (the answer was lost, not the webhook).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging

import httpx
from pydantic import BaseModel

from chatserver.domain.clock import Clock
from chatserver.domain.settings import Settings
from chatserver.store.ports import TrayItem, Trays

log = logging.getLogger("chatserver.webhooks")

WEBHOOKS = "webhooks"
SIGNATURE_HEADER = "X-Chat-Signature"
TIMESTAMP_HEADER = "X-Chat-Timestamp"
DELIVERY_HEADER = "X-Chat-Delivery"
_LEASE_S = 60.0
_TICK_S = 5.0
_TIMEOUT_S = 5.0


def sign_body(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``timestamp.body`` with ``secret``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class Webhook(BaseModel):
    """A webhook in the tray, with what its attempts so far gave."""

    id: str
    body: str
    attempts: int = 0
    last_error: str = ""


class Webhooks:
    """This worker's side of the webhook tray: queue, attempt, retry."""

    def __init__(self, trays: Trays, clock: Clock, settings: Settings) -> None:
        self.trays = trays
        self.clock = clock
        self.settings = settings
        self.wakeup = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.settings.notice_webhook_url)

    def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=_TIMEOUT_S)
        self._task = asyncio.create_task(self._run(), name="webhooks")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    async def queue(self, webhook_id: str, body: str) -> None:
        """Store a webhook, due now (kept even while no URL is set), and wake the sender."""
        hook = Webhook(id=webhook_id, body=body)
        await self.trays.put(WEBHOOKS, webhook_id, self.clock.now(), hook.model_dump_json())
        self.wakeup.set()

    async def pending(self) -> list[Webhook]:
        """Every webhook not delivered yet, next due first."""
        return [Webhook.model_validate_json(i.text) for i in await self.trays.items(WEBHOOKS)]

    async def send_due(self) -> int:
        """Attempt every webhook that is due; returns how many were delivered."""
        if not self.enabled or self._client is None:
            return 0
        delivered = 0
        for item in await self.trays.items(WEBHOOKS, until=self.clock.now()):
            delivered += await self._attempt(item, self._client)
        return delivered

    async def _attempt(self, item: TrayItem, client: httpx.AsyncClient) -> bool:
        now = self.clock.now()
        if not await self.trays.move(WEBHOOKS, item.item_id, item.score, now + _LEASE_S):
            return False  # another worker has it
        hook = Webhook.model_validate_json(item.text)
        body = hook.body.encode()
        timestamp = str(int(now))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign_body(self.settings.notice_webhook_secret, timestamp, body),
            DELIVERY_HEADER: hook.id,
        }
        try:
            answer = await client.post(
                self.settings.notice_webhook_url, content=body, headers=headers
            )
            error = "" if answer.is_success else f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}".strip()
        if not error:
            await self.trays.remove(WEBHOOKS, hook.id)
            log.info("webhook %s delivered", hook.id)
            return True
        s = self.settings
        wait = min(s.webhook_retry_s * 2**hook.attempts, s.webhook_retry_max_s)
        hook = hook.model_copy(update={"attempts": hook.attempts + 1, "last_error": error})
        await self.trays.put(WEBHOOKS, hook.id, self.clock.now() + wait, hook.model_dump_json())
        log.warning("webhook %s not delivered (%s); retry in %.0f s", hook.id, error, wait)
        return False

    async def _run(self) -> None:
        """Send what is due; again on a wake-up, when the next one is due, or every few seconds."""
        while True:
            self.wakeup.clear()
            wait = _TICK_S
            try:
                await self.send_due()
                following = await self.trays.items(WEBHOOKS, limit=1)
                if following and self.enabled:
                    wait = min(wait, max(following[0].score - self.clock.now(), 0.0))
            except Exception:
                log.exception("webhook pass failed; trying again")
            sleeper = asyncio.ensure_future(self.clock.sleep(wait))
            woken = asyncio.ensure_future(self.wakeup.wait())
            try:
                await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                woken.cancel()
