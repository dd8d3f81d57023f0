"""Grace periods: an agent who goes away keeps their chats for a while, on any worker.

The grace period lives in the store (``Router.grace``), so an agent who reconnects to another
worker keeps their chats, and every live worker sweeps: the chats of an agent whose worker died
go back to the queue once their grace period is over.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from chatserver.core.sessions import Session

if TYPE_CHECKING:
    from chatserver.core.assignment import Assigner

log = logging.getLogger("chatserver.core.grace")


class GracePeriods:
    """Starts, ends and sweeps agents' grace periods for the assigner."""

    def __init__(self, assigner: Assigner) -> None:
        self.assigner = assigner
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Agents who hold chats but are connected nowhere get a grace period; sweeping starts."""
        a = self.assigner
        graces = await a.router.graces()
        chosen = {seen.agent_id: seen.chosen for seen in await a.router.presence()}
        for agent_id in await a.router.held():
            # With several workers, an agent connected elsewhere is online there: leave them be.
            if agent_id not in graces and not await a.present(agent_id):
                # They come back as they last chose (online if that is not known, or offline).
                status = chosen.get(agent_id, "offline")
                status = "online" if status == "offline" else status
                await a.router.grace(agent_id, status, a.clock.now() + a.grace_s)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)

    async def agent_left(self, agent_id: str) -> None:
        """An agent's last socket closed: no new chats now, and theirs requeue after the grace
        period unless they come back (to any worker: the grace period is in the store)."""
        presence = {a.agent_id: a for a in await self.assigner.router.presence()}
        known = presence.get(agent_id)
        status = known.status if known else "offline"
        await self.assigner.router.grace(
            agent_id, status, self.assigner.clock.now() + self.assigner.grace_s
        )
        self.assigner.fanout.soon(
            self._sweep_after(self.assigner.grace_s)
        )  # on time here; the sweep is a backup
        await self.assigner.announce_queue()

    async def _sweep_after(self, seconds: float) -> None:
        await self.assigner.clock.sleep(seconds)
        await self.sweep()

    async def agent_back(self, session: Session) -> None:
        """An agent connected: within the grace period they keep their chats and status; else
        the status they last chose. Setting it here also makes this worker keep it fresh."""
        status = await self.assigner.router.end_grace(session.user_id)
        if status is None:
            mine = [
                a for a in await self.assigner.router.presence() if a.agent_id == session.user_id
            ]
            status = mine[0].chosen if mine else "offline"
        await self.assigner.set_status(session.user_id, status, None)  # type: ignore[arg-type]

    async def _sweep_forever(self) -> None:
        """Every live worker sweeps, so no chat waits on a worker that died."""
        while True:
            await self.assigner.clock.sleep(min(1.0, self.assigner.grace_s / 2))
            try:
                await self.sweep()
            except Exception:  # the store is down: try again next round
                log.warning("grace sweep failed", exc_info=True)

    async def sweep(self) -> None:
        """Agents whose worker died get a grace period; chats of agents past it requeue."""
        now = self.assigner.clock.now()
        graces = await self.assigner.router.graces()
        presence = {a.agent_id: a for a in await self.assigner.router.presence()}
        for agent_id in await self.assigner.router.held():
            seen = presence.get(agent_id)
            orphaned = seen is None or (seen.status == "offline" and seen.chosen != "offline")
            if (
                agent_id not in graces
                and orphaned
                and not self.assigner.fanout.agent_sessions(agent_id)
            ):
                chosen = seen.chosen if seen else "online"
                await self.assigner.router.grace(agent_id, chosen, now + self.assigner.grace_s)
        for agent_id, (_, until) in graces.items():
            if self.assigner.fanout.agent_sessions(agent_id):
                # Their old socket's worker noticed the close after they came back here.
                if (status := await self.assigner.router.end_grace(agent_id)) is not None:
                    await self.assigner.set_status(agent_id, status, None)  # type: ignore[arg-type]
            elif until <= now and await self.assigner.router.end_grace(agent_id) is not None:
                await self._requeue(agent_id)

    async def _requeue(self, agent_id: str) -> None:
        """An agent stayed away past the grace period: their chats go back to the queue's head."""
        held = (await self.assigner.router.held()).get(agent_id, [])
        for conversation_id in reversed(held):
            conversation = await self.assigner.journal.get(conversation_id)
            await self.assigner.router.release(agent_id, conversation_id, self.assigner.clock.now())
            await self.assigner.enqueue(conversation, "requeued", from_agent=agent_id)
        await self.assigner.dispatch()
