"""The frames the widget and console add: notes and tags (agent-only), canned replies, agents,
history, availability, the offline e-mail and bot feedback, through a real server."""

from __future__ import annotations

from pathlib import Path

from chatserver.domain import protocol as p
from chatserver.domain.bot import BotTurn
from tests.conftest import Server, ServerFactory

FAQ_DATA = Path(__file__).resolve().parent.parent / "faq_data"


async def assigned_chat(server: Server, agent_id: str = "alice") -> tuple:
    agent = await server.agent(agent_id)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text="hello"))
    conversation_id = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    await agent.expect("conversation_assigned", conversation_id=conversation_id)
    return agent, shopper, conversation_id


async def test_private_note_reaches_agents_and_never_the_shopper(server: Server) -> None:
    agent, shopper, conversation_id = await assigned_chat(server)
    await agent.send(
        p.AddNote(conversation_id=conversation_id, client_id="n1", text="VIP, refund ok")
    )
    note = await agent.expect("note_added", text="VIP, refund ok")
    assert (
        note["conversation_id"] == conversation_id
        and note["seq"] == 1
        and note["author_name"] == "Alice"
    )
    await agent.expect("ack", client_id="n1")
    await agent.send(
        p.SendMessage(conversation_id=conversation_id, client_id="a1", text="after the note")
    )
    await shopper.expect("message_posted", text="after the note")
    token = shopper.all("welcome")[0]["token"]
    replayed = await server.shopper(token=token, last_seq=0)
    await replayed.expect("message_posted", text="after the note")
    for client in (shopper, replayed):
        assert not [f for f in client.received if f["type"] in ("note_added", "tags_changed")]
        assert "VIP" not in str(client.received)
    shopper_log = await server.hub.store.log.read(conversation_id)
    assert "VIP" not in str(shopper_log)


async def test_agent_reconnect_replays_notes_from_the_staff_log(server: Server) -> None:
    agent, _, conversation_id = await assigned_chat(server)
    await agent.send(p.AddNote(conversation_id=conversation_id, client_id="n1", text="first note"))
    await agent.expect("note_added", text="first note")
    await agent.close()
    again = await server.agent("alice", last_seqs={p.staff_log(conversation_id): 0})
    await again.expect("note_added", text="first note")
    await again.send(p.AddNote(conversation_id=conversation_id, client_id="n1", text="first note"))
    assert (await again.expect("ack", client_id="n1"))["duplicate"] is True


async def test_transferred_chat_brings_its_notes_and_tags(server: Server) -> None:
    alice, _, conversation_id = await assigned_chat(server)
    bob = await server.agent("bob")
    await alice.send(
        p.AddNote(conversation_id=conversation_id, client_id="n1", text="wants express")
    )
    await alice.send(
        p.SetTags(conversation_id=conversation_id, tags=["Shipping", "vip", "shipping"])
    )
    tags = await alice.expect("tags_changed")
    assert tags["tags"] == ["shipping", "vip"]
    await alice.send(p.Transfer(conversation_id=conversation_id, to_agent="bob"))
    await bob.expect("note_added", text="wants express")
    await bob.expect("tags_changed", tags=["shipping", "vip"])
    record = await server.hub.journal.get(conversation_id)
    assert record.tags == ["shipping", "vip"]


async def test_notes_and_tags_only_on_your_own_chats(server: Server) -> None:
    _, _, conversation_id = await assigned_chat(server)
    other = await server.agent("carol")
    await other.send(p.AddNote(conversation_id=conversation_id, client_id="n1", text="sneaky"))
    await other.expect("error", code="not_your_conversation", frame_type="add_note")
    shopper = await server.shopper()
    await shopper.send(
        '{"type": "add_note", "conversation_id": "x", "client_id": "n", "text": "hi"}'
    )
    error = await shopper.expect("error", code="invalid_frame")
    assert "add_note" in error["message"]


