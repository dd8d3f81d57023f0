"""A store: one adapter of each port, started and closed together."""

from __future__ import annotations

from chatserver.store.bus import Bus
from chatserver.store.files import MemoryFiles
from chatserver.store.notice_adapters import MemoryApiKeys, MemoryLedger
from chatserver.store.notice_ports import ApiKeys, Ledger
from chatserver.store.ports import (
    AgentAccounts,
    Files,
    Log,
    Records,
    Router,
    Search,
    ShopConfig,
    Trays,
)
from chatserver.store.review_ports import Reviews
from chatserver.store.reviews import MemoryReviews
from chatserver.store.shop_config import MemoryShopConfig


class Store:
    """One deployment's storage: its adapters of the ports, started and closed together.

    An adapter subclasses this to open connections in ``start`` and to recover state.
    """

    def __init__(
        self,
        log: Log,
        records: Records,
        router: Router,
        accounts: AgentAccounts,
        bus: Bus,
        files: Files | None = None,
        config: ShopConfig | None = None,
        *,
        trays: Trays,
        search: Search,
        reviews: Reviews | None = None,
        api_keys: ApiKeys | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.log = log
        self.records = records
        self.router = router
        self.accounts = accounts
        self.bus = bus
        self.trays = trays
        self.search = search
        self.files: Files = files or MemoryFiles()
        self.config: ShopConfig = config or MemoryShopConfig()
        self.reviews: Reviews = reviews or MemoryReviews()
        self.api_keys: ApiKeys = api_keys or MemoryApiKeys()
        self.ledger: Ledger = ledger or MemoryLedger()

    async def start(self) -> None:
        """Open connections, recover state, start relaying."""
        await self.files.start()
        await self.bus.start()

    async def close(self) -> None:
        """Flush what is pending and release connections."""
        await self.bus.close()
        await self.files.close()
