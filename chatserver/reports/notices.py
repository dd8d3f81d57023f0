"""Report figures of the shop's notices: how many of each kind were sent, and what shoppers chose
in answer to delays, counted from the ``notices`` and ``choices`` ledgers."""

from __future__ import annotations

import json
from collections import Counter

from chatserver.core.notices import CHOICES, DELAY_CHOICES, NOTICES
from chatserver.domain import protocol as p
from chatserver.reports.models import Count, NoticeFigures
from chatserver.store.notice_ports import Ledger, LedgerEntry

KINDS: tuple[p.NoticeKind, ...] = ("confirmed", "shipped", "delayed", "refund")
_PAGE = 1000


async def _entries(ledger: Ledger, name: str, since: float, until: float) -> list[LedgerEntry]:
    """The ledger's entries recorded in ``[since, until)`` (read page by page)."""
    found, number = [], 0
    while page := await ledger.after(name, number, _PAGE):
        found += [e for e in page if since <= e.at < until]
        number = page[-1].number
    return found


async def notice_figures(ledger: Ledger, since: float, until: float) -> NoticeFigures:
    """Notices sent per kind and choices made per choice, every kind and choice listed."""
    kinds = Counter(
        json.loads(e.text)["kind"] for e in await _entries(ledger, NOTICES, since, until)
    )
    chosen = Counter(
        json.loads(e.text)["choice"] for e in await _entries(ledger, CHOICES, since, until)
    )
    return NoticeFigures(
        sent=sum(kinds.values()),
        by_kind=[Count(key=k, count=kinds[k]) for k in KINDS],
        choices=[Count(key=c, count=chosen[c]) for c in DELAY_CHOICES],
    )
