"""HTTP endpoints of the service playbook, and the tone rules in use on this worker.

The tone rules are the shipped files overridden by the shop's stored ``tone.<lang>.toml``
documents; :class:`ToneInUse` rebuilds them whenever the shop's configuration changes (on every
worker: ``LiveShop`` reloads on the bus's signal), so consoles and the server's count follow an
edit without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from chatserver.core.shop_config import LiveShop
from chatserver.faq import shop_docs
from chatserver.playbook.closings import closings_book
from chatserver.playbook.tone import Tone, ToneProblems, shipped

log = logging.getLogger("chatserver.web.playbook")


class ToneInUse:
    """This worker's tone rules, kept current with the shop's documents."""

    def __init__(self) -> None:
        self.tone = shipped()

    def follow(self, live: LiveShop) -> None:
        """Rebuild from the shop's documents (a ``LiveShop`` change listener)."""
        try:
            self.tone = Tone.from_documents(live.documents)
        except ToneProblems as exc:  # checked before storing: should not happen
            log.error("the stored tone rules do not load, the shipped ones apply: %s", exc)
            self.tone = shipped()

    def flagged(self, text: str, locale: str) -> bool:
        """Whether the shop's rules flag an agent's message (the hub's ``tone_check``)."""
        return self.tone.flagged(text, locale)


def build(documents: Mapping[str, str], target_s: float) -> shop_docs.Built:
    """``shop_docs.build``, refusing tone documents that do not load as well."""
    try:
        Tone.from_documents(documents)
    except ToneProblems as exc:
        raise shop_docs.ConfigProblems(list(exc.fields.items())) from exc
    return shop_docs.build(documents, target_s)


def _answer(body: str) -> Response:
    # Revalidated on each load: an edit on /admin shows in the next console that opens.
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})


async def tone_rules(request: Request) -> Response:
    """``GET /api/playbook/tone``: the tone coach's rules of every language (``?lang=de``: one)."""
    tone: Tone = request.app.state.tone.tone
    lang = request.query_params.get("lang")
    return _answer((tone.rules_for(lang[:35]) if lang else tone.book()).model_dump_json())


async def closings(request: Request) -> Response:
    """``GET /api/playbook/closings``: the closing messages by situation, every language."""
    return _answer(closings_book().model_dump_json())
