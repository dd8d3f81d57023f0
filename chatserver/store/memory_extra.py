"""Trays and search in memory: the adapters of ``MemoryStore``."""

from __future__ import annotations

from collections.abc import Sequence

from chatserver.store.ports import Search, TrayItem, Trays


class MemoryTrays(Trays):
    """Trays as dictionaries; nothing here awaits, so ``move`` is atomic in one process."""

    def __init__(self) -> None:
        self._trays: dict[str, dict[str, TrayItem]] = {}

    async def put(self, tray: str, item_id: str, score: float, text: str) -> None:
        self._trays.setdefault(tray, {})[item_id] = TrayItem(item_id, score, text)

    async def items(
        self, tray: str, until: float = float("inf"), limit: int = 500
    ) -> list[TrayItem]:
        found = [i for i in self._trays.get(tray, {}).values() if i.score <= until]
        return sorted(found, key=lambda i: (i.score, i.item_id))[:limit]

    async def get(self, tray: str, item_id: str) -> TrayItem | None:
        return self._trays.get(tray, {}).get(item_id)

    async def move(self, tray: str, item_id: str, expected: float, score: float) -> bool:
        item = self._trays.get(tray, {}).get(item_id)
        if item is None or item.score != expected:
            return False
        self._trays[tray][item_id] = TrayItem(item_id, score, item.text)
        return True

    async def remove(self, tray: str, item_id: str) -> bool:
        return self._trays.get(tray, {}).pop(item_id, None) is not None


class MemorySearch(Search):
    """Every document's words in a set; a search looks at each (fine for tests)."""

    def __init__(self) -> None:
        self._docs: dict[str, tuple[float, frozenset[str]]] = {}

    async def index(self, conversation_id: str, created_at: float, words: Sequence[str]) -> None:
        self._docs[conversation_id] = (created_at, frozenset(words))

    async def find(
        self, words: Sequence[str], since: float, until: float, limit: int = 50
    ) -> list[str]:
        wanted = set(words)
        found = [
            (created, c)
            for c, (created, have) in self._docs.items()
            if since <= created < until and wanted <= have
        ]
        return [c for _, c in sorted(found, reverse=True)[:limit]]
