"""Routing by the shopper's language: on the hub (memory store, fake clock) and on real servers
with the shop's own bot reading the language, on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatserver.core.auth import Tokens
from chatserver.core.hub import Hub
from chatserver.core.waits import Label, speaker_places
from chatserver.domain import protocol as p
from chatserver.domain.bot import BotTurn, NoBot
from chatserver.domain.languages import LanguageRules
from chatserver.domain.settings import Settings
from chatserver.faq.shop_bot import ShopBot
from chatserver.store.memory import MemoryStore
from tests.conftest import Client, FakeClock, Server, ServerFactory
from tests.test_admin_api import call, login, state
from tests.test_hub_unit import Peer, settle

FAQ_DATA = Path(__file__).resolve().parent.parent / "faq_data"
GERMAN = "Wo ist meine Bestellung? Ich warte schon eine Woche."
ENGLISH = "Where is my order? I have been waiting for a week."


POLISH = "Czy mogę zwrócić buty po dwóch tygodniach?"
LINES = {GERMAN: "de", ENGLISH: "en", POLISH: "pl"}


class Reader(NoBot):
    """No bot in charge, but it reads the language of the lines these tests send."""

    def language(self, text: str, locale: str) -> str:
        return LINES.get(text, "")


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    store = MemoryStore()
    settings = Settings(data_dir=tmp_path, faq_dir=tmp_path / "no-faq", response_target_s=60)
    hub = Hub(settings, store, Tokens("unit-test-secret", 3600), FakeClock(), Reader())
    await store.start()
    await hub.start()
    yield hub
    await hub.close()
    await store.close()


async def speaker(hub: Hub, name: str, languages: list[str], capacity: int = 2) -> Peer:
    """An agent who declared these languages, online."""
    account = await hub.accounts.add(name, name.title(), "secret-password", capacity=capacity)
    await hub.accounts.save(account.model_copy(update={"languages": languages}))
    peer = Peer(hub, "agent")
    token = hub.tokens.new_session(name)
    await hub.connect_agent(peer.session, p.Hello(version=p.PROTOCOL_VERSION, token=token))
    await peer.send(p.SetStatus(status="online", capacity=capacity))
    return peer


async def shopper_says(hub: Hub, text: str, locale: str = "en") -> tuple[Peer, str]:
    """A shopper whose widget has this locale writes a first message; their conversation id."""
    peer = Peer(hub, "shopper")
    await hub.connect_shopper(peer.session, p.Hello(version=p.PROTOCOL_VERSION, locale=locale))
    await peer.send(p.SendMessage(client_id="m1", text=text))
    return peer, peer.frames("ack")[0]["conversation_id"]


def assigned_to(peer: Peer, conversation_id: str) -> bool:
    return any(
        f["conversation_id"] == conversation_id for f in peer.frames("conversation_assigned")
    )


async def test_a_german_shopper_goes_to_the_agent_who_speaks_german(hub: Hub) -> None:
    anna = await speaker(hub, "anna", ["en"])  # idle longest: she would get it without languages
    await hub.clock.advance(5)  # type: ignore[attr-defined]
    dirk = await speaker(hub, "dirk", ["de", "en"])
    _, conversation_id = await shopper_says(hub, GERMAN)
    [assigned] = dirk.frames("conversation_assigned")
    assert assigned["conversation_id"] == conversation_id and assigned["language"] == "de"
    assert not anna.frames("conversation_assigned")
    record = await hub.journal.get(conversation_id)
    assert (record.language, record.language_detected, record.agent_id) == ("de", True, "dirk")
    _, english = await shopper_says(hub, ENGLISH)
    assert assigned_to(anna, english)  # fewest open chats among the English speakers


async def test_with_no_speaker_it_waits_until_the_target_is_at_risk_then_anyone_takes_it(
    hub: Hub,
) -> None:
    anna = await speaker(hub, "anna", ["en"])
    _, conversation_id = await shopper_says(hub, GERMAN)
    assert not anna.frames("conversation_assigned")
    snapshot = [f for f in anna.frames("queue_snapshot") if f["waiting"]][-1]
    assert snapshot["waiting"][0]["language"] == "de"
    await hub.clock.advance(29)  # type: ignore[attr-defined]
    await settle()
    assert not anna.frames("conversation_assigned")
    assert (await hub.journal.get(conversation_id)).status == "queued"
    await hub.clock.advance(1)  # half the 60 s target: at risk
    await settle()
    assert assigned_to(anna, conversation_id)


async def test_each_waiting_chat_goes_to_anyone_at_its_own_time(hub: Hub) -> None:
    anna = await speaker(hub, "anna", ["en"], capacity=2)
    _, first = await shopper_says(hub, GERMAN)
    await hub.clock.advance(10)  # type: ignore[attr-defined]
    _, second = await shopper_says(hub, GERMAN)
    await hub.clock.advance(20)  # type: ignore[attr-defined]
    await settle()
    assert assigned_to(anna, first) and not assigned_to(anna, second)
    await hub.clock.advance(9)  # type: ignore[attr-defined]
    await settle()
    assert not assigned_to(anna, second)
    await hub.clock.advance(1)  # type: ignore[attr-defined]
    await settle()
    assert assigned_to(anna, second)


async def test_a_speaker_who_comes_online_while_it_waits_gets_it(hub: Hub) -> None:
    anna = await speaker(hub, "anna", ["en"])
    _, conversation_id = await shopper_says(hub, GERMAN)
    await hub.clock.advance(10)  # type: ignore[attr-defined]
    dirk = await speaker(hub, "dirk", ["de"])
    assert assigned_to(dirk, conversation_id) and not anna.frames("conversation_assigned")


async def test_the_shop_sets_how_long_a_chat_waits_for_its_language(hub: Hub) -> None:
    hub.assigner.language_rules = LanguageRules("en", wait_s=10)
    anna = await speaker(hub, "anna", ["en"])
    _, conversation_id = await shopper_says(hub, GERMAN)
    await hub.clock.advance(9)  # type: ignore[attr-defined]
    assert not anna.frames("conversation_assigned")
    await hub.clock.advance(1)  # type: ignore[attr-defined]
    await settle()
    assert assigned_to(anna, conversation_id)


async def test_an_agent_who_declares_no_language_speaks_the_shops_first_only(hub: Hub) -> None:
    hub.assigner.language_rules = LanguageRules("en", wait_s=None)
    nora = await speaker(hub, "nora", [], capacity=3)
    _, german = await shopper_says(hub, GERMAN)
    _, english = await shopper_says(hub, ENGLISH)
    assert assigned_to(nora, english) and not assigned_to(nora, german)
    presence = {a.agent_id: a for a in await hub.store.router.presence()}
    assert presence["nora"].languages == ("en",)


async def test_a_short_line_uses_the_widgets_locale_and_a_real_message_refines_it(
    hub: Hub,
) -> None:
    dirk = await speaker(hub, "dirk", ["de"])
    pia = await speaker(hub, "pia", ["pl"], capacity=1)
    # "hi" is too short to tell: the widget's locale (de-AT) is the language, dirk takes it.
    _, from_locale = await shopper_says(hub, "hi", locale="de-AT")
    assert assigned_to(dirk, from_locale)
    record = await hub.journal.get(from_locale)
    assert (record.language, record.language_detected) == ("de-AT", False)
    # A shopper on an English page whose first line says nothing waits for an English speaker,
    # until their next message shows they write Polish: then pia takes it at once.
    shopper, refined = await shopper_says(hub, "ok?", locale="en")
    assert not assigned_to(pia, refined)
    await shopper.send(p.SendMessage(client_id="m2", text=POLISH))
    assert assigned_to(pia, refined)
    record = await hub.journal.get(refined)
    assert (record.language, record.language_detected) == ("pl", True)


# --- on real servers, with the shop's own bot reading the language ------------------------------


async def start_shop(start_server: ServerFactory) -> Server:
    """A server with the demo shop's FAQ bot (its detector reads the language)."""
    return await start_server(faq_dir=FAQ_DATA)


