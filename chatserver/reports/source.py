"""Reads what a report needs from the backend, then hands it to the pure computation."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chatserver.backends.base import Backend
from chatserver.config import Settings
from chatserver.reports.compute import ReportSettings, bot_involved, compute
from chatserver.reports.models import Live, Report
from chatserver.shop import load_shop


def report_settings(settings: Settings) -> ReportSettings:
    """The target from the server's settings; time zone and staffed hours from the shop's file."""
    path = Path(settings.faq_dir) / "shop.toml"
    if not path.is_file():
        return ReportSettings(target_s=settings.response_target_s)
    shop = load_shop(path)
    return ReportSettings(
        target_s=settings.response_target_s, time_zone=shop.time_zone, hours=shop.staffed_hours()
    )


def day_range(first: date, last: date, time_zone: str) -> tuple[float, float]:
    """``[since, until)`` covering the days ``first`` to ``last`` inclusive in the shop's zone."""
    zone = ZoneInfo(time_zone)
    since = datetime.combine(first, time(), tzinfo=zone)
    until = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    return since.timestamp(), until.timestamp()


async def load_rows(backend: Backend, since: float, until: float) -> list[list[Any]]:
    """The ``REPORT_FIELDS`` values of every conversation created in ``[since, until)``."""
    texts = await backend.scan_conversations(since, until)
    # One parse of one string is much faster than a parse per record.
    rows: list[list[Any]] = json.loads("[" + ",".join(texts) + "]")
    return rows


async def build_report(
    backend: Backend, settings: ReportSettings, since: float, until: float, now: float
) -> Report:
    """The report of conversations created in ``[since, until)``, as it stands at ``now``."""
    rows = await load_rows(backend, since, until)
    bot_logs = await backend.read_logs([row[0] for row in rows if bot_involved(row)])
    return compute(rows, bot_logs, settings, since, until, now)


async def live(backend: Backend, now: float) -> Live:
    """Agents online, chats open, the queue and its oldest wait, from the shared store."""
    presence = await backend.presence()
    queue = await backend.queue()
    started = []
    for conversation_id in queue:
        record = await backend.get_conversation(conversation_id)
        if record is not None:
            at = json.loads(record.get("queued_at", "null")) or json.loads(record["created_at"])
            started.append(at)
    oldest = round(max(0.0, now - min(started)), 3) if started else None
    chats = await backend.agent_chats()
    return Live(
        at=now,
        agents_online=sum(1 for a in presence if a.status == "online"),
        agents_away=sum(1 for a in presence if a.status == "away"),
        chats_open=sum(len(held) for held in chats.values()),
        queue_length=len(queue),
        oldest_wait_s=oldest,
    )
