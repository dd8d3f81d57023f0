"""Identified shoppers on real servers: a customer's chat follows them across sockets, a bad or
expired signature leaves a guest, and a guest who logs in keeps their conversation."""

from __future__ import annotations

import json

import httpx

from chatserver.core.identity import customer_hash
from chatserver.domain import protocol as p
from chatserver.domain.customer import customer_shopper_id
from tests.conftest import Client, Server, ServerFactory
from tests.test_notices import call as call_api
from tests.test_notices import delay, key

SECRET = "shop-identity-secret"
HOUR = 3600


def customer(
    server: Server, customer_id: str = "cust-1001", secret: str = SECRET, valid_s: int = HOUR
) -> p.CustomerIdentity:
    """The customer as the shop's page signs them, valid for ``valid_s`` on the server's clock."""
    expires = int(server.clock.now()) + valid_s
    return p.CustomerIdentity(
        id=customer_id,
        name="Jane Doe",
        email="jane@example.com",
        expires=expires,
        hash=customer_hash(secret, customer_id, expires),
    )


async def shopper_as(
    server: Server, who: p.CustomerIdentity | None, token: str | None = None
) -> tuple[Client, dict[str, object]]:
    """A shopper socket whose hello names a customer; returns it past its welcome."""
    client = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await client.send(p.Hello(version=p.PROTOCOL_VERSION, token=token, customer=who))
    return client, await client.expect("welcome")


async def test_a_customers_conversation_follows_them_to_a_second_browser(
    start_server: ServerFactory,
) -> None:
    server = await start_server(identity_secret=SECRET)
    phone, welcome = await shopper_as(server, customer(server))
    assert welcome["user_id"] == customer_shopper_id("cust-1001")
    await phone.send(p.SendMessage(client_id="m1", text="Do you ship to Norway?"))
    started = await phone.expect("conversation_started")
    assert started["customer_name"] == "Jane Doe"
    assert started["customer_email"] == "jane@example.com"

    laptop, welcome = await shopper_as(server, customer(server))  # no token: another browser
    [info] = welcome["conversations"]  # type: ignore[misc]
    assert info["conversation_id"] == started["conversation_id"]
    assert info["customer_name"] == "Jane Doe"
    await laptop.send(p.SendMessage(client_id="m2", text="And to Iceland?"))
    await phone.expect("message_posted", text="And to Iceland?")

    alice = await server.agent("alice")
    assigned = await alice.expect("conversation_assigned")
    assert assigned["conversation_id"] == started["conversation_id"]
    shown = await alice.expect("conversation_started")
    assert (shown["customer_name"], shown["customer_email"]) == ("Jane Doe", "jane@example.com")


async def test_a_wrong_signature_is_refused_and_the_shopper_goes_on_as_a_guest(
    start_server: ServerFactory,
) -> None:
    server = await start_server(identity_secret=SECRET)
    forged, welcome = await shopper_as(server, customer(server, secret="guessed"))
    error = await forged.expect("error", code="identity_refused", frame_type="hello")
    assert "signature" in error["message"]
    assert not str(welcome["user_id"]).startswith("c-")
    await forged.send(p.SendMessage(client_id="m1", text="hello?"))
    await forged.expect("ack", client_id="m1")
    _, welcome = await shopper_as(server, customer(server))
    assert welcome["conversations"] == []  # the guest's chat is not the customer's


async def test_a_missing_signature_is_refused(start_server: ServerFactory) -> None:
    server = await start_server(identity_secret=SECRET)
    unsigned = customer(server).model_copy(update={"hash": ""})
    client, welcome = await shopper_as(server, unsigned)
    error = await client.expect("error", code="identity_refused")
    assert "no signature" in error["message"]
    assert not str(welcome["user_id"]).startswith("c-")


async def test_an_expired_identity_is_refused(start_server: ServerFactory) -> None:
    server = await start_server(identity_secret=SECRET)
    old = customer(server, valid_s=60)
    await server.clock.advance(61)
    client, welcome = await shopper_as(server, old)
    error = await client.expect("error", code="identity_refused")
    assert "expired" in error["message"]
    assert not str(welcome["user_id"]).startswith("c-")


