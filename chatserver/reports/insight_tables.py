"""The insight report as flat tables, for the CSV export."""

from __future__ import annotations

from collections.abc import Callable

from chatserver.reports.insight_models import InsightReport
from chatserver.reports.tables import Table


def tone(report: InsightReport) -> Table:
    """Flagged agent messages overall, per agent and per day."""
    groups = [("all", [report.tone]), ("agent", report.tone_by_agent), ("day", report.tone_by_day)]
    header = ["dimension", "key", "messages", "flagged", "share_flagged"]
    return header, [
        [dimension, r.key, r.messages, r.flagged, r.share]
        for dimension, rows in groups
        for r in rows
    ]


def effort(report: InsightReport) -> Table:
    """Customer effort (1-7) overall, per topic and per agent."""
    groups = [
        ("all", [report.effort]),
        ("topic", report.effort_by_topic),
        ("agent", report.effort_by_agent),
    ]
    header = ["dimension", "key", "answers", "average", "share_easy"]
    return header, [
        [dimension, r.key, r.answers, r.average, r.share_easy]
        for dimension, rows in groups
        for r in rows
    ]


def products(report: InsightReport) -> Table:
    """Chats per product page, its topics, and whether it stands out."""
    header = ["product_id", "product_name", "url", "chats", "stands_out", "topics"]
    return header, [
        [
            r.product_id,
            r.product_name,
            r.url,
            r.chats,
            r.stands_out,
            "; ".join(f"{t.topic}: {t.chats}" for t in r.topics),
        ]
        for r in report.products
    ]


INSIGHT_TABLES: dict[str, Callable[[InsightReport], Table]] = {
    "tone": tone,
    "effort": effort,
    "products": products,
}
