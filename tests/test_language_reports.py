"""Response times per shopper language: exact figures from a seeded store on both backends, in
the report's JSON, its CSV table and over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatserver.domain.conversation import Conversation
from chatserver.reports import tables
from chatserver.reports.models import Report
from chatserver.reports.source import build_report, day_range
from chatserver.store.base import Store
from chatserver.store.redis import RedisStore
from chatserver.store.sqlite import SQLiteStore
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests.conftest import Server
from tests.test_reports import MONDAY, NOW, SETTINGS, at, login


async def seed(backend: Store) -> None:
    """Six conversations on one Monday in four shopper languages (one from before it was kept)."""

    async def add(cid: str, created: float, language: str | None, **fields: Any) -> None:
        record = Conversation(
            id=cid,
            shop_id="kitebay",
            shopper_id=f"s-{cid}",
            created_at=created,
            queued_at=created,
            **fields,
        ).fields()
        if language is None:
            del record["language"]  # stored before the language was kept
        else:
            record["language"] = f'"{language}"'
        await backend.records.create(cid, f"s-{cid}", record)

    closed = {"status": "closed", "closed_by": "agent", "agent_id": "alice"}
    await add("d1", at(10), "de", first_response_s=20, response_times=[20, 50], closed_at=at(10, 30), **closed)  # fmt: skip
    await add("d2", at(11), "de-AT", first_response_s=40, response_times=[40], closed_at=at(11, 30), **closed)  # fmt: skip
    # Waited 90 s for a German speaker and left: a miss of both clocks.
    await add("d3", at(12), "de", clock_started=at(12), status="closed", closed_by="shopper",
              closed_at=at(12) + 90)  # fmt: skip
    await add("j1", at(13), "ja", first_response_s=70, response_times=[70], closed_at=at(13, 30), **closed)  # fmt: skip
    await add("z1", at(14), "zh-CN", first_response_s=5, response_times=[5, 65], closed_at=at(14, 30), **closed)  # fmt: skip
    await add("o1", at(9), None, first_response_s=10, response_times=[10], closed_at=at(9, 30), **closed)  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    prefix = unique_prefix()
    backend: Store = (
        SQLiteStore(tmp_path / "chat.sqlite3")
        if request.param == "sqlite"
        else RedisStore(REDIS_URL, prefix=prefix)
    )
    await backend.start()
    await seed(backend)
    yield backend
    await backend.close()
    if request.param == "redis":
        await drop_keys(prefix)


@pytest.fixture
async def report(store: Store) -> Report:
    since, until = day_range(MONDAY, MONDAY, "Europe/Berlin")
    return await build_report(store, SETTINGS, since, until, NOW)


def test_response_times_per_shopper_language(report: Report) -> None:
    rows = {row.key: row for row in report.response.by_language}
    assert list(rows) == ["(unknown)", "de", "ja", "zh"]  # "de-AT" is German, "zh-CN" Chinese
    german = rows["de"]
    assert german.first.model_dump() == {
        "count": 3, "answered": 2, "misses": 1, "within_target": 2,
        "p50_s": 20.0, "p90_s": 40.0, "max_s": 40.0, "share_within": 0.6667,
    }  # fmt: skip
    assert german.every.model_dump() == {
        "count": 4, "answered": 3, "misses": 1, "within_target": 3,
        "p50_s": 40.0, "p90_s": 50.0, "max_s": 50.0, "share_within": 0.75,
    }  # fmt: skip
    assert (rows["ja"].first.count, rows["ja"].first.within_target, rows["ja"].first.p50_s) == (
        1,
        0,
        70.0,
    )
    assert (rows["zh"].every.answered, rows["zh"].every.share_within, rows["zh"].every.max_s) == (
        2,
        0.5,
        65.0,
    )
    assert (rows["(unknown)"].first.count, rows["(unknown)"].first.p50_s) == (1, 10.0)


def test_the_languages_csv_table_carries_the_same_figures(report: Report) -> None:
    lines = tables.to_csv(tables.languages(report)).splitlines()
    header = lines[0].split(",")
    rows = {
        line.split(",")[0]: dict(zip(header, line.split(","), strict=True)) for line in lines[1:]
    }
    assert header[:2] == ["language", "first_count"]
    assert (rows["de"]["first_misses"], rows["de"]["first_share_within"]) == ("1", "0.6667")
    assert (rows["zh"]["every_p90_s"], rows["ja"]["first_share_within"]) == ("65.0", "0.0")


async def test_managers_get_the_languages_table_over_http(server: Server) -> None:
    await seed(server.hub.store)
    token = await login(server, "maria", "manager")
    headers = {"Authorization": f"Bearer {token}"}
    query = "from=2026-06-01&to=2026-06-01"
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        report = (await http.get(f"/api/reports?{query}")).json()
        csv = await http.get(f"/api/reports/languages.csv?{query}")
    by_language = {row["key"]: row for row in report["response"]["by_language"]}
    assert by_language["de"]["first"]["misses"] == 1
    assert csv.status_code == 200 and csv.text.splitlines()[2].startswith("de,3,2,1,2,20.0,40.0")
