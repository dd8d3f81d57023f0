"""A shopper who picks another language in the widget (``set_locale``) is spoken to in it."""

from __future__ import annotations

from pathlib import Path

from chatserver.domain import protocol as p
from tests.conftest import ServerFactory

FAQ = Path(__file__).resolve().parent.parent / "faq_data"


async def test_a_language_picked_mid_chat_reaches_the_conversation_and_the_bot(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await shopper.send(p.Hello(version=p.PROTOCOL_VERSION, locale="en-GB"))
    english = await shopper.expect("availability", mode="bot")
    assert english["greeting"].startswith("Hi! I'm the Kitebay assistant")
    await shopper.send(p.SendMessage(client_id="q1", text="paypal?"))
    answer = await shopper.expect("message_posted", author="bot", faq_id="payment-methods")
    assert answer["text"].startswith("We accept Visa")

    await shopper.send(p.SetLocale(locale="de-AT"))
    german = await shopper.expect("availability", mode="bot", agents_online=0)
    assert german["greeting"].startswith("Hallo! Ich bin der Kitebay-Assistent")
    assert german["away"].startswith("Unser Team ist gerade nicht da")
    record = await server.hub.journal.get(answer["conversation_id"])
    assert record.locale == "de-AT"
    await shopper.send(p.SendMessage(client_id="q2", text="paypal?"))
    again = await shopper.expect("message_posted", author="bot", faq_id="payment-methods")
    assert again["text"].startswith("Wir akzeptieren Visa")


async def test_a_language_picked_before_the_first_message_starts_the_chat_in_it(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await server.shopper()
    await shopper.expect("availability")  # the hello's, in English
    await shopper.send(p.SetLocale(locale="ja"))
    japanese = await shopper.expect("availability", mode="bot")
    assert japanese["greeting"] != shopper.all("availability")[0]["greeting"]
    await shopper.send(p.SendMessage(client_id="q", text="hello"))
    started = await shopper.expect("conversation_started")
    assert started["locale"] == "ja"


async def test_a_bad_locale_gets_an_error_and_the_socket_stays_open(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await server.shopper()
    await shopper.expect("availability")  # the hello's, in English
    await shopper.send('{"type": "set_locale", "locale": "<de>"}')
    await shopper.expect("error", code="invalid_frame")
    await shopper.send(p.SetLocale(locale="fr"))
    french = await shopper.expect("availability")
    assert french["greeting"].startswith("Bonjour")


async def test_the_agent_hears_a_language_picked_mid_chat_also_after_reconnecting(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    account = await server.hub.accounts.add("dora", "Dora", "pw-dora", capacity=2)
    await server.hub.accounts.save(account.model_copy(update={"languages": ["de", "fr"]}))
    dora = await server.agent("dora", capacity=2)
    shopper = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await shopper.send(p.Hello(version=p.PROTOCOL_VERSION, locale="de-DE"))
    await shopper.send(p.SendMessage(client_id="m1", text="Wo ist meine Bestellung? Ich warte."))
    conversation_id = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    await dora.expect("conversation_assigned", conversation_id=conversation_id, language="de")
    await shopper.send(p.SetLocale(locale="fr"))
    changed = await dora.expect("language_changed", conversation_id=conversation_id)
    assert (changed["language"], changed["by"]) == ("fr", "shopper")
    again = await server.raw("/ws/agent")
    await again.send(
        p.Hello(version=p.PROTOCOL_VERSION, token=server.hub.tokens.new_session("dora"))
    )
    welcome = await again.expect("welcome")
    [info] = [c for c in welcome["conversations"] if c["conversation_id"] == conversation_id]
    assert info["language"] == "fr"
    replayed = await again.expect("language_changed", conversation_id=conversation_id)
    assert replayed["seq"] == changed["seq"]
