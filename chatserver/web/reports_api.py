"""HTTP endpoints of the reports: JSON, CSV tables and the live state, for managers only.

``GET /api/reports?from=YYYY-MM-DD&to=YYYY-MM-DD`` the whole report (days in the shop's zone,
both included; default the last 7 days); ``GET /api/reports/{table}.csv`` one of its tables;
``GET /api/reports/live`` agents, chats and queue now; ``GET /api/reports/insight`` tone, effort
and products (tables ``tone``, ``effort``, ``products`` as CSV). Each needs ``Authorization: Bearer
<session token>`` of a manager or admin: 401 without a valid one, 403 for an agent.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from chatserver.core.hub import Hub
from chatserver.core.metrics import CONTENT_TYPE
from chatserver.domain.errors import Unauthorized
from chatserver.reports import tables
from chatserver.reports.compute import Yardstick
from chatserver.reports.insight import build_insight
from chatserver.reports.insight_models import InsightReport
from chatserver.reports.insight_tables import INSIGHT_TABLES
from chatserver.reports.models import Report
from chatserver.reports.source import build_report, day_range, live, report_settings
from chatserver.web.responses import error_response

READERS = ("manager", "admin")


class Refused(Exception):
    """A report request that is answered with an error (its ``response``)."""

    def __init__(self, status: int, message: str) -> None:
        self.response = error_response(status, message)


Endpoint = Callable[[Request], Awaitable[Response]]


def refusing(endpoint: Endpoint) -> Endpoint:
    """The endpoint, answering a ``Refused`` raised inside it with its error response."""

    @functools.wraps(endpoint)
    async def answer(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Refused as refused:
            return refused.response

    return answer


@dataclass(frozen=True)
class ReportRange:
    """What a report request asks for: the days' span in the shop's zone, read by a manager."""

    hub: Hub
    settings: Yardstick
    since: float
    until: float
    now: float


async def report_range(request: Request) -> ReportRange:
    """The request's manager-checked hub and its ``from``/``to`` days (default the last 7)."""
    hub = await _manager(request)
    settings = report_settings(hub.settings)
    now = hub.clock.now()
    today = datetime.fromtimestamp(now, ZoneInfo(settings.time_zone)).date()
    since, until = day_range(*_dates(request, today), settings.time_zone)
    return ReportRange(hub, settings, since, until, now)


async def _manager(request: Request) -> Hub:
    """The hub, once the request's bearer token names a manager or admin."""
    hub: Hub = request.app.state.hub
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "reports need 'Authorization: Bearer <token>' from /api/login")
    try:
        account, _ = await hub.accounts.session_account(hub.tokens, token.strip())
    except Unauthorized as exc:
        raise Refused(401, exc.message) from exc
    if account.role not in READERS:
        raise Refused(403, "reports are for managers and admins")
    return hub


def _dates(request: Request, today: date) -> tuple[date, date]:
    """The ``from`` and ``to`` days of a request (default: the last 7 days)."""
    try:
        last = date.fromisoformat(request.query_params.get("to") or today.isoformat())
        first = date.fromisoformat(
            request.query_params.get("from") or (last - timedelta(days=6)).isoformat()
        )
    except ValueError as exc:
        raise Refused(400, f"dates must be YYYY-MM-DD: {exc}") from exc
    if first > last:
        raise Refused(400, "'from' must not be after 'to'")
    if (last - first).days > 366:
        raise Refused(400, "a report covers at most 366 days")
    return first, last


async def _report(request: Request) -> Report:
    asked = await report_range(request)
    return await build_report(asked.hub.store, asked.settings, asked.since, asked.until, asked.now)


async def _insight(request: Request) -> InsightReport:
    asked = await report_range(request)
    return await build_insight(asked.hub.store, asked.since, asked.until, asked.settings.time_zone)


@refusing
async def insight(request: Request) -> Response:
    """``GET /api/reports/insight``: flagged tone, customer effort and products, as JSON."""
    result = await _insight(request)
    return Response(result.model_dump_json(), media_type="application/json")


@refusing
async def report(request: Request) -> Response:
    """``GET /api/reports``: the whole report as JSON."""
    result = await _report(request)
    return Response(result.model_dump_json(), media_type="application/json")


@refusing
async def table_csv(request: Request) -> Response:
    """``GET /api/reports/{table}.csv``: one table of the report as CSV."""
    name = request.path_params["table"]
    make, make_insight = tables.TABLES.get(name), INSIGHT_TABLES.get(name)
    if make is not None:
        table = make(await _report(request))
    elif make_insight is not None:
        table = make_insight(await _insight(request))
    else:
        names = ", ".join([*tables.TABLES, *INSIGHT_TABLES])
        raise Refused(404, f"no table {name!r}; tables: {names}")
    return Response(
        tables.to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@refusing
async def live_state(request: Request) -> Response:
    """``GET /api/reports/live``: agents online, chats open, queue and oldest wait now."""
    hub = await _manager(request)
    state = await live(hub.store, hub.clock.now())
    return Response(state.model_dump_json(), media_type="application/json")


async def metrics(request: Request) -> Response:
    """``GET /metrics``: Prometheus text (counts of every worker, live state from the store).

    With ``metrics_token`` set it needs ``Authorization: Bearer <that token>`` (401 otherwise);
    without, it is open to whoever reaches the port (the server says so at start).
    """
    hub: Hub = request.app.state.hub
    expected = hub.settings.metrics_token
    if expected:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            token.strip().encode(), expected.encode()
        ):
            return error_response(401, "/metrics needs 'Authorization: Bearer <metrics token>'")
    state = await live(hub.store, hub.clock.now())
    return Response(hub.metrics.render(state), media_type=CONTENT_TYPE)