async def online_speaker(server: Server, name: str, languages: list[str]) -> Client:
    account = await server.hub.accounts.add(name, name.title(), "pw-" + name, capacity=2)
    await server.hub.accounts.save(account.model_copy(update={"languages": languages}))
    return await server.agent(name, capacity=2)


async def test_on_a_real_server_a_german_shopper_reaches_the_german_speaker(
    start_server: ServerFactory,
) -> None:
    server = await start_shop(start_server)
    anna = await online_speaker(server, "anna", ["en"])
    await server.clock.advance(5)
    dirk = await online_speaker(server, "dirk", ["de"])
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text=GERMAN))
    conversation_id = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    assigned = await dirk.expect("conversation_assigned", conversation_id=conversation_id)
    assert assigned["language"] == "de"
    started = await dirk.expect("conversation_started", conversation_id=conversation_id)
    assert started["language"] == "de"
    # A Japanese shopper: nobody speaks Japanese, so it waits; at risk, anna (idle longest) has it.
    japanese = await server.shopper()
    await japanese.send(p.SendMessage(client_id="j1", text="注文した商品はいつ届きますか？"))
    japanese_id = (await japanese.expect("ack", client_id="j1"))["conversation_id"]
    await server.clock.advance(29)
    assert (await server.hub.journal.get(japanese_id)).status == "queued"
    await server.clock.advance(1)
    assigned = await anna.expect("conversation_assigned", conversation_id=japanese_id)
    assert assigned["language"] == "ja"


