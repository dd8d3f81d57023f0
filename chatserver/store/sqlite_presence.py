"""The embedded store's routing, with each agent's chosen status and capacity kept in SQLite.

Routing itself stays in memory (:class:`~chatserver.store.memory.MemoryRouter`: one process, so
a claim is atomic); what an agent chose is written through, so after a restart an agent who
reconnects (as the console does, without ``set_status``) comes back as they were, as on Redis.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatserver.store._sqlite_db import Database
from chatserver.store.memory import MemoryRouter
from chatserver.store.ports import Presence

PRESENCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS agent_presence (
    agent_id TEXT PRIMARY KEY, status TEXT NOT NULL, capacity INTEGER NOT NULL
);
"""


class SQLiteRouter(MemoryRouter):
    """Routing in memory; agents' chosen status and capacity also in the file."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    async def load(self) -> None:
        """Bring back what each agent chose before the restart (offline until they connect)."""
        rows = await self._db.read("SELECT agent_id, status, capacity FROM agent_presence")
        for agent_id, status, capacity in rows:
            self.restore(agent_id, status, capacity)

    async def set_presence(
        self,
        agent_id: str,
        status: str,
        capacity: int,
        now: float,
        languages: Sequence[str] = (),
    ) -> Presence:
        # Stored first: nobody sees a status that a restart would forget.
        upsert = (
            "INSERT OR REPLACE INTO agent_presence (agent_id, status, capacity) VALUES (?, ?, ?)"
        )
        await self._db.write([(upsert, (agent_id, status, capacity))])
        return await super().set_presence(agent_id, status, capacity, now, languages)
