"""The report as flat tables: the CSV export, and the headline the ``report`` command prints."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from chatserver.reports.models import Report, ResponseRow, TimeStats

Table = tuple[list[str], list[list[Any]]]

_STATS = list(TimeStats.model_fields)


def _stats_cells(stats: TimeStats) -> list[Any]:
    return [getattr(stats, name) for name in _STATS]


def response(report: Report) -> Table:
    """Every response-time breakdown, one row per group."""
    header = ["dimension", "key", *(f"first_{n}" for n in _STATS), *(f"every_{n}" for n in _STATS)]
    groups: list[tuple[str, list[ResponseRow]]] = [
        ("all", [report.response.overall]),
        ("agent", report.response.by_agent),
        ("shop", report.response.by_shop),
        ("staffed", report.response.by_staffed),
        ("weekday", report.response.by_weekday),
        ("hour", report.response.by_hour),
    ]
    rows = [
        [dimension, row.key, *_stats_cells(row.first), *_stats_cells(row.every)]
        for dimension, rows_ in groups
        for row in rows_
    ]
    return header, rows


def languages(report: Report) -> Table:
    """Response times per shopper language."""
    header = ["language", *(f"first_{n}" for n in _STATS), *(f"every_{n}" for n in _STATS)]
    rows = [
        [row.key, *_stats_cells(row.first), *_stats_cells(row.every)]
        for row in report.response.by_language
    ]
    return header, rows


def agents(report: Report) -> Table:
    """Workload and ratings per agent."""
    ratings = {r.agent_id: r for r in report.quality.by_agent}
    header = [
        "agent_id", "conversations", "messages", "resolved", "conversations_per_staffed_hour",
        "ratings", "average_rating", "share_satisfied", "qa_reviews", "qa_score",
    ]  # fmt: skip
    qa = {q.agent_id: q for q in report.qa}
    rows = []
    for load in report.workload.by_agent:
        rated = ratings.get(load.agent_id)
        rows.append(
            [
                load.agent_id,
                load.conversations,
                load.messages,
                load.resolved,
                load.conversations_per_staffed_hour,
                rated.ratings if rated else 0,
                rated.average if rated else None,
                rated.share_satisfied if rated else None,
                qa[load.agent_id].reviews if load.agent_id in qa else 0,
                qa[load.agent_id].score if load.agent_id in qa else None,
            ]
        )
    return header, rows


def days(report: Report) -> Table:
    header = ["day", "conversations", *(f"first_{n}" for n in _STATS), "csat", "average_rating"]
    rows = [
        [d.day, d.conversations, *_stats_cells(d.first), d.csat, d.average_rating]
        for d in report.days
    ]
    return header, rows


def tags(report: Report) -> Table:
    return ["tag", "count"], [[t.tag, t.count] for t in report.quality.tags]


def comments(report: Report) -> Table:
    header = ["conversation_id", "agent_id", "rating", "comment", "at"]
    rows = [
        [c.conversation_id, c.agent_id, c.rating, c.comment, c.at] for c in report.quality.comments
    ]
    return header, rows


def unanswered(report: Report) -> Table:
    return ["question", "count"], [[q.text, q.count] for q in report.bot.unanswered]


def summary(report: Report) -> Table:
    """The headline figures, one per row."""
    first, every = report.response.overall.first, report.response.overall.every
    staffed = {row.key: row.first.share_within for row in report.response.by_staffed}
    figures: list[tuple[str, Any]] = [
        ("target_s", report.target_s),
        ("conversations", report.workload.conversations),
        ("first_response_count", first.count),
        ("first_response_p50_s", first.p50_s),
        ("first_response_p90_s", first.p90_s),
        ("first_response_max_s", first.max_s),
        ("first_response_within_target", first.share_within),
        ("first_response_misses", first.misses),
        ("first_response_within_target_inside_hours", staffed.get("inside")),
        ("first_response_within_target_outside_hours", staffed.get("outside")),
        ("every_response_count", every.count),
        ("every_response_p50_s", every.p50_s),
        ("every_response_p90_s", every.p90_s),
        ("every_response_within_target", every.share_within),
        ("abandoned_while_waiting", report.workload.abandoned),
        ("csat", report.quality.csat),
        ("average_rating", report.quality.average),
        ("ratings", report.quality.ratings),
        ("bot_conversations", report.bot.conversations),
        ("bot_settled_share", report.bot.settled_share),
        ("bot_handoff_rate", report.bot.handoff_rate),
        ("bot_order_answers", report.bot.order_answers),
    ]
    return ["figure", "value"], [[name, value] for name, value in figures]


def notices(report: Report) -> Table:
    """Notices sent per kind, then choices made per choice."""
    rows = [["notice", c.key, c.count] for c in report.notices.by_kind]
    rows += [["choice", c.key, c.count] for c in report.notices.choices]
    return ["what", "key", "count"], rows


TABLES: dict[str, Callable[[Report], Table]] = {
    "summary": summary,
    "response": response,
    "languages": languages,
    "agents": agents,
    "days": days,
    "tags": tags,
    "comments": comments,
    "unanswered": unanswered,
    "notices": notices,
}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(cell: Any) -> Any:
    """A cell a spreadsheet shows as text: text that starts like a formula gets a leading ``'``.

    Shoppers' comments and agents' tags reach managers' spreadsheets (OWASP "CSV injection").
    """
    if cell is None:
        return ""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def to_csv(table: Table) -> str:
    """A table as CSV text (empty cells for missing figures, formulas neutralised)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header, rows = table
    writer.writerow(header)
    writer.writerows([[safe_cell(cell) for cell in row] for row in rows])
    return out.getvalue()


def to_text(table: Table) -> str:
    """A table aligned for a terminal."""
    header, rows = table
    cells = [header, *[["-" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )
