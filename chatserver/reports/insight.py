"""The insight report (service playbook): flagged tone per agent and day, customer effort per topic and agent, and
the product pages that start chats. Reads records from the store; :func:`compute` is pure."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from chatserver.reports._columns import days_between
from chatserver.reports.insight_models import (
    EffortRow,
    InsightReport,
    ProductRow,
    ToneRow,
    TopicCount,
)
from chatserver.store.base import Store

NO_TOPIC = "(none)"
NO_AGENT = "(none)"
FACTOR = 2.0
"""A product stands out above this many times the median chats per product ..."""
MIN_CHATS = 5
"""... and with at least this many chats."""
FIELDS = ("created_at", "agent_id", "faq_ids", "tags", "tone_by_agent", "effort", "context")


def topic_of(record: Mapping[str, Any]) -> str:
    """The chat's topic: the bot's first matched FAQ entry, else its first tag."""
    first = (record.get("faq_ids") or []) + (record.get("tags") or [])
    return str(first[0]) if first else NO_TOPIC


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _tone_row(key: str, counts: list[int]) -> ToneRow:
    messages, flagged = counts
    return ToneRow(key=key, messages=messages, flagged=flagged, share=_share(flagged, messages))


def _effort_row(key: str, scores: list[int]) -> EffortRow:
    return EffortRow(
        key=key,
        answers=len(scores),
        average=round(statistics.fmean(scores), 3) if scores else None,
        share_easy=_share(sum(1 for s in scores if s >= 5), len(scores)),
    )


def compute(
    records: Iterable[Mapping[str, Any]], since: float, until: float, time_zone: str
) -> InsightReport:
    """The report from records (field name -> value) of conversations created in the range."""
    zone = ZoneInfo(time_zone)
    total = [0, 0]
    by_agent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    efforts: list[int] = []
    effort_topic: dict[str, list[int]] = defaultdict(list)
    effort_agent: dict[str, list[int]] = defaultdict(list)
    product_topics: dict[str, Counter[str]] = defaultdict(Counter)
    product_info: dict[str, tuple[str, str]] = {}
    for record in records:
        day = datetime.fromtimestamp(record["created_at"], zone).date().isoformat()
        for agent, (messages, flagged) in (record.get("tone_by_agent") or {}).items():
            for counts in (total, by_agent[agent], by_day[day]):
                counts[0] += messages
                counts[1] += flagged
        topic = topic_of(record)
        effort = record.get("effort")
        if effort is not None:
            efforts.append(effort)
            effort_topic[topic].append(effort)
            effort_agent[record.get("agent_id") or NO_AGENT].append(effort)
        context = record.get("context") or {}
        product = context.get("product_id") or ""
        if product:
            product_topics[product][topic] += 1
            product_info.setdefault(
                product, (context.get("product_name") or "", context.get("url") or "")
            )
    chats = {product: sum(topics.values()) for product, topics in product_topics.items()}
    median = statistics.median(chats.values()) if chats else None
    products = [
        ProductRow(
            product_id=product,
            product_name=product_info[product][0],
            url=product_info[product][1],
            chats=count,
            topics=[
                TopicCount(topic=t, chats=c)
                for t, c in sorted(product_topics[product].items(), key=lambda tc: (-tc[1], tc[0]))
            ],
            stands_out=median is not None and count >= MIN_CHATS and count > FACTOR * median,
        )
        for product, count in sorted(chats.items(), key=lambda item: (-item[1], item[0]))
    ]
    return InsightReport(
        since=since,
        until=until,
        time_zone=time_zone,
        tone=_tone_row("all", total),
        tone_by_agent=[_tone_row(a, c) for a, c in sorted(by_agent.items())],
        tone_by_day=[_tone_row(d, by_day.get(d, [0, 0])) for d in days_between(since, until, zone)],
        effort=_effort_row("all", efforts),
        effort_by_topic=[_effort_row(t, s) for t, s in sorted(effort_topic.items())],
        effort_by_agent=[_effort_row(a, s) for a, s in sorted(effort_agent.items())],
        products=products,
        product_median=median,
        factor=FACTOR,
        min_chats=MIN_CHATS,
    )


def _records(text: str) -> list[dict[str, Any]]:
    rows: list[list[Any]] = orjson.loads(text)
    return [dict(zip(FIELDS, row, strict=True)) for row in rows]


async def build_insight(store: Store, since: float, until: float, time_zone: str) -> InsightReport:
    """The insight report of conversations created in ``[since, until)``."""
    text = await store.records.scan_fields(since, until, FIELDS)
    return await asyncio.to_thread(lambda: compute(_records(text), since, until, time_zone))
