"""The ports of shop-to-shopper notices: the shop's API keys, and ledgers of things done once.

- :class:`ApiKeys`: API key records (JSON text) by key id; the secret part is only ever hashed.
- :class:`Ledger`: named ledgers (``notices``, ``choices``) whose entries are recorded once by
  their id and numbered 1, 2, 3, ... in the order they were first recorded, so a reader can
  follow a ledger from the last number it has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


class ApiKeys(ABC):
    """API key records, each one JSON text."""

    @abstractmethod
    async def put(self, key_id: str, record: str) -> None:
        """Create or replace a key's record."""

    @abstractmethod
    async def get(self, key_id: str) -> str | None:
        """A key's record, or None."""

    @abstractmethod
    async def all(self) -> list[str]:
        """Every key's record, by key id."""


@dataclass(frozen=True)
class LedgerEntry:
    """An entry of a ledger: its number in the ledger, id, time and payload (JSON text).

    ``duplicate`` is True when :meth:`Ledger.record` found it already recorded.
    """

    number: int
    entry_id: str
    at: float
    text: str
    duplicate: bool = False


class Ledger(ABC):
    """Named ledgers of entries recorded once each; safe under concurrent workers."""

    @abstractmethod
    async def record(self, ledger: str, entry_id: str, at: float, text: str) -> LedgerEntry:
        """Record an entry unless its id is there already; either way return the stored one."""

    @abstractmethod
    async def get(self, ledger: str, entry_id: str) -> LedgerEntry | None:
        """The recorded entry with this id (as a duplicate), or None."""

    @abstractmethod
    async def after(self, ledger: str, number: int = 0, limit: int = 500) -> list[LedgerEntry]:
        """The entries numbered above ``number``, in order, at most ``limit``."""
