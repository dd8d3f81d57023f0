"""``GET /api/reports/resolutions`` (JSON) and ``/api/reports/resolutions.csv``: after-sale
resolutions per problem type, their cost as a share of order value, and how often the cheapest
offer settled it (managers and admins; the same ``from``/``to`` days as the other reports)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatserver.reports import tables
from chatserver.reports.playbook import ResolutionReport, resolution_report, resolutions_table
from chatserver.reports.source import day_range, report_settings
from chatserver.web.reports_api import _dates, _manager, _Refused


async def _report(request: Request) -> ResolutionReport:
    hub = await _manager(request)
    zone = report_settings(hub.settings).time_zone
    today = datetime.fromtimestamp(hub.clock.now(), ZoneInfo(zone)).date()
    since, until = day_range(*_dates(request, today), zone)
    return await resolution_report(hub.store, since, until)


async def resolutions(request: Request) -> Response:
    try:
        report = await _report(request)
    except _Refused as refused:
        return refused.response
    return Response(report.model_dump_json(), media_type="application/json")


async def resolutions_csv(request: Request) -> Response:
    try:
        report = await _report(request)
    except _Refused as refused:
        return refused.response
    return Response(
        tables.to_csv(resolutions_table(report)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="resolutions.csv"'},
    )


def routes() -> list[BaseRoute]:
    """Before ``/api/reports/{table}.csv``, which would take ``resolutions.csv`` for its own."""
    return [
        Route("/api/reports/resolutions", resolutions),
        Route("/api/reports/resolutions.csv", resolutions_csv),
    ]