async def test_on_a_real_server_the_agent_sees_the_language_when_they_reconnect(
    start_server: ServerFactory,
) -> None:
    server = await start_shop(start_server)
    await online_speaker(server, "dora", ["fr"])
    shopper = await server.shopper()
    await shopper.send(
        p.SendMessage(client_id="m1", text="Bonjour, où est ma commande ? Je l'attends toujours.")
    )
    conversation_id = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    again = await server.raw("/ws/agent")
    token = server.hub.tokens.new_session("dora")
    await again.send(p.Hello(version=p.PROTOCOL_VERSION, token=token))
    welcome = await again.expect("welcome")
    [info] = [c for c in welcome["conversations"] if c["conversation_id"] == conversation_id]
    assert info["language"] == "fr" and info["agent_id"] == "dora"


async def test_the_admin_sets_how_long_a_chat_waits_for_its_language(
    start_server: ServerFactory,
) -> None:
    server = await start_shop(start_server)
    admin = await login(server, "boss")
    before = await state(server, admin)
    refused = await call(
        server, "PUT", "/api/admin/shop", admin, {**before["shop"], "language_wait_s": -5}
    )
    assert refused.status_code == 400 and "language_wait_s" in refused.json()["fields"]
    saved = await call(
        server, "PUT", "/api/admin/shop", admin, {**before["shop"], "language_wait_s": 10}
    )
    assert saved.status_code == 200 and saved.json()["shop"]["language_wait_s"] == 10
    anna = await online_speaker(server, "anna", ["en"])
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text=GERMAN))
    conversation_id = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    await server.clock.advance(9)
    assert (await server.hub.journal.get(conversation_id)).status == "queued"
    await server.clock.advance(1)
    await anna.expect("conversation_assigned", conversation_id=conversation_id)


def test_the_shop_bot_reads_the_language_or_says_the_line_is_too_short() -> None:
    bot = ShopBot.from_dir(FAQ_DATA, target_s=60)
    assert bot.language(GERMAN, "en-GB") == "de"
    assert bot.language("Où est ma commande ? Je l'attends toujours.", "en") == "fr"
    assert bot.language("配送まで何日かかりますか", "en") == "ja"  # the script tells at any length
    assert bot.language("退货", "en") == "zh-CN"
    assert [bot.language(line, "de") for line in ("hi", "ok?", "Hallo", "  ", "12345")] == [""] * 5


async def test_languages_changed_on_admin_apply_at_once_to_an_agent_online(
    start_server: ServerFactory,
) -> None:
    server = await start_shop(start_server)
    admin = await login(server, "boss")
    anna = await online_speaker(server, "anna", ["en"])
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text=GERMAN))
    conversation_id = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    assert (await server.hub.journal.get(conversation_id)).status == "queued"
    changed = await call(
        server, "PATCH", "/api/admin/agents/anna", admin, {"languages": ["en", "de"]}
    )
    assert changed.status_code == 200, changed.text
    await anna.expect("conversation_assigned", conversation_id=conversation_id)
    assert server.clock.now() < (await server.hub.journal.get(conversation_id)).created_at + 30


