"""The port of the quality review: managers' reviews of closed chats, one per conversation."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Reviews(ABC):
    """Reviews as JSON text, by conversation; listed by agent or by the conversation's creation
    time (``score``), newest first. Safe under concurrent callers, from any number of workers."""

    @abstractmethod
    async def put(self, conversation_id: str, agent_id: str, score: float, text: str) -> None:
        """Store (or replace) the review of a conversation handled by ``agent_id``."""

    @abstractmethod
    async def get(self, conversation_id: str) -> str | None:
        """The review of a conversation, if it has one."""

    @abstractmethod
    async def of_agent(self, agent_id: str, limit: int = 100) -> list[str]:
        """An agent's reviews, newest conversation first."""

    @abstractmethod
    async def between(self, since: float, until: float) -> list[str]:
        """The reviews of conversations created in ``[since, until)``, newest first."""
