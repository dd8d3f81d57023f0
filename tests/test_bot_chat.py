"""The FAQ bot in a real chat: answers at once, hands off when asked or unsure, never stops the clock."""

from __future__ import annotations

from pathlib import Path

from chatserver.domain import protocol as p
from tests.conftest import ServerFactory

FAQ = Path(__file__).resolve().parent.parent / "faq_data"
FRIDAY_9PM_BERLIN = 12 * 3600  # the fake clock starts on a Friday at 09:00 in Berlin


async def test_bot_answers_from_the_faq_when_nobody_is_online(start_server: ServerFactory) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text="What payment methods do you accept?"))
    started = await shopper.expect("conversation_started")
    assert started["status"] == "bot"
    answer = await shopper.expect("message_posted", author="bot")
    assert answer["faq_id"] == "payment-methods" and "PayPal" in answer["text"]
    assert answer["faq_title"]
    assert not shopper.all("conversation_queued")


async def test_asking_for_a_person_hands_off_to_the_queue(start_server: ServerFactory) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text="hello"))
    greeting = await shopper.expect("message_posted", author="bot")
    assert greeting["faq_id"] is None
    await shopper.send(p.SendMessage(client_id="h", text="I want to talk to a real person please"))
    await shopper.expect("conversation_queued", reason="handoff")
    alice = await server.agent("alice")
    await alice.expect("conversation_assigned")
    await alice.expect("message_posted", text="I want to talk to a real person please")


async def test_unsure_bot_does_not_guess_and_queues_inside_hours(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text="zebra quantum violin"))
    reply = await shopper.expect("message_posted", author="bot")
    # Nobody is online: no promise of a person now, an e-mail offer; the question still queues.
    assert reply["faq_id"] is None and reply["ask_email"]
    await shopper.expect("conversation_queued", reason="handoff")


async def test_outside_hours_the_bot_asks_for_an_email_address(start_server: ServerFactory) -> None:
    server = await start_server(faq_dir=FAQ)
    await server.clock.advance(FRIDAY_9PM_BERLIN)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text="zebra quantum violin"))
    assert (await shopper.expect("conversation_started"))["status"] == "bot"
    reply = await shopper.expect("message_posted", author="bot")
    assert reply["ask_email"] and "Saturday 10:00" in reply["text"]


async def test_inside_hours_with_room_the_chat_goes_to_a_person(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    alice = await server.agent("alice")
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text="What payment methods do you accept?"))
    assert (await shopper.expect("conversation_started"))["status"] == "queued"
    await alice.expect("conversation_assigned")
    assert not shopper.all("message_posted")[1:]


async def test_the_bots_outcome_is_kept_on_the_conversation_record(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q1", text="What payment methods do you accept?"))
    answer = await shopper.expect("message_posted", author="bot", faq_id="payment-methods")
    await shopper.send(p.BotFeedback(seq=answer["seq"], helpful=False))
    await shopper.expect("bot_feedback_given", helpful=False)
    await shopper.send(p.SendMessage(client_id="q2", text="How long does delivery take?"))
    await shopper.expect("message_posted", author="bot", faq_id="delivery-time")
    # The request for a person is not a question: the one before it went unanswered.
    await shopper.send(p.SendMessage(client_id="h", text="I want to talk to a real person please"))
    await shopper.expect("conversation_queued", reason="handoff")

    record = await server.hub.journal.get(answer["conversation_id"])
    assert (record.bot_spoke, record.bot_helpful, record.handoffs) == (True, False, 1)
    assert record.unanswered == [
        "what payment methods do you accept?",
        "how long does delivery take?",
    ]


async def test_an_unanswered_question_counts_once_when_the_bot_asks_for_email_and_hands_off(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    await server.clock.advance(FRIDAY_9PM_BERLIN)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q1", text="What payment methods do you accept?"))
    answer = await shopper.expect("message_posted", author="bot", faq_id="payment-methods")
    await shopper.send(p.BotFeedback(seq=answer["seq"], helpful=True))
    await shopper.expect("bot_feedback_given", helpful=True)
    await shopper.send(p.SendMessage(client_id="q2", text="zebra quantum violin"))
    await shopper.expect("message_posted", author="bot", ask_email=True)
    await shopper.expect("conversation_queued", reason="handoff")

    record = await server.hub.journal.get(answer["conversation_id"])
    assert (record.bot_spoke, record.bot_helpful, record.handoffs) == (True, True, 1)
    assert record.unanswered == ["zebra quantum violin"]


async def test_the_widget_gets_the_shops_own_texts_in_the_shoppers_language(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await shopper.send(p.Hello(version=p.PROTOCOL_VERSION, locale="de-AT"))
    availability = await shopper.expect("availability", mode="bot")
    assert availability["greeting"].startswith("Hallo! Ich bin der Kitebay-Assistent")
    assert availability["away"].startswith("Unser Team ist gerade nicht da")
