"""The report's shape: pydantic models served as JSON and flattened into CSV tables."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class TimeStats(_Model):
    """Response times of one group against the target.

    ``count`` is every clock that ran: the ``answered`` ones plus the ``misses`` (clocks that ran
    past the target and were never stopped by an agent). ``p50``/``p90``/``max`` are over the
    answered times; ``share_within`` is answered-within-target over ``count``, so a miss counts
    against the promise rather than disappearing.
    """

    count: int = 0
    answered: int = 0
    misses: int = 0
    within_target: int = 0
    p50_s: float | None = None
    p90_s: float | None = None
    max_s: float | None = None
    share_within: float | None = None


class ResponseRow(_Model):
    """First-response and every-response figures for one group (an agent, an hour, ...)."""

    key: str
    first: TimeStats
    every: TimeStats


class ResponseTimes(_Model):
    overall: ResponseRow
    by_agent: list[ResponseRow]
    by_shop: list[ResponseRow]
    by_hour: list[ResponseRow]
    """Hour of day in the shop's time zone, "00" to "23"."""
    by_weekday: list[ResponseRow]
    by_staffed: list[ResponseRow]
    """"inside" and "outside" staffed hours, by when the clock started."""
    by_language: list[ResponseRow] = []
    """The shopper's language ("de", "zh"; "(unknown)" for conversations from before it was
    kept), by primary language subtag as routing compares them."""


class AgentLoad(_Model):
    agent_id: str
    conversations: int
    messages: int
    resolved: int
    conversations_per_staffed_hour: float | None


class Workload(_Model):
    conversations: int
    messages: int
    staffed_hours: float
    queued: int
    """Conversations that waited in the queue for a person."""
    abandoned: int
    """The shopper left while waiting, before any agent reply."""
    peak_concurrent: int
    """Most conversations assigned to agents at the same time."""
    by_agent: list[AgentLoad]


class Comment(_Model):
    conversation_id: str
    agent_id: str
    rating: int
    comment: str
    at: float


class AgentRating(_Model):
    agent_id: str
    ratings: int
    average: float | None
    share_satisfied: float | None


class TagCount(_Model):
    tag: str
    count: int


class Quality(_Model):
    ratings: int
    satisfied: int
    """Ratings of 4 or 5."""
    csat: float | None
    """Share of ratings that are 4 or 5."""
    average: float | None
    by_agent: list[AgentRating]
    comments: list[Comment]
    tags: list[TagCount]
    resolved: int
    messages_per_resolved: float | None
    handoffs_per_resolved: float | None


class Question(_Model):
    text: str
    count: int


class BotFigures(_Model):
    conversations: int
    """Conversations the bot spoke in."""
    settled: int
    """The shopper said the answer helped, and no person was needed."""
    settled_share: float | None
    handoffs: int
    handoff_rate: float | None
    unanswered: list[Question]
    """Questions the bot could not answer, most frequent first."""
    order_answers: int = 0
    """"Where is my order" chats the bot settled with the shop's real order data."""


class DayRow(_Model):
    """One day of the range (shop time zone), for the trend charts."""

    day: str
    conversations: int
    first: TimeStats
    csat: float | None
    average_rating: float | None


class AgentQa(_Model):
    """An agent's reviewed chats and their average score, overall and per criterion."""

    agent_id: str
    reviews: int
    score: float | None
    by_criterion: dict[str, float]


class Count(_Model):
    key: str
    count: int


class NoticeFigures(_Model):
    """Notices the shop sent (per kind) and what shoppers chose in answer to delays."""

    sent: int = 0
    by_kind: list[Count] = []
    choices: list[Count] = []


class Report(_Model):
    since: float
    until: float
    time_zone: str
    target_s: float
    generated_at: float
    response: ResponseTimes
    workload: Workload
    quality: Quality
    bot: BotFigures
    days: list[DayRow]
    qa: list[AgentQa] = []
    """QA scores per agent, from managers' reviews (``reports/playbook.py``)."""
    notices: NoticeFigures = NoticeFigures()


class Live(_Model):
    """The state right now."""

    at: float
    agents_online: int
    agents_away: int
    chats_open: int
    queue_length: int
    oldest_wait_s: float | None
