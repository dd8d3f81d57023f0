"""The tone rules on /admin: who may read and edit them, a bad pattern's error next to its field,
and an edit live at once in the console's rules and the server's count, on every worker."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from chatserver.domain import protocol as p
from tests.conftest import Server, ServerFactory
from tests.test_admin_api import call, login

RULE = {"pattern": "no way", "suggestion": "let me find a way", "why": "A flat refusal."}


async def served_rules(server: Server, lang: str) -> list[dict[str, str]]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get("/api/playbook/tone", params={"lang": lang})
    assert answer.headers["cache-control"] == "no-cache"
    rules: list[dict[str, str]] = answer.json()["rules"]
    return rules


async def test_admins_edit_managers_read_agents_see_nothing(server: Server) -> None:
    admin, manager = await login(server, "boss"), await login(server, "mia", "manager")
    agent = await login(server, "al", "agent")
    assert (await call(server, "GET", "/api/admin/tone", agent)).status_code == 403
    listing = (await call(server, "GET", "/api/admin/tone", manager)).json()
    english = next(lang for lang in listing["languages"] if lang["lang"] == "en")
    assert english["rules"][0]["pattern"] == "you (will )?(need|have) to" and not english["edited"]
    for headers in (agent, manager, {}):
        refused = await call(server, "PUT", "/api/admin/tone/en", headers, {"rule": RULE})
        assert refused.status_code in (401, 403)
    other_site = {**admin, "Origin": "https://evil.example"}
    refused = await call(server, "PUT", "/api/admin/tone/en", other_site, {"rule": RULE})
    assert refused.status_code == 403
    assert RULE not in await served_rules(server, "en")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("you (need", "not a valid pattern"),
        ("(?P<who>you) must", "browsers do not read"),
        ("(you )?", "matches empty text"),
    ],
)
async def test_a_bad_pattern_gets_its_error_next_to_the_field_and_nothing_changes(
    server: Server, pattern: str, message: str
) -> None:
    admin = await login(server, "boss")
    before = await served_rules(server, "en")
    refused = await call(
        server, "PUT", "/api/admin/tone/en", admin, {"rule": {**RULE, "pattern": pattern}}
    )
    assert refused.status_code == 400
    assert message in refused.json()["fields"]["pattern"]
    empty = await call(server, "PUT", "/api/admin/tone/en", admin, {"rule": {"pattern": "x"}})
    assert empty.status_code == 400 and "suggestion" in empty.json()["fields"]
    assert await served_rules(server, "en") == before


async def test_add_edit_delete_and_restore_are_live_and_counted_by_the_server(
    server: Server,
) -> None:
    admin = await login(server, "boss")
    shipped = await served_rules(server, "de")
    added = await call(server, "PUT", "/api/admin/tone/de", admin, {"rule": RULE})
    assert added.status_code == 200, added.text
    assert (await served_rules(server, "de"))[-1] == RULE
    edited = {**RULE, "pattern": "auf keinen fall", "suggestion": "ich finde einen Weg"}
    index = len(shipped)
    response = await call(
        server, "PUT", "/api/admin/tone/de", admin, {"rule": edited, "index": index}
    )
    assert response.status_code == 200
    assert (await served_rules(server, "de"))[index] == edited

    # An agent writing in a German chat: the edited rule counts, sending is never held up.
    shopper = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await shopper.send(p.Hello(version=p.PROTOCOL_VERSION, locale="de-DE"))
    await shopper.expect("welcome")
    agent = await server.agent("al", languages=["de"])
    await shopper.send(p.SendMessage(client_id="s1", text="Hallo"))
    cid = (await agent.expect("conversation_assigned"))["conversation_id"]
    for n, text in enumerate(["Auf keinen Fall, leider.", "Wir schicken es heute."]):
        await agent.send(p.SendMessage(client_id=f"a{n}", text=text, conversation_id=cid))
        await agent.expect("ack", client_id=f"a{n}")
        await shopper.expect("message_posted", text=text)
    record = await server.hub.journal.get(cid)
    assert record.tone_flagged == 1 and record.tone_by_agent == {"al": [2, 1]}

    deleted = await call(server, "DELETE", f"/api/admin/tone/de/{index}", admin)
    assert deleted.status_code == 200 and await served_rules(server, "de") == shipped
    missing = await call(server, "DELETE", "/api/admin/tone/de/99", admin)
    assert missing.status_code == 404
    restored = await call(server, "DELETE", "/api/admin/tone/de", admin)
    languages = {lang["lang"]: lang for lang in restored.json()["languages"]}
    assert not languages["de"]["edited"] and languages["de"]["rules"] == shipped
    audit = (await call(server, "GET", "/api/admin/state", admin)).json()["audit"]
    assert audit[0]["what"] == "tone de: shipped rules"


async def test_a_new_language_gets_rules(server: Server) -> None:
    admin = await login(server, "boss")
    rule = {"pattern": "devi", "suggestion": "possiamo", "why": ""}
    assert (await call(server, "PUT", "/api/admin/tone/it", admin, {"rule": rule})).is_success
    assert await served_rules(server, "it-IT") == [rule]
    bad = await call(server, "PUT", "/api/admin/tone/../x", admin, {"rule": rule})
    assert bad.status_code in (400, 404)


@pytest.mark.redis
@pytest.mark.parametrize("backend_kind", ["redis"])
async def test_an_edit_through_one_worker_is_live_on_the_other(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    one, other = await start_server(), await start_server()
    admin = await login(one, "boss")
    assert (await call(one, "PUT", "/api/admin/tone/en", admin, {"rule": RULE})).is_success

    async def live_on_other() -> bool:
        return RULE in await served_rules(other, "en")

    await other.until(live_on_other)
    assert other.hub.chats.tone_check("There is no way, sorry.", "en")
