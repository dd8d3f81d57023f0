"""Report figures of the service playbook: after-sale resolutions and QA scores per agent.

Resolutions are read from the records of conversations created in the period (``resolution``,
the accepted one, and ``resolution_offer``, the latest offer); QA scores from the reviews of those
conversations. Cost share is the accepted resolutions' cost over their orders' value (amounts in
the currencies the agents entered, added as they are).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from chatserver.domain.playbook import KINDS
from chatserver.reports._stats import mean, share
from chatserver.reports.models import AgentQa
from chatserver.store.base import Store

Table = tuple[list[str], list[list[Any]]]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ResolutionRow(_Model):
    """One problem type (or ``all``): offers, what settled them, and at what cost."""

    problem: str
    offered: int
    settled: int
    by_kind: dict[str, int]
    order_value: float
    cost: float
    cost_share: float | None
    cheapest_settled: int
    cheapest_share: float | None


class ResolutionReport(_Model):
    since: float
    until: float
    currencies: list[str]
    rows: list[ResolutionRow]


def _field(record: Mapping[str, str], name: str) -> Any:
    raw = record.get(name)
    return None if raw is None else json.loads(raw)


def resolution_rows(records: Sequence[Mapping[str, str]]) -> list[ResolutionRow]:
    """Per problem type, then ``all``, of the records with an offer or an accepted resolution."""
    groups: dict[str, list[tuple[dict[str, Any] | None, dict[str, Any] | None]]] = defaultdict(list)
    for record in records:
        offer, accepted = _field(record, "resolution_offer"), _field(record, "resolution")
        if offer is None and accepted is None:
            continue
        problem = (accepted or offer or {}).get("problem", "")
        groups[problem].append((offer, accepted))
    every = [pair for problem in sorted(groups) for pair in groups[problem]]
    rows = [_row(problem, groups[problem]) for problem in sorted(groups)]
    return [*rows, _row("all", every)] if rows else []


def _row(
    problem: str, pairs: Sequence[tuple[dict[str, Any] | None, dict[str, Any] | None]]
) -> ResolutionRow:
    settled = [accepted for _, accepted in pairs if accepted is not None]
    value = round(sum(a["order_value"] for a in settled), 2)
    cost = round(sum(a["amount"] for a in settled), 2)
    cheapest = sum(1 for a in settled if a["cheapest"])
    return ResolutionRow(
        problem=problem,
        offered=len(pairs),
        settled=len(settled),
        by_kind={kind: sum(1 for a in settled if a["kind"] == kind) for kind in KINDS},
        order_value=value,
        cost=cost,
        cost_share=round(cost / value, 4) if value else None,
        cheapest_settled=cheapest,
        cheapest_share=share(cheapest, len(settled)),
    )


async def resolution_report(store: Store, since: float, until: float) -> ResolutionReport:
    """The resolutions of conversations created in ``[since, until)``."""
    records = await store.records.created_between(since, until)
    currencies = sorted(
        {
            str(found["currency"])
            for record in records
            if (found := _field(record, "resolution")) is not None
        }
    )
    rows = await asyncio.to_thread(resolution_rows, records)
    return ResolutionReport(since=since, until=until, currencies=currencies, rows=rows)


def qa_by_agent(reviews: Sequence[str]) -> list[AgentQa]:
    """Each reviewed agent's count and average scores (reviews as stored JSON text)."""
    by_agent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for text in reviews:
        review = json.loads(text)
        by_agent[review["agent_id"]].append(review)
    out = []
    for agent_id in sorted(by_agent):
        mine = by_agent[agent_id]
        criteria: dict[str, list[int]] = defaultdict(list)
        for review in mine:
            for criterion, value in review["scores"].items():
                criteria[criterion].append(value)
        overall = [value for values in criteria.values() for value in values]
        average = mean(sum(overall), len(overall))
        out.append(
            AgentQa(
                agent_id=agent_id,
                reviews=len(mine),
                score=round(average, 2) if average is not None else None,
                by_criterion={c: round(sum(v) / len(v), 2) for c, v in criteria.items()},
            )
        )
    return out


async def qa_report(store: Store, since: float, until: float) -> list[AgentQa]:
    """QA scores per agent, of the reviewed conversations created in ``[since, until)``."""
    return qa_by_agent(await store.reviews.between(since, until))


def resolutions_table(report: ResolutionReport) -> Table:
    header = [
        "problem", "offered", "settled", *KINDS, "order_value", "cost", "cost_share",
        "cheapest_settled", "cheapest_share",
    ]  # fmt: skip
    rows = [
        [
            r.problem,
            r.offered,
            r.settled,
            *(r.by_kind[k] for k in KINDS),
            r.order_value,
            r.cost,
            r.cost_share,
            r.cheapest_settled,
            r.cheapest_share,
        ]
        for r in report.rows
    ]
    return header, rows
