"""Writes docs/protocol.md from the frame models, so the document cannot drift from the code.

Run ``python -m chatserver.domain.protocol_doc > docs/protocol.md`` after changing ``protocol.py``.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from chatserver.domain import protocol as p

HEADER = """# Wire protocol

Generated from `chatserver/domain/protocol.py` by `python -m chatserver.domain.protocol_doc`; a test checks it.

Every frame is one JSON text message with a `type`. Sockets: `/ws/shopper` (needs an allowed
`Origin`) and `/ws/agent` (needs the session token from `POST /api/login` in `hello`). The first
frame on either is `hello` with `"version": {version}` (version {oldest} is still served). Events stored in a conversation's log carry
`conversation_id`, `seq` (1, 2, 3, ... per conversation) and `ts` (server time, seconds since the
epoch); a client that reconnects sends the last `seq` it has per conversation (`last_seqs`,
`{{conversation_id: seq}}`; a shopper without them may send `last_seq`, for their latest
conversation) and receives every later event once, in order; a conversation it does not name is
sent from its start (a shopper's newer conversation, begun in another tab). A message carries a
`client_id`; sending it again returns the original `seq` in `ack` with `duplicate: true`.
A bad frame gets an `error` frame naming what was wrong; the socket stays open unless the error is
`unauthorized` (closed with 1008).
"""


def _members(union: Any) -> list[type[BaseModel]]:
    return list(typing.get_args(typing.get_args(union)[0]))


def _field(name: str, info: FieldInfo) -> str:
    required = "" if info.is_required() else " (optional)"
    return f"`{name}`{required}"


def _table(title: str, frames: Sequence[type[BaseModel]]) -> list[str]:
    lines = [f"## {title}", "", "| type | fields | what it is |", "|---|---|---|"]
    for model in frames:
        tag = model.model_fields["type"].default
        fields = ", ".join(_field(n, f) for n, f in model.model_fields.items() if n != "type")
        doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        lines.append(f"| `{tag}` | {fields or '-'} | {doc} |")
    return [*lines, ""]


def render() -> str:
    """The whole document."""
    shopper = _members(p.ShopperFrame)
    agent = _members(p.AgentFrame)
    server = _members(p.ServerFrame)
    stored = [m for m in server if issubclass(m, p.Event)]
    notices = [m for m in server if not issubclass(m, p.Event)]
    parts = [HEADER.format(version=p.PROTOCOL_VERSION, oldest=p.OLDEST_VERSION)]
    parts += _table("Shopper to server", shopper)
    parts += _table("Agent to server", agent)
    parts += _table("Server to client: stored events (have seq)", stored)
    parts += _table("Server to client: live notices (never replayed)", notices)
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
