"""The shop's playbook settings: the after-sale resolution ladder, role limits and the QA rubric.

They are one configuration document, ``playbook.toml``, edited on /admin and kept through the
``ShopConfig`` port like the shop's other documents::

    [ladder]                      # percent of the order value, lowest and highest
    explain = [0, 0]
    coupon = [10, 20]
    partial_refund = [20, 50]
    resend = [65, 80]
    full_refund = [100, 100]

    [limits]                      # the highest percent each role may offer
    agent = 50
    manager = 80
    admin = 100

    [review]
    sample_per_agent = 2
    rubric = ["accuracy", "attitude", "process", "resolution"]
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chatserver.domain.protocol import Percent, Problem, ResolutionKind

DOCUMENT = "playbook.toml"

KINDS: tuple[ResolutionKind, ...] = ("explain", "coupon", "partial_refund", "resend", "full_refund")

FAQ_PROBLEMS: dict[str, Problem] = {
    "damaged-item": "damaged",
    "wrong-item": "wrong",
    "shipping-delay": "late",
    "lost-package": "late",
    "missing-item": "incomplete",
}
"""The bot's FAQ entries that mean an after-sale problem."""
TAG_PROBLEMS: dict[str, Problem] = {
    "damaged": "damaged",
    "wrong-item": "wrong",
    "late": "late",
    "incomplete": "incomplete",
}
"""The agents' tags that mean an after-sale problem."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ladder(_Model):
    """Each resolution's range, percent of the order value (``[lowest, highest]``)."""

    explain: tuple[Percent, Percent] = (0, 0)
    coupon: tuple[Percent, Percent] = (10, 20)
    partial_refund: tuple[Percent, Percent] = (20, 50)
    resend: tuple[Percent, Percent] = (65, 80)
    full_refund: tuple[Percent, Percent] = (100, 100)

    @model_validator(mode="after")
    def _ordered(self) -> Ladder:
        for kind in KINDS:
            low, high = getattr(self, kind)
            if low > high:
                raise ValueError(f"{kind}: the lowest percent {low} is above the highest {high}")
        return self

    def steps(self) -> list[tuple[ResolutionKind, float, float]]:
        """``(kind, lowest, highest)`` cheapest first."""
        return sorted(((k, *getattr(self, k)) for k in KINDS), key=lambda s: (s[1], s[2]))


class Limits(_Model):
    """The highest percent of the order value each role may offer."""

    agent: Percent = 50
    manager: Percent = 80
    admin: Percent = 100


class ReviewSettings(_Model):
    """The quality review: chats sampled per agent per week, and the rubric's criteria."""

    sample_per_agent: Annotated[int, Field(ge=0, le=50)] = 2
    rubric: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]],
        Field(min_length=1, max_length=12),
    ] = ["accuracy", "attitude", "process", "resolution"]

    @model_validator(mode="after")
    def _distinct(self) -> ReviewSettings:
        if len(set(self.rubric)) != len(self.rubric):
            raise ValueError("rubric: each criterion once")
        return self


class Playbook(_Model):
    """The whole ``playbook.toml``; every part has the shipped defaults."""

    ladder: Ladder = Ladder()
    limits: Limits = Limits()
    review: ReviewSettings = ReviewSettings()

    def limit(self, role: str) -> float:
        """The highest percent a role may offer (unknown roles: the agent's)."""
        return float(getattr(self.limits, role if role in ("manager", "admin") else "agent"))


def parse_playbook(text: str | None) -> Playbook:
    """A ``playbook.toml`` text (None or empty: the defaults). Raises ValueError."""
    if not text:
        return Playbook()
    try:
        return Playbook.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{DOCUMENT}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        raise ValueError(f"{DOCUMENT}: {exc.errors()[0]['msg']}") from exc


def problem_of(faq_ids: Sequence[str], tags: Sequence[str]) -> Problem | None:
    """The after-sale problem a conversation is about: an agent's tag wins, else the bot's latest
    matched FAQ entry; None when it is about none."""
    for tag in tags:
        if tag in TAG_PROBLEMS:
            return TAG_PROBLEMS[tag]
    for faq_id in reversed(faq_ids):
        if faq_id in FAQ_PROBLEMS:
            return FAQ_PROBLEMS[faq_id]
    return None


def amount(order_value: float, percent: float) -> float:
    """What a resolution costs the shop, rounded to cents."""
    return round(order_value * percent / 100, 2)