async def test_canned_replies_are_imported_from_the_shops_file_then_kept_in_the_store(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    (tmp_path / "canned.toml").write_text(
        '[[reply]]\nshortcut = "hi"\ntitle = "Greeting"\ntext = "Hi {shopper_name}!"\n',
        encoding="utf-8",
    )
    server = await start_server(faq_dir=tmp_path)
    agent = await server.agent("alice")
    await agent.send(p.ListCanned())
    replies = await agent.expect("canned_replies")
    assert replies["replies"] == [
        {"shortcut": "hi", "title": "Greeting", "text": "Hi {shopper_name}!"}
    ]
    # The store is the source after the first start: the file is only the import format.
    (tmp_path / "canned.toml").write_text("not toml [", encoding="utf-8")
    await agent.send(p.ListCanned())
    assert (await agent.expect("canned_replies"))["replies"] == replies["replies"]


async def test_shipped_canned_file_is_valid(start_server: ServerFactory) -> None:
    server = await start_server(faq_dir=FAQ_DATA)
    agent = await server.agent("alice")
    await agent.send(p.ListCanned())
    shortcuts = [r["shortcut"] for r in (await agent.expect("canned_replies"))["replies"]]
    assert "hi" in shortcuts and len(shortcuts) >= 5


async def test_agent_list_shows_status_and_load(server: Server) -> None:
    agent, _, _ = await assigned_chat(server)
    await server.agent("bob", online=False)
    await agent.send(p.ListAgents())
    agents = {a["agent_id"]: a for a in (await agent.expect("agent_list"))["agents"]}
    assert agents["alice"]["status"] == "online" and agents["alice"]["open_chats"] == 1
    assert agents["bob"]["status"] == "offline"


async def test_history_lists_the_shoppers_earlier_conversations(server: Server) -> None:
    agent = await server.agent("alice")
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text="first visit"))
    first = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    await agent.expect("conversation_assigned", conversation_id=first)
    await shopper.send(p.EndConversation())
    await shopper.expect("conversation_closed")
    await shopper.send(p.Rate(score=5))
    await shopper.expect("rating_given")
    await shopper.send(p.SendMessage(client_id="m2", text="back again"))
    second = (await shopper.expect("ack", client_id="m2"))["conversation_id"]
    await agent.expect("conversation_assigned", conversation_id=second)
    await agent.send(p.GetHistory(conversation_id=second))
    history = await agent.expect("conversation_history", conversation_id=second)
    assert [(c["conversation_id"], c["rating"]) for c in history["conversations"]] == [(first, 5)]


async def test_availability_tells_the_widget_who_would_answer(server: Server) -> None:
    shopper = await server.shopper()
    assert (await shopper.expect("availability"))["mode"] == "offline"
    await server.agent("alice")
    later = await server.shopper()
    availability = await later.expect("availability")
    assert availability["mode"] == "live" and availability["agents_online"] == 1


async def test_offline_email_is_stored_with_the_conversation(server: Server) -> None:
    shopper = await server.shopper()
    await shopper.send(p.LeaveEmail(email="ana@example.com", name="Ana"))
    left = await shopper.expect("email_left", email="ana@example.com")
    record = await server.hub.journal.get(left["conversation_id"])
    assert record.email == "ana@example.com"
    await shopper.send('{"type": "leave_email", "email": "not-an-address"}')
    await shopper.expect("error", code="invalid_frame", frame_type="leave_email")


class AlwaysBot:
    def in_charge(self, now: float, queue_length: int, estimated_wait_s: float) -> bool:
        return True

    def reply(
        self, text: str, locale: str, now: float, people_online: bool, timezone: str = ""
    ) -> BotTurn:
        return BotTurn("Returns are free for 30 days.")

    def texts(self, locale: str) -> tuple[str, str]:
        return "", ""

    def back_at(self, now: float, locale: str, timezone: str) -> str:
        return ""

    def language(self, text: str, locale: str) -> str:
        return ""


async def test_bot_feedback_is_stored_and_request_human_queues(start_server: ServerFactory) -> None:
    server = await start_server(bot=AlwaysBot())
    shopper = await server.shopper()
    assert (await shopper.expect("availability"))["mode"] == "bot"
    await shopper.send(p.SendMessage(client_id="m1", text="how do returns work"))
    answer = await shopper.expect("message_posted", author="bot")
    await shopper.send(p.BotFeedback(seq=answer["seq"]))
    feedback = await shopper.expect("bot_feedback_given")
    assert feedback["answer_seq"] == answer["seq"] and feedback["helpful"] is True
    await shopper.send(p.RequestHuman())
    await shopper.expect("conversation_queued", reason="handoff")
