"""The offline inbox: an address left with no human reply reaches the shop by e-mail, an agent
answers from the console's API, and the answer reaches the shopper by e-mail and in the widget;
refused and timed-out SMTP attempts keep the reply and retry it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatserver.core.mail import Mail, Mailer, MailError, SmtpSender
from chatserver.domain import protocol as p
from chatserver.domain.settings import Settings
from chatserver.store.sqlite import SQLiteStore
from chatserver.web.app import create_app
from tests._smtp import Mailbox, TlsMailbox, body, silent_smtp, smtp, tls_smtp  # noqa: F401
from tests.conftest import Client, FakeClock, Server, ServerFactory

SHOP = "shop@example.com"


def mail_settings(port: int, **more: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "shop_email": SHOP,
        "notify_batch_s": 10.0,
        "mail_retry_s": 30.0,
        **more,
    }


Staff = Callable[[Server], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def staff() -> AsyncIterator[Staff]:
    """Signs an agent in over HTTP; the clients are closed afterwards."""
    clients: list[httpx.AsyncClient] = []

    async def sign_in(server: Server) -> httpx.AsyncClient:
        if await server.hub.accounts.get("alice") is None:
            await server.hub.accounts.add("alice", "Alice", "pw")
        token = server.hub.tokens.new_session("alice")
        auth = {"Authorization": f"Bearer {token}"}
        clients.append(httpx.AsyncClient(base_url=server.url, headers=auth))
        return clients[-1]

    yield sign_in
    for client in clients:
        await client.aclose()


async def leave_message(server: Server, text: str, email: str, name: str) -> tuple[Client, str]:
    """A shopper writes while nobody is online, then leaves an address; returns them and their
    token."""
    shopper = await server.shopper()
    token = shopper.all("welcome")[0]["token"]
    await shopper.send(p.SendMessage(text=text, client_id="m1"))
    await shopper.expect("ack", client_id="m1")
    await shopper.send(p.LeaveEmail(email=email, name=name))
    await shopper.expect("email_left", email=email)
    return shopper, token


async def later(server: Server, seconds: float) -> None:
    """Move the clock on, and make sure the mail pass runs at the new time: it may have been busy
    (and so not yet asleep on the clock) when the clock moved."""
    await server.clock.advance(seconds)
    server.hub.mailer.wakeup.set()


async def inbox(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/api/inbox")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def until_inbox(server: Server, http: httpx.AsyncClient, count: int) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def has() -> bool:
        found.update(await inbox(http))
        return len(found["entries"]) == count

    await server.until(has)
    return found


async def test_offline_messages_are_announced_once_then_answered_by_email_and_in_the_widget(
    start_server: ServerFactory, smtp: Mailbox, staff: Staff
) -> None:
    server = await start_server(**mail_settings(smtp.port))
    http = await staff(server)
    jane, jane_token = await leave_message(
        server, "Where is my parcel 4411?", "jane@example.com", "Jane"
    )
    await server.clock.advance(2)
    await leave_message(server, "Do you ship to Norway?", "ola@example.no", "Ola")
    view = await until_inbox(server, http, 2)
    assert view["email_on"] is True
    assert [e["email"] for e in view["entries"]] == ["jane@example.com", "ola@example.no"]
    assert view["entries"][0]["preview"] == "Where is my parcel 4411?"
    assert view["entries"][0]["name"] == "Jane"

    # Both arrived within the batch window: the shop gets one e-mail listing both.
    assert smtp.received == []
    await later(server, 9)
    [notice] = await smtp.next(1)
    assert notice["To"] == SHOP and "2 new offline messages" in notice["Subject"]
    assert "Jane <jane@example.com>: Where is my parcel 4411?" in body(notice)
    assert "Ola <ola@example.no>: Do you ship to Norway?" in body(notice)
    await later(server, 60)
    assert len(smtp.received) == 1

    conversation_id = view["entries"][0]["conversation_id"]
    answer = "It left our warehouse today: tracking 4411 at your carrier."
    response = await http.post(f"/api/inbox/{conversation_id}/reply", json={"text": answer})
    assert response.status_code == 200, response.text
    assert response.json()["sent"] is True
    [reply] = smtp.to("jane@example.com")
    assert body(reply).strip() == answer
    # The shopper's widget shows it live, and again when they come back.
    await jane.expect("message_posted", author="agent", text=answer, author_name="Alice")
    back = await server.shopper(token=jane_token)
    await back.expect("message_posted", author="agent", text=answer)
    # Done: only Ola's is left, and answering Jane's again is refused.
    assert [e["email"] for e in (await inbox(http))["entries"]] == ["ola@example.no"]
    again = await http.post(f"/api/inbox/{conversation_id}/reply", json={"text": "again"})
    assert again.status_code == 409 and "not in the inbox" in again.json()["error"]


async def test_a_refused_reply_is_kept_shown_as_not_sent_and_retried_with_backoff(
    start_server: ServerFactory, smtp: Mailbox, staff: Staff
) -> None:
    server = await start_server(**mail_settings(smtp.port, shop_email=""))
    http = await staff(server)
    jane, _ = await leave_message(server, "Refund please", "jane@example.com", "Jane")
    [entry] = (await until_inbox(server, http, 1))["entries"]
    smtp.refuse = "451 4.3.0 mailbox busy, try later"
    url = f"/api/inbox/{entry['conversation_id']}/reply"
    response = (await http.post(url, json={"text": "Refund sent."})).json()
    assert response["sent"] is False
    assert "451" in response["mail"]["last_error"] and response["mail"]["attempts"] == 1
    # Nothing lost: in the log, shown as not sent, and due again after the first wait.
    await jane.expect("message_posted", author="agent", text="Refund sent.")
    [unsent] = (await inbox(http))["unsent"]
    assert unsent["to"] == "jane@example.com"
    assert unsent["next_attempt"] == pytest.approx(server.clock.now() + 30)
    await later(server, 31)
    await server.until(lambda: _attempts(http, 2))
    [unsent] = (await inbox(http))["unsent"]
    assert unsent["next_attempt"] == pytest.approx(server.clock.now() + 60)  # doubled
    smtp.refuse = ""
    await later(server, 61)
    [sent] = await smtp.next(1)
    assert sent["To"] == "jane@example.com" and body(sent).strip() == "Refund sent."
    await server.until(lambda: _attempts(http, None))


async def _attempts(http: httpx.AsyncClient, attempts: int | None) -> bool:
    unsent = (await inbox(http))["unsent"]
    return [u["attempts"] for u in unsent] == ([] if attempts is None else [attempts])


async def test_an_smtp_server_that_never_answers_times_out_and_the_reply_is_kept(
    start_server: ServerFactory, silent_smtp: int, staff: Staff
) -> None:
    server = await start_server(**mail_settings(silent_smtp, smtp_timeout_s=0.3, shop_email=""))
    http = await staff(server)
    await leave_message(server, "Hello?", "jane@example.com", "")
    [entry] = (await until_inbox(server, http, 1))["entries"]
    url = f"/api/inbox/{entry['conversation_id']}/reply"
    response = (await http.post(url, json={"text": "Hi Jane"})).json()
    assert response["sent"] is False
    assert "Timeout" in response["mail"]["last_error"]
    assert [u["body"] for u in (await inbox(http))["unsent"]] == ["Hi Jane"]


async def test_without_smtp_the_server_says_so_and_the_inbox_still_answers_in_the_widget(
    server: Server, staff: Staff
) -> None:
    http = await staff(server)
    jane, _ = await leave_message(server, "Anyone there?", "jane@example.com", "Jane")
    view = await until_inbox(server, http, 1)
    assert view["email_on"] is False
    url = f"/api/inbox/{view['entries'][0]['conversation_id']}/reply"
    response = (await http.post(url, json={"text": "Yes, we are."})).json()
    assert response["sent"] is False
    await jane.expect("message_posted", author="agent", text="Yes, we are.")
    # Kept for when a server is configured.
    assert [u["body"] for u in (await inbox(http))["unsent"]] == ["Yes, we are."]


async def test_start_message_says_email_is_off_without_smtp_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(Settings(data_dir=tmp_path, faq_dir=tmp_path))
    async with app.router.lifespan_context(app):
        pass
    assert "e-mail:            off (no smtp_host)" in capsys.readouterr().out


async def test_a_bad_email_address_gets_a_clear_error_and_nothing_enters_the_inbox(
    server: Server, staff: Staff
) -> None:
    http = await staff(server)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(text="Hello", client_id="m1"))
    await shopper.expect("ack", client_id="m1")
    await shopper.send('{"type": "leave_email", "email": "jane at example", "name": "Jane"}')
    error = await shopper.expect("error", code="invalid_frame")
    assert "email" in error["message"]
    assert (await inbox(http))["entries"] == []
    with pytest.raises(ValueError, match="shop_email"):
        Settings(shop_email="shop-at-example")


async def test_a_person_answering_live_takes_the_conversation_out_of_the_inbox(
    server: Server, staff: Staff
) -> None:
    http = await staff(server)
    await leave_message(server, "Still there?", "jane@example.com", "Jane")
    [entry] = (await until_inbox(server, http, 1))["entries"]
    bob = await server.agent("bob")
    await bob.expect("conversation_assigned")
    await bob.send(
        p.SendMessage(conversation_id=entry["conversation_id"], text="Here!", client_id="b1")
    )
    await bob.expect("ack", client_id="b1")
    assert (await inbox(http))["entries"] == []


async def test_the_api_needs_a_signed_in_agent(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get("/api/inbox")).status_code == 401
        assert (await anonymous.get("/api/history?q=x")).status_code == 401
        forged = {"Authorization": "Bearer forged"}
        assert (await anonymous.get("/api/inbox", headers=forged)).status_code == 401


async def test_an_unsent_reply_survives_a_restart_and_the_next_start_sends_it(
    tmp_path: Path, smtp: Mailbox
) -> None:
    settings = Settings(data_dir=tmp_path, **mail_settings(smtp.port))
    clock = FakeClock()
    smtp.refuse = "451 4.3.0 try later"
    store = SQLiteStore(tmp_path / "chat.sqlite3")
    await store.start()
    mailer = Mailer(store.trays, SmtpSender(settings), clock, settings)
    mail = Mail(kind="reply", to="jane@example.com", subject="Re", body="Kept", queued_at=0)
    queued = await mailer.queue(mail, wake=False)
    unsent = await mailer.attempt(queued.id)
    assert unsent is not None and unsent.attempts == 1
    await store.close()

    smtp.refuse = ""
    store = SQLiteStore(tmp_path / "chat.sqlite3")
    await store.start()
    mailer = Mailer(store.trays, SmtpSender(settings), clock, settings)
    assert await mailer.send_due() == 0  # not due yet
    await clock.advance(30)
    assert await mailer.send_due() == 1
    assert [body(m).strip() for m in smtp.received] == ["Kept"]
    assert await mailer.outbox() == []
    await store.close()


async def test_email_goes_over_starttls_with_a_login_and_a_wrong_password_is_a_clear_error(
    tls_smtp: TlsMailbox, tmp_path: Path
) -> None:
    secure = {
        "smtp_security": "starttls",
        "smtp_ca_file": tls_smtp.ca_file,
        "smtp_username": "shop",
        "smtp_password": "s3cret",
    }
    settings = Settings(data_dir=tmp_path, **mail_settings(tls_smtp.box.port, **secure))
    mail = Mail(kind="reply", to="jane@example.com", subject="Re", body="Over TLS", queued_at=0)
    await SmtpSender(settings).send(mail)
    [received] = await tls_smtp.box.next(1)
    assert body(received).strip() == "Over TLS"

    wrong = settings.model_copy(update={"smtp_password": "guess"})
    with pytest.raises(MailError, match="535"):
        await SmtpSender(wrong).send(mail)
    plain = settings.model_copy(update={"smtp_security": "none"})
    with pytest.raises(MailError):
        await SmtpSender(plain).send(mail)  # the server insists on STARTTLS first
    assert len(tls_smtp.box.received) == 1
