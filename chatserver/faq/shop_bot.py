"""The FAQ bot as the hub's routing hook: in charge outside hours or when the queue is long.

It replies in the shopper's language (detected from the text, the widget's locale helping on
short lines): FAQ answers from that language's FAQ, its own texts from shop.toml's per-locale
texts, and "back at" times formatted for that locale in the shopper's time zone (Babel; the shop's
when the widget sent none).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, get_timezone_name

from chatserver.domain.bot import BotTurn
from chatserver.domain.hours import StaffedHours
from chatserver.domain.languages import language_key
from chatserver.domain.shop import ShopSettings, load_shop
from chatserver.faq import FaqBot, load_faq
from chatserver.faq.bot import BotReply
from chatserver.faq.detect import SHORT

_LETTER = re.compile(r"[^\W\d_]")
_CJK = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff]")


def back_at(opening: datetime, lang: str) -> str:
    """When staff are back, for a shopper of `lang`: "Montag 14:00 MEZ", "月曜日 14:00 CET".

    The day name and time come from the locale's data; the zone is its short name where the
    locale has one ("MEZ"), else the zone's own abbreviation ("CET"), else its long name.
    """
    locale = babel_locale(lang)
    when = format_datetime(opening, "EEEE HH:mm", tzinfo=opening.tzinfo, locale=locale)
    zone = get_timezone_name(opening, width="short", locale=locale)
    if not zone.isalpha():
        abbreviation = opening.tzname() or ""
        zone = (
            abbreviation
            if abbreviation.isalpha()
            else get_timezone_name(
                opening.tzinfo, width="long", locale=locale, zone_variant="generic"
            )
        )
    return f"{when} {zone}"


def babel_locale(lang: str) -> Locale:
    """Babel's locale for a language code ("zh-CN" -> zh_CN); English when Babel lacks it."""
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


class ShopBot:
    """Answers from the shop's FAQ; hands off to a person whenever it is unsure or asked to.

    Args:
        faq: the matcher over the shop's FAQ.
        shop: the shop's settings (hours, texts, languages, queue threshold).
        target_s: the response target; a longer estimated wait puts the bot in charge.
    """

    def __init__(self, faq: FaqBot, shop: ShopSettings, target_s: float) -> None:
        self.faq = faq
        self.shop = shop
        self.hours: StaffedHours = shop.staffed_hours()
        self.target_s = target_s

    @classmethod
    def from_dir(cls, faq_dir: Path, target_s: float) -> ShopBot:
        """Load ``faq.toml`` (and its ``faq.<lang>.toml`` files) and ``shop.toml``."""
        shop = load_shop(faq_dir / "shop.toml")
        faq = FaqBot(
            load_faq(faq_dir / "faq.toml"),
            languages=shop.languages,
            missing=shop.missing_language,
        )
        return cls(faq, shop, target_s)

    def is_staffed(self, now: float) -> bool:
        return self.hours.is_open(datetime.fromtimestamp(now, UTC))

    def in_charge(self, now: float, queue_length: int, estimated_wait_s: float) -> bool:
        if not self.is_staffed(now):
            return True
        threshold = self.shop.queue_threshold
        return estimated_wait_s > self.target_s or (threshold > 0 and queue_length >= threshold)

    def reply(
        self, text: str, locale: str, now: float, people_online: bool = False, timezone: str = ""
    ) -> BotTurn:
        decision = self.faq.reply(text, locale)
        unread = self._unread_language(locale)
        if unread:
            decision = self._without_faq(decision, unread)
        lang = decision.lang
        texts = self.shop.texts_for(lang)
        match decision.kind:
            case "answer":
                answer = decision.answer or ""
                if decision.in_english:
                    answer = f"{self.shop.english_note(lang)}\n\n{answer}"
                return BotTurn(
                    answer, faq_id=decision.entry_id, title=decision.title or "", lang=lang
                )
            case "greeting":
                return BotTurn(texts.greeting)
            case "thanks":
                return BotTurn(texts.thanks)
        if people_online:
            said = texts.handoff if decision.kind == "handoff" else texts.abstain
            return BotTurn(
                said, handoff=True, asked_for_person=decision.kind == "handoff", lang=lang
            )
        # Nobody online, staffed hours or not: no promise of a person now, an e-mail offer instead.
        back = self.back_at(now, lang, timezone)
        return BotTurn(
            f"{texts.away} ({back})" if back else texts.away,
            handoff=True,
            ask_email=True,
            asked_for_person=decision.kind == "handoff",
            lang=lang,
        )

    def language(self, text: str, locale: str) -> str:
        """The shopper's language from their text; "" when it is too short to tell (under
        `SHORT` letters of a Latin script: Chinese and Japanese script tells at any length)."""
        letters = len(_LETTER.findall(text))
        if (
            letters == 0
            or self._unread_language(locale)
            or (letters < SHORT and not _CJK.search(text))
        ):
            return ""
        return self.faq.language(text, locale)

    def _unread_language(self, locale: str) -> str:
        """The widget's language when the shop writes its texts in it but the bot cannot read it
        (no FAQ or word data: "sv", "da", "ko"), else "". Such a shopper's lines read as another
        language ("Var är min beställning?" as German), so the widget's tells theirs."""
        key = self.shop.texts_language(locale)
        if key is None or language_key(key) in {language_key(c) for c in self.faq.languages}:
            return ""
        return key

    def _without_faq(self, decision: BotReply, lang: str) -> BotReply:
        """The decision for a shopper of a language the FAQ lacks: spoken to in it, an answer in
        English after the note, or a hand-off, as the shop chooses (`missing_language`)."""
        if decision.kind != "answer" or decision.entry_id is None:
            return decision.model_copy(update={"lang": lang})
        english = self.faq.faq.get(decision.entry_id)
        if self.shop.missing_language == "handoff" or english is None:
            return BotReply(kind="handoff", confidence=decision.confidence, lang=lang)
        return decision.model_copy(
            update={
                "lang": lang,
                "title": english.title,
                "answer": english.answer,
                "in_english": True,
            }
        )

    def texts(self, locale: str) -> tuple[str, str]:
        texts = self.shop.texts_for(locale)
        return texts.greeting, texts.away

    def back_at(self, now: float, locale: str, timezone: str) -> str:
        """The next shift's start for this shopper; "" while staffed (nobody knows when) or none."""
        at = datetime.fromtimestamp(now, UTC)
        if self.is_staffed(now):
            return ""
        opening = self.hours.next_opening(at)
        if opening is None:
            return ""
        return back_at(opening.astimezone(_zone(timezone) or opening.tzinfo), locale)


def _zone(name: str) -> ZoneInfo | None:
    """The shopper's time zone, if the widget sent a valid IANA name."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None
