"""Issue 12's dead ends, each as a shopper meets it: every message gets an answer or a true status."""

from __future__ import annotations

from pathlib import Path

from chatserver.domain import protocol as p
from tests.conftest import Client, Server, ServerFactory

FAQ = Path(__file__).resolve().parent.parent / "faq_data"
FRIDAY_9PM_BERLIN = 12 * 3600  # the fake clock starts on a Friday at 09:00 in Berlin


async def ask(server: Server, text: str, **hello: str) -> tuple[Client, dict]:
    """A new shopper writes ``text``; returns them and their conversation_started event."""
    shopper = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await shopper.send(p.Hello(version=p.PROTOCOL_VERSION, **hello))  # type: ignore[arg-type]
    await shopper.expect("welcome")
    await shopper.send(p.SendMessage(client_id="q1", text=text))
    await shopper.expect("ack", client_id="q1")
    return shopper, await shopper.expect("conversation_started")


async def test_one_slow_chat_never_sends_new_chats_to_the_bot_while_a_seat_is_free(
    start_server: ServerFactory,
) -> None:
    """Dead end 1: a slow chat used to keep the estimate high and the bot taking chats."""
    # Alice stays connected through the four quiet hours below (no idle timeout).
    server = await start_server(faq_dir=FAQ, idle_timeout_s=0)
    alice = await server.agent("alice", capacity=1)
    _, started = await ask(server, "Where is my parcel?")
    await alice.expect("conversation_assigned", conversation_id=started["conversation_id"])
    _, waiting = await ask(server, "Can I change my address?")
    assert waiting["status"] == "queued"
    await server.clock.advance(600)  # one slow chat: the second shopper waits ten minutes
    await alice.send(p.CloseConversation(conversation_id=started["conversation_id"]))
    await alice.expect("conversation_assigned", conversation_id=waiting["conversation_id"])
    await alice.send(p.CloseConversation(conversation_id=waiting["conversation_id"]))
    await alice.expect("status_changed", status="online", open_chats=0)

    # Alice is online at 0 of 1: the next shopper goes to her, not to the bot.
    third, started = await ask(server, "What payment methods do you accept?")
    assert started["status"] == "queued"
    await alice.expect("conversation_assigned", conversation_id=started["conversation_id"])
    await third.expect("conversation_assigned")
    assert [m["author"] for m in third.all("message_posted")] == ["shopper"]

    # Now she is full: a newcomer's estimate comes from recent chats, and old ones fade.
    fresh = (await (await server.shopper()).expect("availability"))["estimated_wait_s"]
    await server.clock.advance(4 * 3600)
    faded = (await (await server.shopper()).expect("availability"))["estimated_wait_s"]
    assert fresh > 120 and faded < 40


async def test_the_bot_keeps_answering_while_the_shopper_waits_for_a_person(
    start_server: ServerFactory,
) -> None:
    """Dead end 2: after one question it could not answer, the bot used to go silent."""
    server = await start_server(faq_dir=FAQ)
    shopper, started = await ask(server, "My kite arrived with a torn line, what now?")
    conversation_id = started["conversation_id"]
    assert started["status"] == "bot"
    await shopper.expect("message_posted", author="bot")
    queued = await shopper.expect("conversation_queued", reason="handoff")
    clock_started = (await server.hub.journal.get(conversation_id)).clock_started

    await server.clock.advance(20)
    await shopper.send(p.SendMessage(client_id="q2", text="What payment methods do you accept?"))
    await shopper.expect("message_posted", author="bot", faq_id="payment-methods")
    await shopper.send(p.SendMessage(client_id="q3", text="thanks!"))
    thanks = await shopper.expect("message_posted", author="bot", faq_id=None)
    assert "welcome" in thanks["text"].lower()

    # The assistant never stopped the clock, and the shopper kept their place.
    record = await server.hub.journal.get(conversation_id)
    assert record.status == "queued" and record.clock_started == clock_started
    assert queued["deadline"] == clock_started + server.settings.response_target_s
    assert await server.hub.store.router.waiting() == [conversation_id]

    # The person sees the question the bot could not answer in the queue, then gets the chat.
    alice = await server.agent("alice", online=False)
    snapshot = await alice.expect("queue_snapshot")
    assert snapshot["waiting"][0]["question"] == "My kite arrived with a torn line, what now?"
    await alice.send(p.SetStatus(status="online", capacity=2))
    await alice.expect("conversation_assigned", conversation_id=conversation_id)


async def test_bot_thanks_text_is_not_the_faq_answer(start_server: ServerFactory) -> None:
    """After a hand-off, "thanks!" gets the assistant's thanks, not silence (no FAQ id)."""
    server = await start_server(faq_dir=FAQ)
    shopper, _ = await ask(server, "I want to talk to a real person please")
    await shopper.expect("conversation_queued", reason="handoff")
    await shopper.send(p.SendMessage(client_id="t", text="thanks!"))
    reply = await shopper.expect("message_posted", author="bot", faq_id=None, ask_email=False)
    assert "welcome" in reply["text"].lower()


async def test_inside_hours_with_nobody_online_the_shopper_sees_the_true_state(
    start_server: ServerFactory,
) -> None:
    """Dead end 3: "number 1 in the queue" forever, next to "our team is away"."""
    server = await start_server()  # no bot: straight to the queue
    shopper, started = await ask(server, "Is the 12 m kite in stock?")
    assert started["status"] == "queued"
    status = await shopper.expect("queue_position")
    assert status["agents_online"] == 0 and status["estimated_wait_s"] is None

    # Someone comes online: the shopper hears it live, then the chat is theirs.
    alice = await server.agent("alice")
    await alice.expect("conversation_assigned")
    assigned = await shopper.expect("conversation_assigned")
    assert assigned["agent_name"] == "Alice"


