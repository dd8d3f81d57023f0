"""The frame models: one discriminated union per direction, clear errors, and the generated docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatserver.domain import protocol as p
from chatserver.domain.errors import FrameTooLarge, InvalidFrame
from chatserver.domain.protocol_doc import _members, render
from chatserver.web.connection import parse_frame

DOCS = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def test_docs_protocol_md_matches_the_models() -> None:
    assert DOCS.read_text() == render(), (
        "run: python -m chatserver.domain.protocol_doc > docs/protocol.md"
    )


@pytest.mark.parametrize("union", [p.ShopperFrame, p.AgentFrame, p.ServerFrame])
def test_every_frame_has_its_type_tag_by_default(union: object) -> None:
    for model in _members(union):
        tag = model.model_fields["type"].default
        assert isinstance(tag, str) and tag
        words = tag.split("_")
        assert model.__name__ == "".join(w.title() for w in words), model


def test_server_frames_round_trip_through_the_adapter() -> None:
    frame = p.MessagePosted(
        conversation_id="c1", seq=3, ts=1.5, author="agent", author_id="a", text="hi"
    )
    assert p.server_frame.validate_json(frame.model_dump_json()) == frame


def test_a_shopper_cannot_send_agent_frames() -> None:
    with pytest.raises(InvalidFrame, match="unknown frame type 'set_status'"):
        parse_frame(p.shopper_frame, '{"type": "set_status", "status": "online"}', 4096)


def test_size_limit_counts_bytes_not_characters() -> None:
    text = '{"type": "send_message", "client_id": "c", "text": "' + "€" * 1500 + '"}'
    assert len(text) < 4096 < len(text.encode())
    with pytest.raises(FrameTooLarge):
        parse_frame(p.shopper_frame, text, 4096)


def test_message_text_is_limited_on_the_model() -> None:
    with pytest.raises(InvalidFrame, match="'text'"):
        long_text = '{"type": "send_message", "client_id": "c", "text": "' + "x" * 2001 + '"}'
        parse_frame(p.shopper_frame, long_text, 10**6)
