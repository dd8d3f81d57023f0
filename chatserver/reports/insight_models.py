"""The insight report's shape: tone, customer effort and product insight, served as JSON."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ToneRow(_Model):
    """Agent messages of one group (an agent, a day) and how many the tone rules flagged."""

    key: str
    messages: int
    flagged: int
    share: float | None
    """``flagged / messages``; none without messages."""


class EffortRow(_Model):
    """Customer-effort answers (1 very hard to 7 very easy) of one group (a topic, an agent)."""

    key: str
    answers: int
    average: float | None
    share_easy: float | None
    """Answers of 5 to 7."""


class TopicCount(_Model):
    topic: str
    chats: int


class ProductRow(_Model):
    """Chats started on one product's page, by topic, and whether its count stands out."""

    product_id: str
    product_name: str
    url: str
    chats: int
    topics: list[TopicCount]
    stands_out: bool


class InsightReport(_Model):
    """Tone, effort and products of the conversations created in ``[since, until)``.

    Topic: the first FAQ entry the bot answered with, else the chat's first tag, else "(none)".
    A product stands out when its chats are at least ``min_chats`` and more than
    ``factor`` times the median chats per product (page views are not known, so the rate is per
    product that started any chat in the range).
    """

    since: float
    until: float
    time_zone: str
    tone: ToneRow
    tone_by_agent: list[ToneRow]
    tone_by_day: list[ToneRow]
    effort: EffortRow
    effort_by_topic: list[EffortRow]
    effort_by_agent: list[EffortRow]
    products: list[ProductRow]
    product_median: float | None
    factor: float
    min_chats: int