async def test_outside_hours_nobody_online_says_when_people_are_back_in_the_shoppers_terms(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    await server.clock.advance(FRIDAY_9PM_BERLIN)
    shopper, _ = await ask(
        server,
        "Habt ihr einen Laden in Wien, wo ich vorbeikommen kann?",  # nothing the FAQ answers
        locale="de-DE",
        timezone="America/New_York",
    )
    availability = await shopper.expect("availability")
    assert availability["mode"] == "bot" and availability["agents_online"] == 0
    assert availability["back_at"].startswith("Samstag 04:00")  # 10:00 in Berlin
    offer = await shopper.expect("message_posted", author="bot")
    assert offer["ask_email"] and "Samstag 04:00" in offer["text"]
    await shopper.expect("conversation_queued", reason="handoff")
    status = await shopper.expect("queue_position")
    assert status["agents_online"] == 0 and status["back_at"].startswith("Samstag 04:00")


async def test_outside_hours_an_online_agent_takes_the_chat_and_nobody_says_away(
    start_server: ServerFactory,
) -> None:
    """Dead end 4: the bot said the team was away, then assigned the chat to the agent online."""
    server = await start_server(faq_dir=FAQ)
    await server.clock.advance(FRIDAY_9PM_BERLIN)
    alice = await server.agent("alice", capacity=1)
    shopper = await server.shopper()
    assert (await shopper.expect("availability"))["mode"] == "live"
    await shopper.send(p.SendMessage(client_id="q", text="zebra quantum violin"))
    assert (await shopper.expect("conversation_started"))["status"] == "queued"
    await alice.expect("conversation_assigned")
    await shopper.expect("conversation_assigned")  # after any reply the bot would have made
    assert [m["author"] for m in shopper.all("message_posted")] == ["shopper"]

    # Alice is full: the bot leads, but with her online it promises a person, not "away".
    other, started = await ask(server, "zebra quantum violin")
    assert started["status"] == "bot"
    reply = await other.expect("message_posted", author="bot")
    assert not reply["ask_email"] and "away" not in reply["text"].lower()
    status = await other.expect("queue_position")
    assert status["agents_online"] == 1 and status["estimated_wait_s"] > 0


async def test_after_a_close_the_shopper_writes_again_at_once_without_rating(
    start_server: ServerFactory,
) -> None:
    """Dead end 6 (server side): no rating needed, also after a reload."""
    server = await start_server()
    alice = await server.agent("alice")
    shopper, started = await ask(server, "Hi")
    first = started["conversation_id"]
    await alice.expect("conversation_assigned", conversation_id=first)
    await alice.send(p.CloseConversation(conversation_id=first))
    await shopper.expect("conversation_closed")
    token = (shopper.all("welcome"))[0]["token"]
    await shopper.close()
    again = await server.shopper(token=token)  # a reload
    await again.send(p.SendMessage(client_id="n", text="One more question"))
    ack = await again.expect("ack", client_id="n")
    assert ack["conversation_id"] != first
    await again.expect("conversation_started", conversation_id=ack["conversation_id"])
    await alice.expect("conversation_assigned", conversation_id=ack["conversation_id"])


async def test_an_agent_picks_a_waiting_chat_and_counters_stay_true(
    start_server: ServerFactory,
) -> None:
    """The queue shows questions and can be picked; loads are right after transfers and closes."""
    server = await start_server()
    alice = await server.agent("alice", capacity=3, online=False)
    await alice.send(p.SetStatus(status="away", capacity=3))
    shoppers = [await ask(server, f"question {i}") for i in range(2)]
    second = shoppers[1][1]["conversation_id"]
    await alice.send(p.PickConversation(conversation_id=second))
    await alice.expect("conversation_assigned", conversation_id=second)
    await alice.expect("status_changed", status="away", open_chats=1)
    snapshot = alice.all("queue_snapshot")[-1]
    while [w["conversation_id"] for w in snapshot["waiting"]] != [
        shoppers[0][1]["conversation_id"]
    ]:
        snapshot = await alice.expect("queue_snapshot")
    assert snapshot["waiting"][0]["question"] == "question 0"
    await alice.send(p.PickConversation(conversation_id=second))  # already hers
    await alice.expect("error", code="not_allowed", frame_type="pick_conversation")


async def test_load_counters_follow_transfers_and_closes(start_server: ServerFactory) -> None:
    """The console's "N of M chats": right for the receiver of a transfer and after closing all."""
    server = await start_server()
    alice = await server.agent("alice", capacity=3)
    chats = [(await ask(server, f"question {i}"))[1]["conversation_id"] for i in range(2)]
    for conversation_id in chats:
        await alice.expect("conversation_assigned", conversation_id=conversation_id)
    await alice.expect("status_changed", status="online", open_chats=2)
    bob = await server.agent("bob", capacity=3)
    await alice.send(p.Transfer(conversation_id=chats[0], to_agent="bob"))
    await bob.expect("status_changed", status="online", open_chats=1)
    await alice.expect("status_changed", status="online", open_chats=1)
    await bob.send(p.CloseConversation(conversation_id=chats[0]))
    await bob.expect("status_changed", status="online", open_chats=0)
    await alice.send(p.CloseConversation(conversation_id=chats[1]))
    await alice.expect("status_changed", status="online", open_chats=0)