# --- the wait a shopper is told, per language ----------------------------------------------------


async def hello_wait(hub: Hub, locale: str) -> float | None:
    """The wait a shopper on a page in ``locale`` is told as they connect."""
    peer = Peer(hub, "shopper")
    await hub.connect_shopper(peer.session, p.Hello(version=p.PROTOCOL_VERSION, locale=locale))
    [availability] = peer.frames("availability")
    return availability["estimated_wait_s"]  # type: ignore[no-any-return]


async def test_a_free_seat_of_an_agent_who_does_not_speak_the_language_is_no_seat_now(
    hub: Hub,
) -> None:
    await speaker(hub, "anna", ["en"], capacity=2)
    # anna would take a German chat only once it has waited half the 60 s target.
    assert await hello_wait(hub, "de-AT") == 30.0
    assert await hello_wait(hub, "en-GB") == 0.0
    german, english = await hub.assigner.outlook("de"), await hub.assigner.outlook("en")
    assert (german.free, german.estimate) == (0, 30.0)
    assert (english.free, english.estimate) == (2, 0.0)
    # Told while it waits: the rest of its wait for a speaker, then anna's free seat.
    shopper, conversation_id = await shopper_says(hub, GERMAN, locale="de")
    assert shopper.frames("queue_position")[-1]["estimated_wait_s"] == 30.0
    await hub.clock.advance(10)  # type: ignore[attr-defined]
    await hub.assigner.announce_queue()
    assert shopper.frames("queue_position")[-1]["estimated_wait_s"] == 20.0
    # A second German shopper: anna has room for both once their waits are over.
    assert await hello_wait(hub, "de") == 30.0
    dirk = await speaker(hub, "dirk", ["de"], capacity=1)
    assert assigned_to(dirk, conversation_id)
    assert await hello_wait(hub, "de") == 30.0  # dirk is full: anna's seat after the wait


async def test_the_estimate_is_the_sooner_of_a_speakers_seat_and_anyones_after_the_wait(
    hub: Hub,
) -> None:
    dirk = await speaker(hub, "dirk", ["de"], capacity=1)
    _, first = await shopper_says(hub, GERMAN, locale="de")
    assert assigned_to(dirk, first)
    await speaker(hub, "anna", ["en"], capacity=2)
    # dirk frees his one seat in about one handling time (30 s before any chat has closed).
    hub.assigner.language_rules = LanguageRules("en", wait_s=10)
    assert await hello_wait(hub, "de") == 10.0  # anna's free seat after 10 s comes sooner
    hub.assigner.language_rules = LanguageRules("en", wait_s=50)
    assert await hello_wait(hub, "de") == 30.0  # dirk's seat comes sooner
    # Nobody speaks Japanese: anna's seat once the wait is over.
    assert await hello_wait(hub, "ja") == 50.0


async def test_nobody_online_means_no_estimate_in_any_language(hub: Hub) -> None:
    assert await hello_wait(hub, "de") is None
    assert await hello_wait(hub, "en") is None


# --- agents see the shopper's language change -----------------------------------------------------


def language_changes(peer: Peer, conversation_id: str) -> list[tuple[str, str]]:
    return [
        (f["language"], f["by"])
        for f in peer.frames("language_changed")
        if f["conversation_id"] == conversation_id
    ]


async def test_a_language_picked_mid_chat_reaches_the_agent_and_the_record(hub: Hub) -> None:
    dirk = await speaker(hub, "dirk", ["de", "fr"])
    shopper, conversation_id = await shopper_says(hub, GERMAN, locale="de")
    assert assigned_to(dirk, conversation_id)
    await shopper.send(p.SetLocale(locale="de-AT"))  # the same language: nothing to tell
    assert not language_changes(dirk, conversation_id)
    await shopper.send(p.SetLocale(locale="fr"))
    assert language_changes(dirk, conversation_id) == [("fr", "shopper")]
    record = await hub.journal.get(conversation_id)
    assert (record.locale, record.language, record.language_detected) == ("fr", "fr", True)
    # Stored in the log: a reload reads it back (and the record tells the welcome).
    logged = [text for _, text in await hub.store.log.read(conversation_id)]
    assert sum('"type":"language_changed"' in text for text in logged) == 1
    assert record.info(60).language == "fr"


