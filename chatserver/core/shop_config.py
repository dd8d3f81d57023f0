"""The shop's configuration, live: documents in the store, applied on every worker at once.

The documents (``shop.toml``, ``faq.toml``, ``faq.<lang>.toml``, ``canned.toml``) live in the
store. A change is checked by building it first (nothing half-saved), stored together with its
audit entry, applied here, and announced on the bus; other workers reload from the store. On a
shop's first start the files of ``faq_dir`` are imported.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Protocol

from chatserver.domain.bot import Bot, BotTurn, NoBot
from chatserver.domain.clock import Clock
from chatserver.domain.protocol import CannedReply
from chatserver.domain.settings import Settings
from chatserver.domain.shop import ShopSettings
from chatserver.store.base import Store

log = logging.getLogger("chatserver.core.shop_config")

TOPIC = "shop-config"
"""The bus topic on which a worker says the documents changed (the message is the change id)."""


class Loaded(Protocol):
    """What a set of documents gives the server (built by the FAQ package)."""

    bot: Bot
    shop: ShopSettings | None
    canned: list[CannedReply]


Builder = Callable[[Mapping[str, str], float], Loaded]
"""Builds documents into a bot, settings and canned replies; raises ValueError when invalid."""


class LiveShop:
    """This worker's view of the shop's configuration, kept current with the store.

    Args:
        settings: the server's settings; the shop's stored values override the overlapping ones
            (response target, shop id) and its origins are added to the flag's.
        store: where the documents and the audit log live.
        build: turns documents into what the server uses.
        initial: documents imported when the store has none (the files of ``faq_dir``).
        clock: stamps the audit entries.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        build: Builder,
        initial: Mapping[str, str],
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self._build = build
        self._initial = dict(initial)
        self.flag_origins = list(settings.allowed_origins)
        self._flag_target = settings.response_target_s
        self.documents: dict[str, str] = {}
        self.bot: Bot = NoBot()
        self.shop: ShopSettings | None = None
        self.canned: list[CannedReply] = []
        self.on_change: list[Callable[[LiveShop], None]] = []
        self._applied: set[str] = set()
        self._reload: asyncio.Task[None] | None = None
        self._changing = asyncio.Lock()

    async def start(self) -> None:
        """Load the stored documents (importing ``faq_dir``'s on a first start); follow changes."""
        self.store.bus.on_topic(TOPIC, self._signalled)
        await self.store.bus.watch(TOPIC)
        documents = await self.store.config.documents()
        if not documents and self._initial:
            await self.store.config.change(
                self._initial, self._audit_entry("system", "import", "faq_dir")
            )
            documents = self._initial
        try:
            await self._use(documents)
        except ValueError as exc:
            log.error("the stored shop configuration does not load, the bot is off: %s", exc)

    async def close(self) -> None:
        await self.store.bus.unwatch(TOPIC)
        if self._reload is not None:
            self._reload.cancel()

    async def change(self, changes: Mapping[str, str | None], who: str, what: str) -> None:
        """Check, store, apply and announce a change. Raises ValueError (nothing stored)."""
        async with self._changing:  # one at a time here, so none builds on a stale set
            await self._change(changes, who, what)

    async def _change(self, changes: Mapping[str, str | None], who: str, what: str) -> None:
        documents = {**self.documents, **changes}
        merged = {name: text for name, text in documents.items() if text is not None}
        built = await asyncio.to_thread(self._build, merged, self._flag_target)
        change_id = uuid.uuid4().hex
        await self.store.config.change(
            changes, self._audit_entry(who, what, ", ".join(sorted(changes)))
        )
        self._apply(merged, built)
        self._applied.add(change_id)
        await self.store.bus.signal(TOPIC, change_id)

    async def audit(self, limit: int = 100) -> list[dict[str, object]]:
        """The latest changes, newest first."""
        return [json.loads(entry) for entry in await self.store.config.audit(limit)]

    async def reload(self) -> None:
        """Read the documents again (another worker changed them)."""
        try:
            await self._use(await self.store.config.documents())
        except ValueError as exc:  # stored by a worker that checked it: should not happen
            log.error("changed shop configuration does not load: %s", exc)

    async def _use(self, documents: dict[str, str]) -> None:
        built = await asyncio.to_thread(self._build, documents, self._flag_target)
        self._apply(documents, built)

    def _apply(self, documents: dict[str, str], built: Loaded) -> None:
        self.documents, self.bot, self.shop, self.canned = (
            documents,
            built.bot,
            built.shop,
            built.canned,
        )
        shop = built.shop
        self.settings.allowed_origins = [
            *self.flag_origins,
            *(shop.allowed_origins if shop else ()),
        ]
        self.settings.response_target_s = (
            float(shop.response_target_s) if shop else self._flag_target
        )
        if shop is not None:
            self.settings.shop_id = shop.shop_id
        for listener in self.on_change:
            listener(self)

    def _audit_entry(self, who: str, what: str, documents: str) -> str:
        """One audit log line as JSON text."""
        entry = {"at": self.clock.now(), "who": who, "what": what, "documents": documents}
        return json.dumps(entry)

    async def record(self, who: str, what: str) -> None:
        """An audit entry for a change outside the documents (agent accounts)."""
        await self.store.config.change({}, self._audit_entry(who, what, ""))

    def _signalled(self, topic: str, change_id: str) -> None:
        if change_id in self._applied:
            self._applied.discard(change_id)
            return
        self._reload = asyncio.get_running_loop().create_task(self.reload())


class LiveBot:
    """The hub's bot: whatever the shop's current configuration says, changed without a restart."""

    def __init__(self, live: LiveShop) -> None:
        self._live = live

    def in_charge(self, now: float, queue_length: int, estimated_wait_s: float) -> bool:
        return self._live.bot.in_charge(now, queue_length, estimated_wait_s)

    def reply(
        self, text: str, locale: str, now: float, people_online: bool, timezone: str = ""
    ) -> BotTurn:
        return self._live.bot.reply(text, locale, now, people_online, timezone=timezone)

    def texts(self, locale: str) -> tuple[str, str]:
        return self._live.bot.texts(locale)

    def back_at(self, now: float, locale: str, timezone: str) -> str:
        return self._live.bot.back_at(now, locale, timezone)

    def language(self, text: str, locale: str) -> str:
        return self._live.bot.language(text, locale)
