"""Swedish, Danish and Korean shoppers: the shop's texts in their language though the FAQ has none.

The widget speaks 13 languages; the demo FAQ ten. The bot cannot read sv, da or ko (no FAQ and no
word data), so their lines are taken to be in the widget's language, the shop's own texts (greeting,
away, hand-off, e-mail offer, closings, order answers) are theirs, and FAQ answers fall back as the
shop chooses: English after the short note, or a hand-off.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatserver.domain import protocol as p
from chatserver.domain.shop import load_shop
from chatserver.faq.check import check_faq
from chatserver.faq.shop_bot import ShopBot
from chatserver.orders.texts import day, languages, texts_for
from chatserver.playbook.closings import closing_languages, closings_for
from tests.conftest import ServerFactory

REPO = Path(__file__).resolve().parent.parent
FAQ = REPO / "faq_data"
WIDGET_LANGUAGES = {
    path.stem for path in (REPO / "chatserver" / "web" / "static" / "locales").glob("*.json")
}
UNREAD = ("sv", "da", "ko")  # the widget speaks them, the FAQ does not
# Monday 2 March 2026, 22:00 in Berlin: after the shift; people are back on Tuesday at 08:00.
MONDAY_NIGHT = datetime(2026, 3, 2, 21, 0, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def bot() -> ShopBot:
    return ShopBot.from_dir(FAQ, target_s=60)


def test_every_widget_language_has_the_shops_texts_closings_and_order_answers() -> None:
    shop = load_shop(FAQ / "shop.toml")
    assert set(shop.texts) == WIDGET_LANGUAGES
    assert set(closing_languages()) == WIDGET_LANGUAGES
    assert set(languages()) == WIDGET_LANGUAGES
    english = shop.texts["en"]
    for lang in UNREAD:
        texts = shop.texts_for(lang + "-XX")
        for field in ("greeting", "thanks", "away", "handoff", "abstain", "english_note"):
            assert getattr(texts, field) != getattr(english, field), (lang, field)
        assert texts_for(lang).ask != texts_for("en").ask
        assert closings_for(lang).closings[0].text != closings_for("en").closings[0].text


@pytest.mark.parametrize(
    ("locale", "line", "greeting"),
    [
        ("sv-SE", "Var är min beställning?", "Hej! Jag är Kitebays assistent"),
        ("da-DK", "Hvor er min ordre?", "Hej! Jeg er Kitebays assistent"),
        ("ko-KR", "주문한 상품은 언제 도착하나요?", "안녕하세요! Kitebay 도우미입니다"),
    ],
)
def test_the_bot_speaks_the_widgets_language_when_it_cannot_read_the_shoppers(
    bot: ShopBot, locale: str, line: str, greeting: str
) -> None:
    shop = bot.shop
    lang = locale.split("-")[0]
    assert bot.texts(locale)[0].startswith(greeting)
    # Their lines read as other languages (Swedish as German): the widget's language is theirs.
    assert bot.language(line, locale) == ""
    turn = bot.reply(line, locale, MONDAY_NIGHT, people_online=True)
    assert turn.handoff and turn.lang == lang
    assert turn.text in (shop.texts[lang].abstain, shop.texts[lang].handoff)
    assert bot.reply("agent", locale, MONDAY_NIGHT, people_online=True).text == (
        shop.texts[lang].handoff
    )


def test_a_faq_answer_is_english_after_the_note_in_their_language(bot: ShopBot) -> None:
    for locale, line in (("da-DK", "Kan jeg betale med PayPal?"), ("ko", "PayPal 결제 되나요?")):
        turn = bot.reply(line, locale, MONDAY_NIGHT, people_online=True)
        note = bot.shop.texts[locale.split("-")[0]].english_note
        assert (turn.faq_id, turn.handoff) == ("payment-methods", False)
        assert turn.text.startswith(f"{note}\n\nWe accept Visa"), turn.text


def test_a_shop_that_hands_off_missing_answers_hands_sv_da_ko_off(bot: ShopBot) -> None:
    strict = ShopBot(bot.faq, bot.shop.model_copy(update={"missing_language": "handoff"}), 60)
    turn = strict.reply("Kan jeg betale med PayPal?", "da", MONDAY_NIGHT, people_online=True)
    assert turn.handoff and turn.asked_for_person and turn.faq_id is None
    assert turn.text == bot.shop.texts["da"].handoff


@pytest.mark.parametrize(
    ("locale", "zone", "back"),
    [
        ("sv-SE", "Europe/Stockholm", "tisdag 08:00 CET"),
        ("da", "Europe/Copenhagen", "tirsdag 08:00 CET"),
        ("ko-KR", "Asia/Seoul", "화요일 16:00 KST"),
    ],
)
def test_back_at_times_are_written_by_babel_in_their_language_and_zone(
    bot: ShopBot, locale: str, zone: str, back: str
) -> None:
    assert bot.back_at(MONDAY_NIGHT, locale, zone) == back
    turn = bot.reply("Var är min beställning?", locale, MONDAY_NIGHT, timezone=zone)
    away = bot.shop.texts[locale.split("-")[0]].away
    assert turn.ask_email and turn.text == f"{away} ({back})"


def test_order_dates_are_written_in_their_language() -> None:
    when = datetime(2026, 3, 12).date()
    assert [day(when, lang) for lang in UNREAD] == [
        "12 mars 2026",
        "12. marts 2026",
        "2026년 3월 12일",
    ]


def test_faq_check_reports_a_declared_language_without_a_faq(tmp_path: Path) -> None:
    shop = (FAQ / "shop.toml").read_text(encoding="utf-8")
    declared = shop.replace('    "zh-CN",\n]', '    "zh-CN",\n    "sv",\n    "da",\n    "ko",\n]')
    assert declared != shop
    (tmp_path / "shop.toml").write_text(declared, encoding="utf-8")
    (tmp_path / "faq.toml").write_text(
        '[[entry]]\nid = "returns"\ncategory = "returns"\ntitle = "Returns"\n'
        'answer = "30 days."\nquestions = ["can i return it", "return policy"]\n',
        encoding="utf-8",
    )
    messages = [problem.message for problem in check_faq(tmp_path / "faq.toml")]
    for lang in UNREAD:
        assert f"the shop declares {lang!r} but there is no such file (1 entries missing)" in (
            messages
        )


async def test_a_swedish_shopper_is_greeted_in_swedish_and_reaches_the_swedish_speaker(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    account = await server.hub.accounts.add("dirk", "Dirk", "pw-dirk", capacity=2)
    await server.hub.accounts.save(account.model_copy(update={"languages": ["de"]}))
    account = await server.hub.accounts.add("sara", "Sara", "pw-sara", capacity=2)
    await server.hub.accounts.save(account.model_copy(update={"languages": ["sv", "en"]}))
    dirk = await server.agent("dirk", capacity=2)
    await server.clock.advance(5)  # dirk idle longest: he would get it if it read as German
    sara = await server.agent("sara", capacity=2)
    shopper = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await shopper.send(p.Hello(version=p.PROTOCOL_VERSION, locale="sv-SE"))
    availability = await shopper.expect("availability", mode="live")
    assert availability["away"].startswith("Vårt team är inte på plats just nu")
    await shopper.send(
        p.SendMessage(client_id="m1", text="Hej! Var är min beställning? Jag har väntat länge.")
    )
    conversation_id = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    assigned = await sara.expect("conversation_assigned", conversation_id=conversation_id)
    assert assigned["language"] == "sv-SE"
    assert not dirk.all("conversation_assigned")
    record = await server.hub.journal.get(conversation_id)
    assert (record.language, record.language_detected) == ("sv-SE", False)
