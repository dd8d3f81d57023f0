"""The FAQ bot as the hub's routing hook: in charge outside hours or when the queue is long."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from chatserver.domain.bot import BotTurn
from chatserver.domain.hours import StaffedHours
from chatserver.domain.shop import ShopSettings, load_shop
from chatserver.faq import FaqBot


class ShopBot:
    """Answers from the shop's FAQ; hands off to a person whenever it is unsure or asked to.

    Args:
        faq: the matcher over the shop's FAQ.
        shop: the shop's settings (hours, texts, queue threshold).
        target_s: the response target; a longer estimated wait puts the bot in charge.
    """

    def __init__(self, faq: FaqBot, shop: ShopSettings, target_s: float) -> None:
        self.faq = faq
        self.shop = shop
        self.hours: StaffedHours = shop.staffed_hours()
        self.target_s = target_s

    @classmethod
    def from_dir(cls, faq_dir: Path, target_s: float) -> ShopBot:
        """Load ``faq.toml`` and ``shop.toml`` from a shop's folder."""
        return cls(
            FaqBot.from_path(faq_dir / "faq.toml"), load_shop(faq_dir / "shop.toml"), target_s
        )

    def is_staffed(self, now: float) -> bool:
        return self.hours.is_open(datetime.fromtimestamp(now, UTC))

    def in_charge(self, now: float, queue_length: int, estimated_wait_s: float) -> bool:
        if not self.is_staffed(now):
            return True
        threshold = self.shop.queue_threshold
        return estimated_wait_s > self.target_s or (threshold > 0 and queue_length >= threshold)

    def reply(self, text: str, locale: str, now: float) -> BotTurn:
        texts = self.shop.texts_for(locale)
        decision = self.faq.reply(text)
        match decision.kind:
            case "answer":
                return BotTurn(
                    decision.answer or "", faq_id=decision.entry_id, title=decision.title or ""
                )
            case "greeting":
                return BotTurn(texts.greeting)
            case "thanks":
                return BotTurn(texts.thanks)
        if self.is_staffed(now):
            said = texts.handoff if decision.kind == "handoff" else texts.abstain
            return BotTurn(said, handoff=True, asked_for_person=decision.kind == "handoff")
        return BotTurn(
            f"{texts.away}{self._back_at(now)}",
            handoff=True,
            ask_email=True,
            asked_for_person=decision.kind == "handoff",
        )

    def texts(self, locale: str) -> tuple[str, str]:
        texts = self.shop.texts_for(locale)
        return texts.greeting, texts.away

    def _back_at(self, now: float) -> str:
        opening = self.hours.next_opening(datetime.fromtimestamp(now, UTC))
        if opening is None:
            return ""
        return f" ({opening.strftime('%A %H:%M')} {opening.tzname()})"