async def test_the_previous_secret_works_until_its_grace_period_ends(
    start_server: ServerFactory,
) -> None:
    server = await start_server(
        identity_secret="new-secret",
        identity_previous_secret=SECRET,
        identity_previous_until=1_800_000_000.0 + 24 * HOUR,
    )
    _, welcome = await shopper_as(server, customer(server))  # a page rendered before rotation
    assert welcome["user_id"] == customer_shopper_id("cust-1001")
    await server.clock.advance(24 * HOUR)
    late, welcome = await shopper_as(server, customer(server))
    await late.expect("error", code="identity_refused")
    _, welcome = await shopper_as(server, customer(server, secret="new-secret"))
    assert welcome["user_id"] == customer_shopper_id("cust-1001")


async def test_a_guest_who_logs_in_keeps_their_conversation(start_server: ServerFactory) -> None:
    server = await start_server(identity_secret=SECRET)
    guest = await server.shopper()
    token = str(guest.received[0]["token"])
    await guest.send(p.SendMessage(client_id="m1", text="Is the jacket waterproof?"))
    started = await guest.expect("conversation_started")
    await guest.close()

    logged_in, welcome = await shopper_as(server, customer(server), token=token)
    [info] = welcome["conversations"]  # type: ignore[misc]
    assert info["conversation_id"] == started["conversation_id"]
    assert info["customer_email"] == "jane@example.com"
    joined = await logged_in.expect("customer_identified")
    assert joined["customer_name"] == "Jane Doe"
    await logged_in.expect("message_posted", text="Is the jacket waterproof?")
    # On another device, the customer finds it too.
    _, welcome = await shopper_as(server, customer(server))
    assert welcome["conversations"][0]["conversation_id"] == started["conversation_id"]  # type: ignore[index]
    record = await server.hub.store.records.get(started["conversation_id"])
    assert record is not None
    assert json.loads(record["shopper_id"]) == customer_shopper_id("cust-1001")


async def test_agents_find_a_customers_conversation_by_their_name_or_email(
    start_server: ServerFactory,
) -> None:
    server = await start_server(identity_secret=SECRET)
    jane, _ = await shopper_as(server, customer(server))
    await jane.send(p.SendMessage(client_id="m1", text="Do you ship to Norway?"))
    started = await jane.expect("conversation_started")
    await jane.send(p.EndConversation())
    await jane.expect("conversation_closed")
    await server.agent("alice")
    headers = {"Authorization": "Bearer " + server.hub.tokens.new_session("alice")}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        for query in ("jane doe", "jane@example.com"):
            found = (await http.get("/api/history", params={"q": query})).json()
            [hit] = found["results"]
            assert hit["conversation_id"] == started["conversation_id"]
            assert (hit["name"], hit["email"]) == ("Jane Doe", "jane@example.com")


async def test_a_shops_delay_notice_reaches_the_customer_the_page_signed_in(
    start_server: ServerFactory,
) -> None:
    server = await start_server(identity_secret=SECRET)
    writer = await key(server, "notices:write")
    sent = await call_api(server, "POST", "/api/notices", writer, delay(customer_id="cust-1001"))
    assert sent.status_code == 201, sent.text
    # Later, on any device: the page signs Jane in, and the notice is there with its choices.
    jane, welcome = await shopper_as(server, customer(server))
    assert len(welcome["conversations"]) == 1  # type: ignore[arg-type]
    notice = await jane.expect("notice_posted", notice_id="n-1")
    assert notice["choices"] == ["keep_waiting", "faster_shipping", "cancel_refund"]
    await jane.send(p.ChooseOption(notice_id="n-1", choice="keep_waiting"))
    await jane.expect("choice_made", notice_id="n-1", choice="keep_waiting")
    # A guest on the same shop sees nothing of it.
    guest = await server.shopper()
    assert guest.received[0]["conversations"] == []
