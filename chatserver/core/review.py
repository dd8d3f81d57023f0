"""The quality review: which closed chats managers review, and their scores on the shop's rubric.

The queue of a week holds a random sample of each agent's closed chats (the same sample every
time for that week: the seed is the week and the agent), plus every chat rated 1-2 and every chat
with an agent message the tone coach flagged (``tone_flagged`` on the record). Managers and
admins score a chat on each criterion of the rubric (1-5) and comment; nobody scores a chat they
handled. The agent reads their own reviews.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatserver.core.journal import Journal
from chatserver.domain.errors import InvalidFrame, NotAllowed
from chatserver.domain.playbook import ReviewSettings
from chatserver.store.review_ports import Reviews

Reason = Literal["sample", "low_rating", "tone"]
REVIEWERS = ("manager", "admin")


class QueueItem(BaseModel):
    """A closed chat to review, and why it is in the queue."""

    conversation_id: str
    agent_id: str
    created_at: float
    closed_at: float | None
    rating: int | None
    tone_flagged: int
    reasons: list[Reason]
    reviewed: bool = False
    average: float | None = None


class Scoring(BaseModel):
    """A manager's scores (criterion -> 1-5) and comment, as sent."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[str, Annotated[int, Field(ge=1, le=5)]]
    comment: Annotated[str, Field(max_length=2000)] = ""


class Review(BaseModel):
    """A stored review."""

    conversation_id: str
    agent_id: str
    reviewer_id: str
    reviewer_name: str = ""
    at: float
    created_at: float
    scores: dict[str, int]
    comment: str = ""
    average: float


def _value(record: Mapping[str, str], name: str, default: Any = None) -> Any:
    raw = record.get(name)
    return default if raw is None else json.loads(raw)


def build_queue(records: Sequence[Mapping[str, str]], per_agent: int, week: str) -> list[QueueItem]:
    """The review queue of a week's closed chats (store records), oldest first.

    ``week`` seeds the sample (with each agent's id), so a week's sample never changes.
    """
    closed = [r for r in records if _value(r, "status") == "closed" and _value(r, "agent_id")]
    by_agent: dict[str, list[str]] = defaultdict(list)
    for record in closed:
        by_agent[_value(record, "agent_id")].append(_value(record, "id"))
    sampled: set[str] = set()
    for agent_id, ids in by_agent.items():
        rng = random.Random(f"{week}:{agent_id}")
        sampled.update(rng.sample(sorted(ids), min(per_agent, len(ids))))
    items = []
    for record in closed:
        conversation_id, rating = _value(record, "id"), _value(record, "rating")
        flagged = int(_value(record, "tone_flagged", 0) or 0)
        reasons: list[Reason] = []
        if conversation_id in sampled:
            reasons.append("sample")
        if rating is not None and rating <= 2:
            reasons.append("low_rating")
        if flagged > 0:
            reasons.append("tone")
        if reasons:
            items.append(
                QueueItem(
                    conversation_id=conversation_id,
                    agent_id=_value(record, "agent_id"),
                    created_at=_value(record, "created_at"),
                    closed_at=_value(record, "closed_at"),
                    rating=rating,
                    tone_flagged=flagged,
                    reasons=reasons,
                )
            )
    return sorted(items, key=lambda i: (i.created_at, i.conversation_id))


class Reviewer:
    """Review queues, scores and an agent's own reviews."""

    def __init__(self, journal: Journal, records_between: Any, reviews: Reviews) -> None:
        self._journal = journal
        self._records_between = records_between
        self._reviews = reviews

    async def queue(
        self, since: float, until: float, week: str, settings: ReviewSettings
    ) -> list[QueueItem]:
        """The queue of chats created in ``[since, until)``, each marked if reviewed."""
        records = await self._records_between(since, until)
        # A busy week is tens of thousands of records: parse them off the event loop.
        items = await asyncio.to_thread(build_queue, records, settings.sample_per_agent, week)
        done = {r.conversation_id: r for r in await self.between(since, until)}
        for item in items:
            review = done.get(item.conversation_id)
            if review is not None:
                item.reviewed, item.average = True, review.average
        return items

    async def score(
        self,
        conversation_id: str,
        reviewer_id: str,
        reviewer_name: str,
        role: str,
        scoring: Scoring,
        settings: ReviewSettings,
        now: float,
    ) -> Review:
        """Store a review of a closed chat.

        Raises:
            NotAllowed: the reviewer is an agent, or handled the chat; the chat is not closed.
            InvalidFrame: the scores are not exactly the rubric's criteria.
            NotFound: no such conversation.
        """
        if role not in REVIEWERS:
            raise NotAllowed("only managers and admins score chats")
        conversation = await self._journal.get(conversation_id)
        if conversation.agent_id is None or conversation.status != "closed":
            raise NotAllowed("only closed chats that an agent handled are reviewed")
        if conversation.agent_id == reviewer_id:
            raise NotAllowed("nobody scores their own chat")
        missing = [c for c in settings.rubric if c not in scoring.scores]
        extra = [c for c in scoring.scores if c not in settings.rubric]
        if missing or extra:
            raise InvalidFrame(
                f"score each criterion of the rubric ({', '.join(settings.rubric)}) once"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; not in the rubric: {', '.join(extra)}" if extra else "")
            )
        scores = {c: scoring.scores[c] for c in settings.rubric}
        review = Review(
            conversation_id=conversation.id,
            agent_id=conversation.agent_id,
            reviewer_id=reviewer_id,
            reviewer_name=reviewer_name,
            at=now,
            created_at=conversation.created_at,
            scores=scores,
            comment=scoring.comment,
            average=round(sum(scores.values()) / len(scores), 2),
        )
        await self._reviews.put(
            conversation.id,
            conversation.agent_id,
            conversation.created_at,
            review.model_dump_json(),
        )
        return review

    async def get(self, conversation_id: str) -> Review | None:
        text = await self._reviews.get(conversation_id)
        return Review.model_validate_json(text) if text else None

    async def of_agent(self, agent_id: str, limit: int = 100) -> list[Review]:
        """An agent's reviews, newest chat first."""
        return [
            Review.model_validate_json(t) for t in await self._reviews.of_agent(agent_id, limit)
        ]

    async def between(self, since: float, until: float) -> list[Review]:
        """The reviews of chats created in ``[since, until)``."""
        return [Review.model_validate_json(t) for t in await self._reviews.between(since, until)]
