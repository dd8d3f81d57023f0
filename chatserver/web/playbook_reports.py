"""``GET /api/reports/resolutions`` (JSON) and ``/api/reports/resolutions.csv``: after-sale
resolutions per problem type, their cost as a share of order value, and how often the cheapest
offer settled it (managers and admins; the same ``from``/``to`` days as the other reports)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatserver.reports import tables
from chatserver.reports.playbook import ResolutionReport, resolution_report, resolutions_table
from chatserver.web.reports_api import refusing, report_range


async def _report(request: Request) -> ResolutionReport:
    asked = await report_range(request)
    return await resolution_report(asked.hub.store, asked.since, asked.until)


@refusing
async def resolutions(request: Request) -> Response:
    report = await _report(request)
    return Response(report.model_dump_json(), media_type="application/json")


@refusing
async def resolutions_csv(request: Request) -> Response:
    report = await _report(request)
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