async def test_a_language_picked_while_waiting_waits_for_a_speaker_of_it(hub: Hub) -> None:
    dora = await speaker(hub, "dora", ["fr"])
    shopper, conversation_id = await shopper_says(hub, GERMAN, locale="de")
    assert not assigned_to(dora, conversation_id)
    await shopper.send(p.SetLocale(locale="fr-BE"))
    [assigned] = [
        f for f in dora.frames("conversation_assigned") if f["conversation_id"] == conversation_id
    ]
    assert assigned["language"] == "fr-BE"
    assert language_changes(dora, conversation_id) == [("fr-BE", "shopper")]  # in the catch-up


async def test_a_language_read_later_is_told_to_agents_only_when_it_changed(hub: Hub) -> None:
    pia = await speaker(hub, "pia", ["pl"], capacity=1)
    # Too short to tell: the page's English, until the Polish line; pia then takes it at once.
    shopper, refined = await shopper_says(hub, "ok?", locale="en")
    await shopper.send(p.SendMessage(client_id="m2", text=POLISH))
    assert assigned_to(pia, refined)
    assert language_changes(pia, refined) == [("pl", "bot")]
    # On a German page, a German line only confirms the language: no change to tell.
    confirmed_shopper, confirmed = await shopper_says(hub, "hi", locale="de")
    await confirmed_shopper.send(p.SendMessage(client_id="m2", text=GERMAN))
    record = await hub.journal.get(confirmed)
    assert (record.status, record.language, record.language_detected) == ("queued", "de", True)
    logged = [text for _, text in await hub.store.log.read(confirmed)]
    assert not any('"type":"language_changed"' in text for text in logged)


def test_a_place_among_the_chats_a_speaker_may_take_counts_its_language_any_and_overdue() -> None:
    queue = [
        Label("de", 100.0),  # German, still waiting for a German speaker
        Label("fr", 100.0),  # French: a German speaker may not take it yet
        Label("", 100.0),  # any language: anyone may take it
        Label("fr", 10.0),  # French, but its wait is over: anyone may take it
        Label("de", 100.0),
        Label("fr", 100.0),
    ]
    # (the place of a chat in no language counts for nothing: anyone's seat is its wait)
    assert speaker_places(queue, now=50.0) == [1, 1, 1, 3, 4, 4]
    assert speaker_places(queue, now=100.0) == [1, 2, 3, 4, 5, 6]  # all open to anyone


class Answering(Reader):
    """Reads the test lines' language and answers every question from the FAQ."""

    def reply(
        self, text: str, locale: str, now: float, people_online: bool, timezone: str = ""
    ) -> BotTurn:
        return BotTurn("Dein Paket ist unterwegs.", faq_id="order-status", title="Order")


async def test_the_bot_keeps_helping_a_waiting_shopper_whom_no_free_agent_speaks(
    tmp_path: Path,
) -> None:
    store = MemoryStore()
    settings = Settings(data_dir=tmp_path, faq_dir=tmp_path / "no-faq", response_target_s=60)
    hub = Hub(settings, store, Tokens("unit-test-secret", 3600), FakeClock(), Answering())
    await store.start()
    await hub.start()
    try:
        anna = await speaker(hub, "anna", ["en"])  # a free seat, but not for a German chat yet
        shopper, conversation_id = await shopper_says(hub, GERMAN, locale="de")
        assert (await hub.journal.get(conversation_id)).status == "queued"
        await shopper.send(p.SendMessage(client_id="m2", text=GERMAN + " Bitte!"))
        answers = [f for f in shopper.frames("message_posted") if f["author"] == "bot"]
        assert answers and answers[-1]["faq_id"] == "order-status"
        assert not anna.frames("conversation_assigned")
    finally:
        await hub.close()
        await store.close()
